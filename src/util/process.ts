/**
 * Whether a process with this pid exists on this host. A pid we may not signal (EPERM) still exists;
 * anything that is not a positive integer does not.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
