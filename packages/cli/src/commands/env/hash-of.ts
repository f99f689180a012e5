/** The environment hash of the repository around `cwd`: every tracked lockfile. */
export async function currentEnvHash(cwd: string): Promise<{ hash: string; lockfiles: string[] }> {
  const { envHashFromFiles } = await import('@orch/core');
  const { checkoutRoot } = await import('@orch/store');
  const { trackedFiles } = await import('@orch/engine');
  const root = await checkoutRoot(cwd);
  return envHashFromFiles(root, await trackedFiles(root));
}
