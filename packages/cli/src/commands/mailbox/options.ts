/** What `orch mailbox send` and `broadcast` take, and the inbox argument of the readers. */
import { arg, common, opt } from '../../define.js';
import { storeOption } from '../../options.js';

export const sendOptions = () => ({
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
  store: storeOption(),
  json: common.json('print the sent message as JSON'),
});

export function toSendOpts<T extends { task?: string | undefined }>(
  o: T,
): Omit<T, 'task'> & { blockedOn?: string } {
  const { task, ...rest } = o;
  return { ...rest, ...(task ? { blockedOn: task } : {}) };
}

export const inbox = () => arg.optional('inbox', 'a task id or supervisor (default: ORCH_TASK)');
