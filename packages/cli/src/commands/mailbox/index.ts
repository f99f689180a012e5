import { defineCommand } from '../../define.js';
import { broadcast } from './broadcast.js';
import { check } from './check.js';
import { history } from './history.js';
import { hook } from './hook.js';
import { peek } from './peek.js';
import { send } from './send.js';
import { watch } from './watch.js';

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
