/** Options shared by the commands that read or write a run wherever it is kept. */
import { opt, type OptionSpec } from './define.js';

/** `--store <url>`: the Redis store of a distributed run (the config's `store.url` otherwise). */
export const storeOption = (): OptionSpec<string, false> =>
  opt.text(
    '--store <url>',
    "a distributed run's Redis store, redis://HOST:PORT/DB (default: config store.url; password: ORCH_REDIS_PASSWORD or ORCH_REDIS_PASSWORD_FILE)",
  );
