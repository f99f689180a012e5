/**
 * Contract stubs (TypeScript interface, Python Protocol, Go interface) rendered from the templates
 * in `contracts-templates/`, each with a `Contract:` / `Version:` / `Generated:` header. The default
 * version is a hash of the contract's content without its header, so regenerating the same contract
 * gives the same version on any day and any commit.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { shippedRoot } from '../shipped.js';
import { fileURLToPath } from 'node:url';
import { ExitCode, OrchError } from '../errors.js';

export const CONTRACT_LANGS = ['ts', 'py', 'go'] as const;
export type ContractLang = (typeof CONTRACT_LANGS)[number];

const TEMPLATE_FILES: Record<ContractLang, string> = {
  ts: 'typescript.ts.tmpl',
  py: 'python.py.tmpl',
  go: 'go.go.tmpl',
};

/** The `contracts-templates/` folder orch ships (in the package, or the working copy's root). */
export const contractTemplatesDir = (): string =>
  join(shippedRoot(dirname(fileURLToPath(import.meta.url))), 'contracts-templates');

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface RenderContractInput {
  name: string;
  methods: string[];
  lang: ContractLang;
  version?: string;
  /** Template text; default: the file for `lang` in contracts-templates/. */
  template?: string;
  /** Timestamp for the `Generated:` line; default now. */
  generated?: Date;
}

export interface ContractHeader {
  contract?: string;
  version?: string;
  generated?: string;
}

const HEADER_LINE = /^\W*(Contract|Version|Generated):[ \t]*(.*?)[ \t]*(\*\/|""")?[ \t]*$/;
const HEADER_SCAN_LINES = 20;

/** Reads `Contract:`, `Version:` and `Generated:` from the first lines of a contract file. */
export function readContractHeader(text: string): ContractHeader | undefined {
  const out: ContractHeader = {};
  let found = false;
  for (const line of text.split(/\r?\n/).slice(0, HEADER_SCAN_LINES)) {
    const m = HEADER_LINE.exec(line);
    if (!m) continue;
    const key = (m[1] as string).toLowerCase() as keyof ContractHeader;
    if (out[key] === undefined) {
      out[key] = m[2] as string;
      found = true;
    }
  }
  return found ? out : undefined;
}

/** A stable version for a contract: SHA-256 (12 hex digits) of its text without the header lines. */
export function contractVersion(content: string): string {
  const seen = new Set<string>();
  const lines = content.split(/\r?\n/).filter((line, i) => {
    if (i >= HEADER_SCAN_LINES) return true;
    const m = HEADER_LINE.exec(line);
    if (!m || seen.has(m[1] as string)) return true;
    seen.add(m[1] as string);
    return false;
  });
  const body = lines
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();
  // node:crypto on first use: `orch plan check` loads this module, and most plans have no contract.
  const { createHash } = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(body).digest('hex').slice(0, 12);
}

function loadTemplate(lang: ContractLang): string {
  try {
    return readFileSync(join(contractTemplatesDir(), TEMPLATE_FILES[lang]), 'utf8');
  } catch (e) {
    throw new OrchError(
      'ERR_ORCH_TEMPLATE_MISSING',
      `contract template ${TEMPLATE_FILES[lang]} is missing from contracts-templates/`,
      {
        hint: 'Reinstall orch; the templates ship with it.',
        cause: e,
      },
    );
  }
}

/**
 * Renders a contract. Template syntax: `{{name}}`, `{{version}}`, `{{generated}}`, and a
 * `{{#methods}}…{{method}}…{{/methods}}` block repeated per method.
 */
export function renderContract(input: RenderContractInput): { content: string; version: string } {
  if (!(CONTRACT_LANGS as readonly string[]).includes(input.lang)) {
    throw new OrchError('ERR_ORCH_USAGE', `unknown contract language ${JSON.stringify(input.lang)}`, {
      hint: `Use one of: ${CONTRACT_LANGS.join(', ')}.`,
      exitCode: ExitCode.Usage,
    });
  }
  for (const id of [input.name, ...input.methods]) {
    if (!IDENT.test(id)) {
      throw new OrchError(
        'ERR_ORCH_USAGE',
        `${JSON.stringify(id)} is not a valid identifier for a contract or method name`,
        {
          hint: 'Use letters, digits and _ (not starting with a digit), e.g. CalculatorProtocol add subtract.',
          exitCode: ExitCode.Usage,
        },
      );
    }
  }
  if (input.methods.length === 0) {
    throw new OrchError('ERR_ORCH_USAGE', 'a contract needs at least one method', {
      exitCode: ExitCode.Usage,
    });
  }
  if (input.version !== undefined && !/^[\w.+-]{1,64}$/.test(input.version)) {
    throw new OrchError('ERR_ORCH_USAGE', `version ${JSON.stringify(input.version)} is not allowed`, {
      hint: 'Use letters, digits, ".", "_", "+" or "-", e.g. 1.0.0.',
      exitCode: ExitCode.Usage,
    });
  }
  const template = input.template ?? loadTemplate(input.lang);
  const fill = (version: string, generated: string): string =>
    template
      .replace(/\{\{#methods\}\}\r?\n?([\s\S]*?)\{\{\/methods\}\}\r?\n?/g, (_, block: string) =>
        input.methods.map((m) => block.replaceAll('{{method}}', m)).join(''),
      )
      .replaceAll('{{name}}', input.name)
      .replaceAll('{{version}}', version)
      .replaceAll('{{generated}}', generated);
  const generated = (input.generated ?? new Date()).toISOString();
  const version = input.version ?? contractVersion(fill('', ''));
  return { content: fill(version, generated), version };
}
