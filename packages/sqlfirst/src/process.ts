/** Whether a process with this id runs on this machine (a leftover of a killed run, or not). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // it exists but belongs to another user
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
