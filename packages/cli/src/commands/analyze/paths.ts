import { resolve } from 'node:path';

/** A `--config` file named relative to the command's working folder. */
export function configPath(cwd: string, given: string | undefined): string | undefined {
  return given === undefined ? undefined : resolve(cwd, given);
}
