/**
 * Ctrl-C and SIGTERM: what a run must undo before it exits. Stages register
 * cleanups while they hold something (a shadow database, the embedded server,
 * an open apply), and the CLI runs them on a signal, then exits with code 1.
 */
type Cleanup = () => Promise<void>;

const cleanups = new Set<Cleanup>();

/** Registers `cleanup` for an interrupted run; call the returned function once it is no longer needed. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Runs every registered cleanup, newest first, each bounded so a dead server cannot hang the exit. */
export async function runInterruptCleanups(timeoutMs = 10_000): Promise<void> {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([cleanup().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }
}
