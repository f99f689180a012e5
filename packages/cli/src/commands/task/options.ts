import { common } from '../../define.js';
import { storeOption } from '../../options.js';

/** What every `orch task` report takes: which run and task, and --json. */
export const reportOptions = () => ({
  run: common.run(),
  task: common.task(),
  store: storeOption(),
  json: common.json('print the recorded event as JSON'),
});
