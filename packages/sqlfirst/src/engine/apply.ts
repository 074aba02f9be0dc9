/**
 * The executor: runs a plan's statements on the target in pg-delta's
 * segments (maximal transactional runs; a statement PostgreSQL cannot run in
 * a transaction alone), with lock and statement timeouts on every segment.
 *
 * Before the last transaction commits, the target is read again INSIDE that
 * transaction and planned against the desired state: a plan that would not
 * converge rolls back, leaving a transactional plan's target exactly as it
 * was. Failures carry the server's SQLSTATE, never its English message, to
 * decide what they mean.
 */
import type { Pool, PoolClient } from 'pg';
import { SqlfirstError } from '../errors.js';
import { segmentActions } from '@supabase/pg-delta/apply';
import { describeSize } from './hazards.js';
import { quoted } from './online.js';
import { planChanges, type MigrationPlan, type PlanOptions } from './plan.js';
import { readState, type Queryable, type SchemaState } from './state.js';

export interface ApplyOptions {
  /** the state the plan leads to, to prove convergence before committing */
  desired: SchemaState;
  /** the options the plan was made with */
  planOptions: PlanOptions;
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** called before each statement runs */
  onStatement?: (index: number, sql: string) => void;
  /**
   * called while a statement builds an index, scans or rewrites an existing
   * table, or runs outside a transaction: with the server's progress when it
   * has a view for the work (pg_stat_progress_create_index; every 500 ms
   * while it changes), otherwise what
   * the session is doing (waiting for a lock and on whom, or running) at
   * least every 3 s; always with the time the statement has run. Read on a
   * second connection, e.g.
   * "CREATE INDEX CONCURRENTLY: building index: scanning table, 45% of 2,700 blocks, 3.5 s" or
   * "checking every row of public.orders (≈2.0 M rows, 84 MB): running, 12 s"
   */
  onProgress?: (index: number, text: string) => void;
}

export interface ApplyResult {
  applied: number;
}

/** What a failed apply left behind, with the server's error code. */
export class ApplyFailure extends Error {
  constructor(
    readonly reason: string,
    /** SQLSTATE of the server error, when the server sent one */
    readonly code: string | undefined,
    readonly sql: string,
    readonly index: number,
    /** statements committed before the failure (earlier segments) */
    readonly committed: number,
    /** the server did not confirm the last commit */
    readonly inDoubt: boolean,
    readonly details: FailureDetails = {},
  ) {
    super(reason);
  }
}

export interface FailureDetails {
  /** the existing table the statement works on (schema-qualified), if any */
  table?: string;
  /** how many times the statement was tried (outside a transaction, a lock not granted in time is tried again) */
  attempts?: number;
  /** the INVALID index a failed concurrent build left (schema-qualified), which the next run rebuilds */
  invalidIndex?: string;
}

/** The target is no longer the state the plan was made against. */
export class StalePlanError extends Error {
  constructor(
    /** true when the target already holds everything the plan would do */
    readonly alreadyApplied: boolean,
  ) {
    super(alreadyApplied ? 'the target already matches the desired state' : 'the target changed since the plan was made');
  }
}

/** Applying every statement would not make the target match: it was rolled back. */
export class NotConvergedError extends Error {
  constructor(
    /** the statements a fresh plan still finds */
    readonly remaining: string[],
    /** statements committed before (non-transactional steps) */
    readonly committed: number,
  ) {
    super(`${remaining.length} statement(s) would remain after apply`);
  }
}

/** SQLSTATEs the pipeline tells apart. */
export const SQLSTATE = {
  /** lock_not_available: lock_timeout expired, or NOWAIT */
  lockTimeout: '55P03',
  statementTimeout: '57014',
  idleInTransactionTimeout: '25P03',
} as const;

/**
 * Applies a plan. The target is read first and must still be the plan's
 * source (the plan's fingerprint), as pg-delta's own apply requires.
 */
export async function applyPlan(plan: MigrationPlan, pool: Pool, options: ApplyOptions): Promise<ApplyResult> {
  // a plan that runs wholly in one transaction is proven inside it before COMMIT, which also catches a
  // target changed since it was read; a plan with steps that commit on their own is checked first
  if (plan.changes.some((change) => !change.transactional)) {
    const fresh = planChanges(await readState(pool), options.desired, options.planOptions);
    if (fresh.sourceFingerprint !== plan.sourceFingerprint) throw new StalePlanError(fresh.changes.length === 0);
  }

  const actions = plan.engine.actions;
  const segments = segmentActions(actions);
  // proven inside the last transaction only when nothing runs after it; otherwise the verify after commit proves it
  const proveAt = segments.at(-1)?.transactional ? segments.length - 1 : -1;
  let committed = 0;
  const client = await pool.connect();
  let broken = false;
  /** one transactional segment, up to (not including) COMMIT; rolled back when a statement fails */
  const runTransaction = async (indexes: number[], prove: boolean) => {
    await client.query('BEGIN');
    try {
      for (const sql of settings(plan, options, 'LOCAL')) await client.query(sql);
      for (const index of indexes) await runStatement(client, pool, plan, options, index, committed);
      // the last transaction proves convergence before it commits; earlier ones are proven by it
      if (prove) await proveConvergence(client, options, committed);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    }
  };
  try {
    for (const [position, segment] of segments.entries()) {
      const indexes = range(segment.start, segment.end);
      if (!segment.transactional) {
        await runOutsideTransaction(client, pool, plan, options, indexes[0], committed);
        committed += 1;
        continue;
      }
      for (let attempt = 1; ; attempt += 1) {
        try {
          await runTransaction(indexes, position === proveAt);
          break;
        } catch (error) {
          // online, a transaction that could not get a lock in time rolled back whole, so it is tried again as a whole
          const retry = !broken && options.planOptions.online === true && isLockTimeout(error) && attempt < LOCK_ATTEMPTS;
          if (!retry) throw error instanceof ApplyFailure ? withAttempts(error, attempt) : error;
          await pauseBeforeAttempt(attempt + 1);
        }
      }
      try {
        await client.query('COMMIT');
      } catch (error) {
        broken = true;
        throw failure(error, 'COMMIT', indexes.at(-1)!, committed, true);
      }
      committed += indexes.length;
    }
    return { applied: committed };
  } catch (error) {
    if ((error as { code?: string }).code !== undefined && !(error instanceof ApplyFailure)) broken = true;
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Attempts of a statement that could not get its lock in time (outside a
 * transaction; online, also a whole transaction), and the wait before the
 * second (longer before each next).
 */
const LOCK_ATTEMPTS = 3;
const LOCK_RETRY_BACKOFF_MS = 500;

/**
 * A statement that commits on its own. Nothing else holds a lock for it, so
 * when it cannot get its lock within lock_timeout (busy table) it is tried
 * again a few times. A concurrent index build that timed out while waiting
 * for older writers leaves an INVALID index: dropped before the next attempt
 * and after the last, so the target is as it was. When even that drop cannot
 * get its lock (the same writers), the index stays and the failure names it.
 */
async function runOutsideTransaction(client: PoolClient, pool: Pool, plan: MigrationPlan, options: ApplyOptions, index: number, committed: number): Promise<void> {
  const action = plan.engine.actions[index];
  for (let attempt = 1; ; attempt += 1) {
    try {
      for (const sql of settings(plan, options, 'SESSION')) await client.query(sql);
      await runStatement(client, pool, plan, options, index, committed, true);
      return;
    } catch (error) {
      if (!(error instanceof ApplyFailure)) throw error;
      const clean = isLockTimeout(error) && (await dropInvalidIndex(client, action));
      if (!clean || attempt >= LOCK_ATTEMPTS) {
        const invalid = await invalidIndexOf(client, action).catch(() => undefined);
        throw withAttempts(error, attempt, invalid && `${invalid.schema}.${invalid.name}`);
      }
      await pauseBeforeAttempt(attempt + 1);
    } finally {
      await client.query('RESET ALL').catch(() => {});
    }
  }
}

function isLockTimeout(error: unknown): error is ApplyFailure {
  return error instanceof ApplyFailure && error.code === SQLSTATE.lockTimeout;
}

/** The failure, saying how often the statement was tried and what INVALID index it left. */
function withAttempts(error: ApplyFailure, attempts: number, invalidIndex?: string): ApplyFailure {
  return new ApplyFailure(error.reason, error.code, error.sql, error.index, error.committed, error.inDoubt, { ...error.details, attempts, ...(invalidIndex ? { invalidIndex } : {}) });
}

/** A longer wait before each attempt: whoever holds the lock may be about to finish. */
function pauseBeforeAttempt(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_BACKOFF_MS * (attempt - 1)));
}

/** The INVALID index a failed CREATE INDEX CONCURRENTLY of this action left, if any. */
async function invalidIndexOf(client: PoolClient, action: MigrationPlan['engine']['actions'][number]): Promise<{ schema: string; name: string } | undefined> {
  const index = action.verb === 'create' ? (action.produces.find((id) => id.kind === 'index') as { schema: string; name: string } | undefined) : undefined;
  if (!index) return undefined;
  const { rows } = await client.query(
    `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND NOT i.indisvalid`,
    [index.schema, index.name],
  );
  return rows.length > 0 ? index : undefined;
}

/** Drops, concurrently, the INVALID index a failed build of this action left; false when one remains. */
async function dropInvalidIndex(client: PoolClient, action: MigrationPlan['engine']['actions'][number]): Promise<boolean> {
  try {
    const invalid = await invalidIndexOf(client, action);
    if (invalid) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${quoted(invalid.schema)}.${quoted(invalid.name)}`);
    return true;
  } catch {
    return false;
  }
}

async function runStatement(client: PoolClient, pool: Pool, plan: MigrationPlan, options: ApplyOptions, index: number, committed: number, inDoubt = false): Promise<void> {
  const { sql } = plan.engine.actions[index];
  options.onStatement?.(index, sql);
  const change = plan.changes[index];
  const long = change !== undefined && (change.work !== 'none' || !change.transactional);
  try {
    await (long && options.onProgress ? withProgress(client, pool, index, workLabel(change), options.onProgress, () => client.query(sql)) : client.query(sql));
  } catch (error) {
    // a statement the server answered with an error code did not take effect: not in doubt
    throw failure(error, sql, index, committed, inDoubt && (error as { code?: string }).code === undefined, change?.table);
  }
}

/** What a long statement does, for progress lines: "rewriting public.orders (≈2.0 M rows, 84 MB)". */
function workLabel(change: MigrationPlan['changes'][number]): string {
  if (!change.table) return 'running on its own';
  const size = describeSize(change.hazards[0] ?? {});
  return { rewrite: `rewriting ${change.table}${size}`, scan: `checking every row of ${change.table}${size}`, 'index-build': `building an index on ${change.table}${size}`, none: `working on ${change.table}` }[change.work];
}

const PROGRESS_INTERVAL_MS = 500;
/** a line at least this often while a statement runs, though nothing changed but the time */
const ELAPSED_INTERVAL_MS = 3_000;

/**
 * Runs `statement`, reporting its progress from a second connection. Of the
 * steps a plan has, only CREATE INDEX has a progress view in PostgreSQL
 * 14–18: an ALTER TABLE rewrite (and the index rebuilds it does) or a
 * VALIDATE CONSTRAINT report in none (pg_stat_progress_cluster covers CLUSTER
 * and VACUUM FULL only; measured on 18: a 2 M-row ALTER COLUMN TYPE shows in
 * no pg_stat_progress_* view). For those the line says what pg_stat_activity
 * and pg_locks tell: the lock the session waits for and who holds it, or that
 * it runs, with the table's size from the plan and the time so far.
 */
async function withProgress<T>(client: PoolClient, pool: Pool, index: number, label: string, onProgress: (index: number, text: string) => void, statement: () => Promise<T>): Promise<T> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const started = Date.now();
  let done = false;
  let polling = false;
  let last = { state: '', at: started };
  const poll = () => {
    if (polling || done) return;
    polling = true;
    // never awaited: with a pool of one connection it waits for this statement to end
    pool
      .query<ProgressRow>(PROGRESS_SQL, [rows[0].pid])
      .then((result) => {
        const now = Date.now();
        if (done || !result.rows[0]) return;
        const state = progressText(result.rows[0], label);
        if (state === last.state && now - last.at < ELAPSED_INTERVAL_MS) return;
        last = { state, at: now };
        onProgress(index, `${state}, ${elapsed(now - started)}`);
      })
      .catch(() => {})
      .finally(() => (polling = false));
  };
  const timer = setInterval(poll, PROGRESS_INTERVAL_MS);
  try {
    return await statement();
  } finally {
    done = true;
    clearInterval(timer);
  }
}

export interface ProgressRow {
  /** the progress view's command and phase; null when no view reports on the statement */
  command: string | null;
  phase: string | null;
  done: string | null;
  total: string | null;
  unit: string | null;
  /** the table whose lock the session waits for, when it waits for one on a table */
  waiting_on: string | null;
  /** the session waits for a lock (a table's, or older transactions' to end) */
  waiting: boolean;
  /** sessions holding what it waits for (pg_blocking_pids) */
  blockers: number[];
}

const PROGRESS_SQL = `
  SELECT p.command, p.phase, p.done, p.total, p.unit,
         a.wait_event_type = 'Lock' AS waiting, pg_blocking_pids(a.pid) AS blockers,
         (SELECT n.nspname || '.' || c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE l.pid = a.pid AND NOT l.granted AND l.locktype = 'relation' LIMIT 1) AS waiting_on
    FROM pg_stat_activity a
    LEFT JOIN (
      SELECT pid, command, phase, blocks_done AS done, blocks_total AS total, 'blocks' AS unit FROM pg_stat_progress_create_index WHERE blocks_total > 0
      UNION ALL
      SELECT pid, command, phase, tuples_done, tuples_total, 'rows' FROM pg_stat_progress_create_index WHERE blocks_total = 0
    ) p ON p.pid = a.pid
   WHERE a.pid = $1`;

/**
 * "CREATE INDEX CONCURRENTLY: building index: scanning table, 45% of 2,700 blocks",
 * "checking every row of public.orders: waiting for a lock on public.orders held by session 4242",
 * "rewriting public.orders (≈2.0 M rows, 84 MB): running"
 */
export function progressText(row: ProgressRow, label: string): string {
  const sessions = `${row.blockers.length === 1 ? 'session' : 'sessions'} ${row.blockers.join(', ')}`;
  const holders = row.blockers.length === 0 ? '' : row.waiting_on ? ` held by ${sessions}` : ` (${sessions})`;
  const wait = row.waiting ? (row.waiting_on ? `waiting for a lock on ${row.waiting_on}${holders}` : `waiting for older transactions to end${holders}`) : undefined;
  if (row.command === null) return `${label}: ${wait ?? 'running'}`;
  const done = Number(row.done ?? 0);
  const total = Number(row.total ?? 0);
  const amount = total > 0 ? `, ${Math.floor((100 * done) / total)}% of ${total.toLocaleString('en-US')} ${row.unit}` : '';
  return `${row.command}: ${row.phase}${amount}${wait ? `, ${wait}` : ''}`;
}

/** "0.5 s", "12 s", "3 min 05 s" */
export function elapsed(ms: number): string {
  const seconds = Math.round(ms / 100) / 10;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
}

/** Timeouts first, then the settings the plan itself needs (pg-delta's preamble). */
function settings(plan: MigrationPlan, options: ApplyOptions, scope: 'LOCAL' | 'SESSION'): string[] {
  const set = scope === 'LOCAL' ? 'SET LOCAL' : 'SET';
  return [
    ...(options.lockTimeoutMs !== undefined ? [`${set} lock_timeout = ${Math.round(options.lockTimeoutMs)}`] : []),
    ...(options.statementTimeoutMs !== undefined ? [`${set} statement_timeout = ${Math.round(options.statementTimeoutMs)}`] : []),
    ...plan.engine.preamble.map((setting) => `${set} ${setting.name} = ${setting.value}`),
  ];
}

/** Reads the target inside the open transaction and plans again: anything left means the plan does not converge. */
async function proveConvergence(client: PoolClient, options: ApplyOptions, committed: number): Promise<void> {
  const current = await readState(insideTransaction(client));
  const residue = planChanges(current, options.desired, options.planOptions);
  if (residue.changes.length > 0) throw new NotConvergedError(residue.changes.map((c) => c.sql), committed);
}

/**
 * The open transaction, seen through the Pool interface pg-delta's extract
 * uses: its own transaction becomes a savepoint that is rolled back (the
 * read changes nothing), so the read sees the uncommitted changes and
 * cannot commit them. Its COMMIT and ROLLBACK always become a rollback to
 * the savepoint: should pg-delta ever open its transaction differently, that
 * rollback fails (no such savepoint) and the apply rolls back with it.
 */
function insideTransaction(client: PoolClient): Queryable {
  const savepoint = 'sqlfirst_verify';
  const translate: Record<string, string> = {
    'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY': `SAVEPOINT ${savepoint}`,
    COMMIT: `ROLLBACK TO SAVEPOINT ${savepoint}`,
    ROLLBACK: `ROLLBACK TO SAVEPOINT ${savepoint}`,
  };
  const query = ((text: unknown, ...rest: unknown[]) => {
    const replacement = typeof text === 'string' ? translate[text] : undefined;
    return replacement ? client.query(replacement) : (client.query as (...args: unknown[]) => unknown)(text, ...rest);
  }) as Queryable['query'];
  const view = { query, release: () => {} };
  return { query, connect: (async () => view) as unknown as Queryable['connect'] };
}

function failure(error: unknown, sql: string, index: number, committed: number, inDoubt: boolean, table?: string): Error {
  // already one sentence (a connection that stopped answering): keep it
  if (error instanceof SqlfirstError) return error;
  const { message, code } = error as { message?: string; code?: string };
  return new ApplyFailure(message ?? String(error), code, sql, index, committed, inDoubt, { table });
}

/** start … end - 1 (pg-delta's segment bounds) */
function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/**
 * Indexes PostgreSQL marks invalid (unusable), e.g. one created ON ONLY a
 * partitioned table or left by a failed CREATE INDEX CONCURRENTLY.
 */
export async function invalidIndexes(pool: Pick<Pool, 'query'>): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}
