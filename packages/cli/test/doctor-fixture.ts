import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

async function which(cmd: string): Promise<string> {
  return (await execa('sh', ['-c', `command -v ${cmd}`])).stdout.trim();
}

/** A PATH directory under `scratch` holding only the tools a test wants orch to find. */
export async function binDir(scratch: string, name: string, tools: string[]): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  for (const t of tools) await symlink(await which(t), join(dir, t));
  return dir;
}
