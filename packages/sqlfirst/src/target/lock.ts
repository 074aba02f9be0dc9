import { SqlfirstError } from '../errors.js';
import { keepHolding, openClient } from './connect.js';
import type { ConnectionTarget } from './url.js';

/** A fixed advisory-lock key ("sqlfirst" as a 32-bit number); the lock is per database. */
const APPLY_LOCK_KEY = 0x5ac1f125;
const RETRY_EVERY_MS = 250;

export interface ApplyLock {
  release(): Promise<void>;
}

/**
 * Takes the database's sqlfirst advisory lock on a connection of its own, so
 * two applies against the same database never interleave. Waits up to
 * `waitMs` for another run to finish, then fails with one sentence.
 */
export async function acquireApplyLock(target: ConnectionTarget, waitMs: number): Promise<ApplyLock> {
  const client = openClient(target);
  await client.connect();
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [APPLY_LOCK_KEY]);
      if (rows[0].locked) break;
      if (Date.now() >= deadline) {
        const holder = await client.query<{ pid: number; application_name: string }>(
          `SELECT a.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1`,
          [APPLY_LOCK_KEY],
        );
        const who = holder.rows[0] ? ` (server process ${holder.rows[0].pid})` : '';
        throw new SqlfirstError(
          `Another sqlfirst apply is running against "${target.database}" on ${target.host}:${target.port}${who} and did not finish within ${Math.round(waitMs / 1000)} s; nothing was applied, run again when it is done.`,
          { step: 'lock' },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
    }
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  const stopHeartbeat = await keepHolding(client);
  return {
    async release() {
      stopHeartbeat();
      await client.query('SELECT pg_advisory_unlock($1)', [APPLY_LOCK_KEY]).catch(() => {});
      await client.end().catch(() => {});
    },
  };
}
