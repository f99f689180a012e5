import { common, opt } from '../../define.js';
import { storeOption } from '../../options.js';

/** What `orch dashboard` and `orch workers` both take. */
export const viewOptions = (json: string) => ({
  run: common.run(),
  store: storeOption(),
  once: opt.flag('--once', 'print one plain frame and exit (also the behaviour without a terminal)'),
  json: common.json(json),
  panes: opt.choice(
    '--panes <source>',
    'where worker output comes from: worker logs, or tmux capture-pane',
    ['log', 'tmux'],
    'log',
  ),
});
