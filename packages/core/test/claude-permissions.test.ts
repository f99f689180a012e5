import { describe, expect, it } from 'vitest';
import { mergeAllowRules, orchPermissionRules, registersOrchMcp } from '../src/claude/permissions.js';

const rules = orchPermissionRules({ mcp: true });

describe('the permission rules orch install grants', () => {
  it('is the orch CLI, and the orch MCP tools only when the project registers the server', () => {
    expect(orchPermissionRules({ mcp: false })).toEqual(['Bash(orch:*)']);
    expect(rules).toEqual(['Bash(orch:*)', 'mcp__orch']);
    expect(registersOrchMcp('{"mcpServers":{"orch":{"command":"orch","args":["mcp"]}}}')).toBe(true);
    expect(registersOrchMcp('{"mcpServers":{"other":{}}}')).toBe(false);
    expect(registersOrchMcp('not json')).toBe(false);
  });
});

describe('mergeAllowRules', () => {
  it('creates a settings file with only the rules when there is none', () => {
    const r = mergeAllowRules(null, rules, 'settings.json');
    expect(r.added).toEqual(rules);
    expect(JSON.parse(r.text)).toEqual({ permissions: { allow: rules } });
    expect(r.text.endsWith('}\n')).toBe(true);
  });

  it('appends only the missing rules and keeps every other key and rule in place', () => {
    const current = JSON.stringify({
      env: { A: '1' },
      permissions: { allow: ['Read', 'Bash(orch:*)'], ask: ['Bash(git push:*)'], defaultMode: 'plan' },
      model: 'opus',
    });
    const r = mergeAllowRules(current, rules, 'settings.json');
    expect(r.added).toEqual(['mcp__orch']);
    const next = JSON.parse(r.text) as Record<string, unknown>;
    expect(Object.keys(next)).toEqual(['env', 'permissions', 'model']);
    expect(next['permissions']).toEqual({
      allow: ['Read', 'Bash(orch:*)', 'mcp__orch'],
      ask: ['Bash(git push:*)'],
      defaultMode: 'plan',
    });
  });

  it('returns the text unchanged when every rule is there, or the user denied or asks for it', () => {
    const current = '{"permissions":{"allow":["mcp__orch"],"deny":["Bash(orch:*)"]}}';
    expect(mergeAllowRules(current, rules, 'settings.json')).toEqual({ text: current, added: [] });
  });

  it.each([
    ['not JSON', '{ allow: [] }', /not valid JSON/],
    ['not an object', '[]', /not a JSON object/],
    ['permissions not an object', '{"permissions":[]}', /`permissions` that is not an object/],
    ['allow not a list of strings', '{"permissions":{"allow":[1]}}', /permissions\.allow/],
    ['deny not a list', '{"permissions":{"deny":"x"}}', /permissions\.deny/],
  ])('refuses a file that is %s', (_label, text, message) => {
    expect(() => mergeAllowRules(text, rules, '/p/.claude/settings.json')).toThrow(
      expect.objectContaining({ code: 'ERR_ORCH_SETTINGS_INVALID', message: expect.stringMatching(message) }),
    );
  });
});
