import { arg, common, defineCommand, opt } from '../../define.js';

const sendOptions = () => ({
  from: opt.text(
    '--from <id>',
    'sender (default: ORCH_TASK, else "user"; a worker may name only its own task)',
  ),
  type: opt.textWithDefault(
    '--type <type>',
    'info | interface-changed | blocked-on | needs-decision',
    'info',
  ),
  target: opt.text('--target <name>', 'interface-changed: the contract or file that changed'),
  task: opt.text('--task <id>', 'blocked-on: the task the sender waits for'),
  question: opt.text('--question <text>', 'needs-decision: the question (default: the message)'),
  run: common.run(),
  json: common.json('print the sent message as JSON'),
});

function toSendOpts<T extends { task?: string | undefined }>(o: T): Omit<T, 'task'> & { blockedOn?: string } {
  const { task, ...rest } = o;
  return { ...rest, ...(task ? { blockedOn: task } : {}) };
}

const inbox = () => arg.optional('inbox', 'a task id or supervisor (default: ORCH_TASK)');

const send = defineCommand({
  name: 'send',
  description: 'Send a message to a task, to `supervisor`, or to `all`',
  args: {
    to: arg.required('to', 'a task id of the run, supervisor, or all'),
    message: arg.required('message', 'the message text'),
  },
  options: sendOptions(),
  examples: [
    'orch mailbox send ui "GET /users now returns {items, next}" --type interface-changed --target contracts/users.yaml',
  ],
  async handler({ args, opts }) {
    const { sendCommand } = await import('./messages.js');
    return { exitCode: await sendCommand(args.to, args.message, toSendOpts(opts)) };
  },
});

const broadcast = defineCommand({
  name: 'broadcast',
  description: 'Send a message to every task and the supervisor (never back to the sender)',
  args: { message: arg.required('message', 'the message text') },
  options: sendOptions(),
  examples: ['orch mailbox broadcast "use the Result type from src/result.ts for errors"'],
  async handler({ args, opts }) {
    const { broadcastCommand } = await import('./messages.js');
    return { exitCode: await broadcastCommand(args.message, toSendOpts(opts)) };
  },
});

const check = defineCommand({
  name: 'check',
  description: 'Print unread messages of an inbox and mark them read',
  args: { inbox: inbox() },
  options: { run: common.run(), json: common.json('print the messages as JSON') },
  examples: ['orch mailbox check api --json'],
  async handler({ args, opts }) {
    const { checkCommand } = await import('./messages.js');
    return { exitCode: await checkCommand(args.inbox, opts) };
  },
});

const peek = defineCommand({
  name: 'peek',
  description: 'Print the number of unread messages; marks nothing read',
  args: { inbox: inbox() },
  options: { run: common.run(), json: common.json('print {inbox, unread} as JSON') },
  examples: ['orch mailbox peek supervisor'],
  async handler({ args, opts }) {
    const { peekCommand } = await import('./messages.js');
    return { exitCode: await peekCommand(args.inbox, opts) };
  },
});

const watch = defineCommand({
  name: 'watch',
  description: 'Print messages of an inbox as they arrive (marks them read), until Ctrl-C',
  args: { inbox: inbox() },
  options: {
    keepUnread: opt.flag('--keep-unread', 'only watch: leave the messages unread for their recipient'),
    run: common.run(),
    json: common.json('print one JSON message per line'),
  },
  examples: ['orch mailbox watch supervisor --keep-unread'],
  async handler({ args, opts }) {
    const { watchCommand } = await import('./messages.js');
    return { exitCode: await watchCommand(args.inbox, opts) };
  },
});

const history = defineCommand({
  name: 'history',
  description: 'Print every message of the run, oldest first',
  options: { run: common.run(), json: common.json('print the messages as JSON') },
  examples: ['orch mailbox history --json'],
  async handler({ opts }) {
    const { historyCommand } = await import('./messages.js');
    return { exitCode: await historyCommand(opts) };
  },
});

const hook = defineCommand({
  name: 'hook',
  description:
    'Claude Code hook: add unread messages of ORCH_TASK to the agent context (reads hook JSON on stdin)',
  help: 'Used from a --settings file (PostToolUse and UserPromptSubmit); prints nothing when there is nothing new.',
  examples: [`echo '{"hook_event_name":"PostToolUse"}' | ORCH_TASK=api orch mailbox hook`],
  async handler() {
    const { hookCommand } = await import('./messages.js');
    return { exitCode: await hookCommand() };
  },
});

export const mailbox = defineCommand({
  name: 'mailbox',
  description: 'Send and read messages between workers, the supervisor and you, during a run',
  examples: [
    'orch mailbox send api "please keep /users paginated" --from ui',
    'orch mailbox check ui',
    'orch mailbox history --json',
  ],
  subcommands: [send, broadcast, check, peek, watch, history, hook],
});
