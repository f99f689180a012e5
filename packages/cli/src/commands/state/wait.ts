import { common, defineCommand, opt, parse } from '../../define.js';
import { storeOption } from '../../options.js';

export const wait = defineCommand({
  name: 'wait',
  description: 'Wait until a run finishes or the timeout passes',
  options: {
    run: common.run(),
    store: storeOption(),
    timeout: opt.parsedWithDefault(
      '--timeout <seconds>',
      'give up waiting after this many seconds (default 540)',
      parse.seconds,
      540,
    ),
    json: common.json('print the state as JSON'),
  },
  examples: [
    'orch wait --timeout 540 || echo "not finished yet"',
    'orch wait --store redis://10.0.0.5:6379/0 --json',
  ],
  async handler({ opts }, io) {
    const { waitCommand } = await import('./status-view.js');
    return waitCommand(opts, io);
  },
});
