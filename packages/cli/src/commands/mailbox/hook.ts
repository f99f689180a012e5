import { defineCommand } from '../../define.js';

export const hook = defineCommand({
  name: 'hook',
  description:
    'Claude Code hook: add unread messages of ORCH_TASK to the agent context (reads hook JSON on stdin)',
  help: 'Used from a --settings file (PostToolUse and UserPromptSubmit); prints nothing when there is nothing new.',
  examples: [`echo '{"hook_event_name":"PostToolUse"}' | ORCH_TASK=api orch mailbox hook`],
  async handler(_input, io) {
    const { hookCommand } = await import('./messages.js');
    return hookCommand(io);
  },
});
