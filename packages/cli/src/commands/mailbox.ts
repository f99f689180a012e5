import type { Command } from 'commander';

interface RunFlags {
  run?: string;
  task?: string;
  json: boolean;
}
interface SendFlags {
  run?: string;
  from?: string;
  type?: string;
  target?: string;
  task?: string;
  question?: string;
  json: boolean;
}

function sendOptions(cmd: Command): Command {
  return cmd
    .option('--from <id>', 'sender (default: ORCH_TASK, else "user"; a worker may name only its own task)')
    .option('--type <type>', 'info | interface-changed | blocked-on | needs-decision', 'info')
    .option('--target <name>', 'interface-changed: the contract or file that changed')
    .option('--task <id>', 'blocked-on: the task the sender waits for')
    .option('--question <text>', 'needs-decision: the question (default: the message)')
    .option('--run <id>', 'the run (default: ORCH_RUN, else the current run)')
    .option('--json', 'print the sent message as JSON', false);
}

function toSendOpts(o: SendFlags): Record<string, unknown> {
  const { task, ...rest } = o;
  return { ...rest, ...(task ? { blockedOn: task } : {}) };
}

function readOptions(cmd: Command, json: string): Command {
  return cmd
    .option('--run <id>', 'the run (default: ORCH_RUN, else the current run)')
    .option('--json', json, false);
}

export function register(program: Command): void {
  const mailbox = program
    .command('mailbox')
    .description('Send and read messages between workers, the supervisor and you, during a run')
    .addHelpText(
      'after',
      '\nExamples:\n  $ orch mailbox send api "please keep /users paginated" --from ui\n  $ orch mailbox check ui\n  $ orch mailbox history --json',
    );

  sendOptions(
    mailbox
      .command('send')
      .description('Send a message to a task, to `supervisor`, or to `all`')
      .argument('<to>', 'a task id of the run, supervisor, or all')
      .argument('<message>', 'the message text'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ orch mailbox send ui "GET /users now returns {items, next}" --type interface-changed --target contracts/users.yaml',
    )
    .action(async (to: string, message: string, o: SendFlags) => {
      const { sendCommand } = await import('../store-cmds/mailbox.js');
      process.exitCode = await sendCommand(to, message, toSendOpts(o));
    });

  sendOptions(
    mailbox
      .command('broadcast')
      .description('Send a message to every task and the supervisor (never back to the sender)')
      .argument('<message>', 'the message text'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ orch mailbox broadcast "use the Result type from src/result.ts for errors"',
    )
    .action(async (message: string, o: SendFlags) => {
      const { broadcastCommand } = await import('../store-cmds/mailbox.js');
      process.exitCode = await broadcastCommand(message, toSendOpts(o));
    });

  readOptions(
    mailbox
      .command('check')
      .description('Print unread messages of an inbox and mark them read')
      .argument('[inbox]', 'a task id or supervisor (default: ORCH_TASK)'),
    'print the messages as JSON',
  )
    .addHelpText('after', '\nExample:\n  $ orch mailbox check api --json')
    .action(async (inbox: string | undefined, o: RunFlags) => {
      const { checkCommand } = await import('../store-cmds/mailbox.js');
      process.exitCode = await checkCommand(inbox, o);
    });

  readOptions(
    mailbox
      .command('peek')
      .description('Print the number of unread messages; marks nothing read')
      .argument('[inbox]', 'a task id or supervisor (default: ORCH_TASK)'),
    'print {inbox, unread} as JSON',
  )
    .addHelpText('after', '\nExample:\n  $ orch mailbox peek supervisor')
    .action(async (inbox: string | undefined, o: RunFlags) => {
      const { peekCommand } = await import('../store-cmds/mailbox.js');
      process.exitCode = await peekCommand(inbox, o);
    });

  readOptions(
    mailbox
      .command('watch')
      .description('Print messages of an inbox as they arrive (marks them read), until Ctrl-C')
      .argument('[inbox]', 'a task id or supervisor (default: ORCH_TASK)')
      .option('--keep-unread', 'only watch: leave the messages unread for their recipient', false),
    'print one JSON message per line',
  )
    .addHelpText('after', '\nExample:\n  $ orch mailbox watch supervisor --keep-unread')
    .action(async (inbox: string | undefined, o: RunFlags & { keepUnread: boolean }) => {
      const { watchCommand } = await import('../store-cmds/mailbox.js');
      process.exitCode = await watchCommand(inbox, o);
    });

  readOptions(
    mailbox.command('history').description('Print every message of the run, oldest first'),
    'print the messages as JSON',
  )
    .addHelpText('after', '\nExample:\n  $ orch mailbox history --json')
    .action(async (o: RunFlags) => {
      const { historyCommand } = await import('../store-cmds/mailbox.js');
      process.exitCode = await historyCommand(o);
    });

  mailbox
    .command('hook')
    .description(
      'Claude Code hook: add unread messages of ORCH_TASK to the agent context (reads hook JSON on stdin)',
    )
    .addHelpText(
      'after',
      '\nUsed from a --settings file (PostToolUse and UserPromptSubmit); prints nothing when there is nothing new.\n\nExample:\n  $ echo \'{"hook_event_name":"PostToolUse"}\' | ORCH_TASK=api orch mailbox hook',
    )
    .action(async () => {
      const { hookCommand } = await import('../store-cmds/mailbox.js');
      process.exitCode = await hookCommand();
    });
}
