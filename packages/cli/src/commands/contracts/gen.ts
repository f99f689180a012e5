import { dirname, resolve } from 'node:path';
import { arg, common, defineCommand, opt } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const gen = defineCommand({
  name: 'gen',
  description: 'Render a contract stub (TypeScript interface, Python Protocol or Go interface)',
  args: {
    name: arg.required('Name', 'the contract (interface) name'),
    methods: arg.variadic('method', 'method names'),
  },
  options: {
    lang: opt.requiredText('--lang <lang>', 'ts, py or go'),
    output: opt.text('-o, --output <file>', 'write to this file instead of stdout'),
    version: opt.text('--version <v>', 'version in the header (default: a hash of the content)'),
    json: common.json('print {name, lang, version, path, content} as JSON'),
  },
  examples: ['orch contracts gen CalculatorProtocol add subtract --lang py -o contracts/calculator.py'],
  async handler({ args, opts }, { cwd, stdout }) {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const { OrchError, renderContract } = await import('@orch/core');
    const { name, methods } = args;
    const { content, version } = renderContract({
      name,
      methods,
      lang: opts.lang as Parameters<typeof renderContract>[0]['lang'],
      ...(opts.version !== undefined ? { version: opts.version } : {}),
    });
    if (opts.output !== undefined) {
      const out = resolve(cwd, opts.output);
      try {
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, content);
      } catch (e) {
        throw new OrchError(
          'ERR_ORCH_WRITE_FAILED',
          `cannot write ${opts.output}: ${e instanceof Error ? e.message : String(e)}`,
          { hint: 'Choose a writable path for -o.' },
        );
      }
    }
    if (opts.json)
      return {
        exitCode: ExitCode.Ok,
        json: { name, lang: opts.lang, version, path: opts.output ?? null, content },
      };
    if (opts.output !== undefined)
      return { exitCode: ExitCode.Ok, lines: [`✓ Contract written to ${opts.output} (version ${version})`] };
    // The stub itself, byte for byte (its own final newline).
    stdout.write(content);
    return { exitCode: ExitCode.Ok };
  },
});
