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
   * called about every 500 ms while a statement builds an index, scans or
   * rewrites an existing table, or runs outside a transaction, with the
   * server's progress (pg_stat_progress_create_index, pg_stat_progress_cluster)
   * read on a second connection, e.g. "CREATE INDEX CONCURRENTLY: building index: scanning table, 45% of 2,700 blocks"
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
  ) {
    super(reason);
  }
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
  try {
    for (const [position, segment] of segments.entries()) {
      const indexes = range(segment.start, segment.end);
      if (!segment.transactional) {
        await runOutsideTransaction(client, pool, plan, options, indexes[0], committed);
        committed += 1;
        continue;
      }
      await client.query('BEGIN');
      try {
        for (const sql of settings(plan, options, 'LOCAL')) await client.query(sql);
        for (const index of indexes) await runStatement(client, pool, plan, options, index, committed);
        // the last transaction proves convergence before it commits; earlier ones are proven by it
        if (position === proveAt) await proveConvergence(client, options, committed);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw error;
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

/** Attempts of a statement outside a transaction that could not get its lock in time, and the wait before the next. */
const LOCK_ATTEMPTS = 3;
const LOCK_RETRY_BACKOFF_MS = 500;

/**
 * A statement that commits on its own. Nothing else holds a lock for it, so
 * when it cannot get its lock within lock_timeout (busy table) it is tried
 * again a few times; a concurrent index build that timed out leaves an
 * INVALID index behind, dropped before the next attempt.
 */
async function runOutsideTransaction(client: PoolClient, pool: Pool, plan: MigrationPlan, options: ApplyOptions, index: number, committed: number): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      for (const sql of settings(plan, options, 'SESSION')) await client.query(sql);
      await runStatement(client, pool, plan, options, index, committed, true);
      return;
    } catch (error) {
      if (!(error instanceof ApplyFailure) || error.code !== SQLSTATE.lockTimeout || attempt >= LOCK_ATTEMPTS) throw error;
      await dropInvalidIndex(client, plan.engine.actions[index]).catch(() => {
        throw error;
      });
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_BACKOFF_MS * attempt));
    } finally {
      await client.query('RESET ALL').catch(() => {});
    }
  }
}

/** The INVALID index a failed CREATE INDEX CONCURRENTLY of this action left, dropped concurrently. */
async function dropInvalidIndex(client: PoolClient, action: MigrationPlan['engine']['actions'][number]): Promise<void> {
  const index = action.verb === 'create' ? (action.produces.find((id) => id.kind === 'index') as { schema: string; name: string } | undefined) : undefined;
  if (!index) return;
  const { rows } = await client.query(
    `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND NOT i.indisvalid`,
    [index.schema, index.name],
  );
  if (rows.length > 0) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${quoted(index.schema)}.${quoted(index.name)}`);
}

async function runStatement(client: PoolClient, pool: Pool, plan: MigrationPlan, options: ApplyOptions, index: number, committed: number, inDoubt = false): Promise<void> {
  const { sql } = plan.engine.actions[index];
  options.onStatement?.(index, sql);
  const change = plan.changes[index];
  const long = change !== undefined && (change.work !== 'none' || !change.transactional);
  try {
    await (long && options.onProgress ? withProgress(client, pool, index, options.onProgress, () => client.query(sql)) : client.query(sql));
  } catch (error) {
    throw failure(error, sql, index, committed, inDoubt);
  }
}

const PROGRESS_INTERVAL_MS = 500;

/** Runs `statement`, reporting the server's progress for it from a second connection. */
async function withProgress<T>(client: PoolClient, pool: Pool, index: number, onProgress: (index: number, text: string) => void, statement: () => Promise<T>): Promise<T> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  let done = false;
  let polling = false;
  const poll = () => {
    if (polling || done) return;
    polling = true;
    // never awaited: with a pool of one connection it waits for this statement to end
    pool
      .query<ProgressRow>(PROGRESS_SQL, [rows[0].pid])
      .then((result) => {
        if (!done && result.rows[0]) onProgress(index, progressText(result.rows[0]));
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

interface ProgressRow {
  command: string;
  phase: string;
  done: string | null;
  total: string | null;
  unit: string;
}

const PROGRESS_SQL = `
  SELECT command, phase, blocks_done AS done, blocks_total AS total, 'blocks' AS unit FROM pg_stat_progress_create_index WHERE pid = $1 AND blocks_total > 0
  UNION ALL
  SELECT command, phase, tuples_done, tuples_total, 'rows' FROM pg_stat_progress_create_index WHERE pid = $1 AND blocks_total = 0
  UNION ALL
  SELECT command, phase, heap_blks_scanned, heap_blks_total, 'blocks' FROM pg_stat_progress_cluster WHERE pid = $1`;

/** "CREATE INDEX CONCURRENTLY: building index: scanning table, 45% of 2,700 blocks" */
export function progressText(row: ProgressRow): string {
  const done = Number(row.done ?? 0);
  const total = Number(row.total ?? 0);
  const amount = total > 0 ? `, ${Math.floor((100 * done) / total)}% of ${total.toLocaleString('en-US')} ${row.unit}` : '';
  return `${row.command}: ${row.phase}${amount}`;
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

function failure(error: unknown, sql: string, index: number, committed: number, inDoubt: boolean): Error {
  // already one sentence (a connection that stopped answering): keep it
  if (error instanceof SqlfirstError) return error;
  const { message, code } = error as { message?: string; code?: string };
  return new ApplyFailure(message ?? String(error), code, sql, index, committed, inDoubt);
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
