/**
 * The shadow stage: a throwaway empty database on the target's own server (or
 * on --dev-url) into which schema.sql is loaded, so that PostgreSQL itself
 * tells us what the file means.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { SqlfirstError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { loadState, LoadError, type LoadFailure, type SchemaState } from '../engine/index.js';
import { formatMs } from '../report/index.js';
import { connectionError, keepHolding, openPool } from '../target/connect.js';
import { parseTarget, withDatabase, type ConnectionTarget } from '../target/url.js';
import type { SchemaFile } from './read.js';
import { firstLine } from '../text.js';
import { RUN_ID } from '../run-id.js';

export { readSchemaFiles, type ReadOptions, type SchemaFile } from './read.js';

export const SHADOW_PREFIX = 'sqlfirst_shadow_';
/** longest a single schema statement may run in the shadow */
const SHADOW_STATEMENT_TIMEOUT_MS = 120_000;
/** a shadow whose creator we cannot check is stale after this long */
const STALE_AFTER_MS = 60 * 60 * 1000;

export interface Shadow {
  target: ConnectionTarget;
  /** the server it lives on */
  server: ConnectionTarget;
  pool: Pool;
  /** drops the shadow database; safe to call twice */
  drop(): Promise<void>;
}

/**
 * A fresh empty database on `server`, after removing shadows that crashed
 * runs left. While the shadow exists, its run holds an advisory lock (on a
 * connection of its own) that names it: a shadow whose lock nobody holds
 * belongs to a run that is gone, whatever host or pid namespace it ran in.
 */
export async function createShadow(server: ConnectionTarget, connectTimeoutMs?: number): Promise<Shadow> {
  const admin = openPool(server, { connectTimeoutMs });
  const name = `${SHADOW_PREFIX}${RUN_ID}_${(shadowCounter++).toString(36)}_${Date.now().toString(36)}`;
  let holder: PoolClient | undefined;
  let stopHeartbeat = () => {};
  try {
    holder = await admin.connect();
    await holder.query('SELECT pg_advisory_lock($1, $2)', [SHADOW_LOCK_CLASS, shadowLockKey(name)]);
    stopHeartbeat = await keepHolding(holder);
    await removeStaleShadows(admin);
    await admin.query(`CREATE DATABASE "${name}"`);
  } catch (error) {
    stopHeartbeat();
    holder?.release(true);
    await admin.end().catch(() => {});
    throw shadowError(error, server);
  }
  const target = parseTarget(withDatabase(server.url, name), 'shadow database URL');
  // a schema file that runs forever (pg_sleep, a huge DO loop) must not hang the run
  const pool = openPool(target, { connectTimeoutMs, statementTimeoutMs: SHADOW_STATEMENT_TIMEOUT_MS });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    forget();
    // FORCE ends the shadow's sessions, busy ones included, before the pool waits for them; a drop
    // cut short (an interrupt ends every session of the run) is tried once more on a new connection
    const dropDatabase = () => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await dropDatabase().catch(dropDatabase).catch(() => {});
    await pool.end().catch(() => {});
    stopHeartbeat();
    holder!.release(true);
    await admin.end().catch(() => {});
  };
  const forget = onInterrupt(drop);
  return { target, server, pool, drop };
}

/**
 * Shadows made ahead of need, for a loop that loads the schema again and
 * again (`dev`): the next save finds its empty database ready instead of
 * waiting for CREATE DATABASE. A spare stays owned (its advisory lock held)
 * while it waits; one older than SPARE_MAX_AGE_MS is replaced, since other
 * runs drop shadows over an hour old whatever their lock says.
 */
export class ShadowSupply {
  private spare?: { server: string; made: number; shadow: Promise<Shadow> };
  private last?: { server: ConnectionTarget; connectTimeoutMs?: number };

  /** An empty shadow on `server`: the spare when it is for that server and fresh, else a new one. */
  async take(server: ConnectionTarget, connectTimeoutMs?: number): Promise<Shadow> {
    this.last = { server, connectTimeoutMs };
    const spare = this.spare;
    this.spare = undefined;
    if (spare && spare.server === server.url && Date.now() - spare.made < SPARE_MAX_AGE_MS) {
      const ready = await spare.shadow.catch(() => undefined);
      if (ready) return ready;
    } else if (spare) {
      void spare.shadow.then((unused) => unused.drop(), () => {});
    }
    return createShadow(server, connectTimeoutMs);
  }

  /** Starts making the next spare on the server of the last take (call it when the loop is idle). */
  refill(): void {
    if (this.spare || !this.last) return;
    const shadow = createShadow(this.last.server, this.last.connectTimeoutMs);
    // a spare that cannot be made is not an error yet: the next take makes its own
    shadow.catch(() => {});
    this.spare = { server: this.last.server.url, made: Date.now(), shadow };
  }

  /** Drops the spare, if any. */
  async close(): Promise<void> {
    const spare = this.spare;
    this.spare = undefined;
    await spare?.shadow.then((unused) => unused.drop(), () => {});
  }
}

/** a spare shadow older than this is made again (well inside STALE_AFTER_MS) */
const SPARE_MAX_AGE_MS = 10 * 60 * 1000;

/** advisory-lock class of shadow ownership ("sqlfirst shadow") */
export const SHADOW_LOCK_CLASS = 0x5ac1f126;
let shadowCounter = 0;

/** The lock key a shadow's name stands for (a 32-bit hash of the name). */
export function shadowLockKey(name: string): number {
  return createHash('sha256').update(name).digest().readInt32BE(0);
}

/** Drops shadows whose run holds no lock on them any more (crashed runs), and any over an hour old. */
export async function removeStaleShadows(admin: Pick<Pool, 'query'>): Promise<string[]> {
  const stale = await staleShadows(admin);
  for (const name of stale) {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
  }
  return stale;
}

/** Shadows on the server that no live run owns. */
export async function staleShadows(admin: Pick<Pool, 'query'>): Promise<string[]> {
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${SHADOW_PREFIX.replace(/_/g, '\\_')}%`]);
  const held = await heldShadowLocks(admin);
  return rows.map((r) => r.datname).filter((name) => isStale(name, held));
}

/** The shadow-ownership lock keys some session holds, on any database of the server. */
async function heldShadowLocks(admin: Pick<Pool, 'query'>): Promise<Set<number>> {
  const { rows } = await admin.query<{ key: number }>(
    "SELECT objid::bigint AS key FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1::bigint::oid",
    [SHADOW_LOCK_CLASS],
  );
  return new Set(rows.map((r) => Number(r.key) | 0));
}

function isStale(name: string, held: Set<number>): boolean {
  const match = new RegExp(`^${SHADOW_PREFIX}[0-9a-f]{8}_[0-9a-z]+_([0-9a-z]+)$`).exec(name);
  if (!match) return false;
  if (Date.now() - parseInt(match[1], 36) > STALE_AFTER_MS) return true;
  return !held.has(shadowLockKey(name));
}

function shadowError(error: unknown, server: ConnectionTarget): SqlfirstError {
  const code = (error as { code?: string }).code;
  if (code === '42501') {
    return new SqlfirstError(
      `User "${server.user}" may not create databases on ${server.host}:${server.port}, which sqlfirst needs for its temporary shadow database; grant CREATEDB to the user or pass --dev-url with a server where it may.`,
      { cause: error, step: 'shadow' },
    );
  }
  const translated = connectionError(error, server);
  return new SqlfirstError(translated.message, { cause: error, step: 'shadow' });
}

/** Loads the schema files into the shadow and reads the schema they make; a failure names file and line. */
export async function loadSchema(files: SchemaFile[], shadow: Shadow): Promise<SchemaState> {
  try {
    return await loadState(
      files.flatMap((file) => file.statements),
      shadow.pool,
      { statementTimeoutMs: SHADOW_STATEMENT_TIMEOUT_MS },
    );
  } catch (error) {
    if (!(error instanceof LoadError)) throw error;
    throw new SqlfirstError(describeLoadFailure(error.failure), { cause: error, step: 'load schema' });
  }
}

/** One sentence: where, what PostgreSQL said (or what the statement did), and what to do. */
function describeLoadFailure(failure: LoadFailure): string {
  const where = failure.line === undefined ? failure.file : `${failure.file} line ${failure.line}`;
  const statement = failure.statement === undefined ? '' : `, in "${firstLine(failure.statement, 80)}"`;
  const unchanged = '(the target was not changed)';
  // effects found only after everything loaded (an event trigger, say) have no one statement to blame
  const subject = failure.statement === undefined ? 'the schema' : 'the statement';
  switch (failure.reason) {
    case 'missing':
      return `${where}: ${failure.message}${statement}; no statement in the schema creates it, so add it or fix the name ${unchanged}.`;
    case 'timeout':
      return `${where}: the statement ran longer than ${formatMs(SHADOW_STATEMENT_TIMEOUT_MS)}, the limit for one schema statement${statement}; make it faster or remove it ${unchanged}.`;
    case 'rows':
      return `${where}: ${subject} ${failure.message}${statement}, but a schema file describes tables, not their rows; remove what writes them ${unchanged}.`;
    case 'roles':
      return `${where}: ${subject} ${failure.message}${statement}, but roles belong to the server, not to a schema file; remove it (sqlfirst undid what it could, and the target was not changed).`;
    default:
      return `${where}: ${failure.message}${statement}; fix the statement ${unchanged}.`;
  }
}
