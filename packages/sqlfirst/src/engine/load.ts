/**
 * Loading a schema into an empty shadow database, one statement at a time,
 * and reading the result with the engine's extract.
 *
 * A statement that uses an object a later statement creates fails with a
 * "does not exist" SQLSTATE; it is retried after the others, round after
 * round, until everything loads or a round makes no progress. So a file need
 * not be in creation order, and a LANGUAGE sql function may come before the
 * tables it reads, exactly as PostgreSQL accepts when the file says
 * `SET check_function_bodies = false` (and, with the checks on, once the
 * tables exist). Every failure names its file and line.
 */
import type { Pool, PoolClient } from 'pg';
import { SqlfirstError } from '../errors.js';
import { readState, type SchemaState } from './state.js';

/** One statement of a schema file, as the shadow stage's parser delimited and classified it. */
export interface SchemaStatement {
  /** the file, as shown to people */
  file: string;
  /** the line it starts on */
  line: number;
  text: string;
  /** the session-setting statements of its file before it (SET search_path, …), in order */
  session: readonly SchemaStatement[];
  /** it is itself a session setting */
  setsSession: boolean;
  /** it can run arbitrary code (DO, CALL, SELECT, …): what it did is checked right after it */
  runsCode: boolean;
}

export interface LoadOptions {
  /** longest one statement may run; enforced from outside the session, so the schema cannot switch it off */
  statementTimeoutMs: number;
}

export interface LoadFailure {
  /** the file (several, comma-separated, when the effect cannot be traced to one statement) */
  file: string;
  line?: number;
  statement?: string;
  /** the server's message, or what the statement did */
  message: string;
  /**
   * error: the server refused the statement; missing: it uses an object no statement creates;
   * timeout: it ran longer than the limit; rows: it wrote rows; roles: it changed the server's roles
   */
  reason: 'error' | 'missing' | 'timeout' | 'rows' | 'roles';
}

export class LoadError extends Error {
  constructor(readonly failure: LoadFailure, cause?: unknown) {
    super(failure.message, { cause });
  }
}

/**
 * SQLSTATEs of an object that does not exist (yet): undefined_table, undefined_object,
 * undefined_function, undefined_column, invalid_schema_name, invalid_foreign_key (a
 * foreign key before the unique constraint it references).
 */
const NOT_YET_CREATED = new Set(['42P01', '42704', '42883', '42703', '3F000', '42830']);
const QUERY_CANCELED = '57014';

/** Loads the statements into the empty database behind `shadow` and reads the schema they make. */
export async function loadState(statements: readonly SchemaStatement[], shadow: Pool, options: LoadOptions): Promise<SchemaState> {
  const client = await shadow.connect();
  try {
    await refuseNonEmpty(client);
    const sharedBefore = await readShared(client);
    const runner = await statementRunner(client, shadow, options.statementTimeoutMs);
    try {
      await loadInRounds(statements, runner, async (statement) => {
        if (statement.runsCode) await checkEffects(client, sharedBefore, [statement]);
      });
      await checkEffects(client, sharedBefore, statements);
    } catch (error) {
      await restoreShared(client, sharedBefore);
      throw error;
    }
  } finally {
    // the schema changed this session's settings: it is not handed back to the pool
    client.release(true);
  }
  return readState(shadow);
}

type Runner = (statement: SchemaStatement) => Promise<void>;

/**
 * Runs statements in the order given; those that use an object that does not
 * exist yet are retried after the rest, until none is left or a round loads none.
 */
async function loadInRounds(statements: readonly SchemaStatement[], run: Runner, after: (statement: SchemaStatement) => Promise<void>): Promise<void> {
  let pending = statements;
  for (;;) {
    const deferred: { statement: SchemaStatement; error: unknown }[] = [];
    for (const statement of pending) {
      try {
        await run(statement);
      } catch (error) {
        // the connection failed (a stalled network): not the statement's fault
        if (error instanceof SqlfirstError) throw error;
        if (statement.setsSession || !NOT_YET_CREATED.has(sqlState(error))) throw failureOf(statement, error);
        deferred.push({ statement, error });
        continue;
      }
      await after(statement);
    }
    if (deferred.length === 0) return;
    // nothing loaded in this round: what is missing is not created anywhere
    if (deferred.length === pending.length) throw failureOf(deferred[0].statement, deferred[0].error);
    pending = deferred.map((d) => d.statement);
  }
}

/**
 * Runs one statement in the session of its file (the SET statements before it),
 * as a query of its own, so it commits or fails alone. A statement that outlives
 * the limit is cancelled from another connection: nothing in the schema can
 * switch that off.
 */
async function statementRunner(client: PoolClient, pool: Pool, timeoutMs: number): Promise<Runner> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = rows[0].pid;
  let current: readonly SchemaStatement[] = [];
  const execute = async (statement: SchemaStatement) => {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
    }, timeoutMs);
    try {
      await client.query(statement.text);
    } catch (error) {
      // the server's own statement_timeout (the pool's) may come first
      throw expired || sqlState(error) === QUERY_CANCELED ? new StatementTimeout(error) : error;
    } finally {
      clearTimeout(timer);
    }
  };
  return async (statement) => {
    const wanted = statement.session;
    const extends_ = current.length <= wanted.length && current.every((setting, i) => wanted[i] === setting);
    if (!extends_) await client.query('RESET ALL');
    for (const setting of wanted.slice(extends_ ? current.length : 0)) await execute(setting);
    current = wanted;
    await execute(statement);
    if (statement.setsSession) current = [...wanted, statement];
  };
}

class StatementTimeout extends Error {
  constructor(cause: unknown) {
    super('the statement ran longer than the limit for one schema statement', { cause });
  }
}

function sqlState(error: unknown): string {
  return String((error as { code?: unknown }).code ?? '');
}

/** The failure of `statement`, on the line the server pointed at when it did. */
function failureOf(statement: SchemaStatement, error: unknown): LoadError {
  const base = { file: statement.file, statement: statement.text };
  if (error instanceof StatementTimeout) return new LoadError({ ...base, line: statement.line, message: error.message, reason: 'timeout' }, error);
  const position = Number((error as { position?: string }).position);
  const line = position > 0 ? statement.line + newlinesBefore(statement.text, position) : statement.line;
  const reason = NOT_YET_CREATED.has(sqlState(error)) ? 'missing' : 'error';
  return new LoadError({ ...base, line, message: (error as Error).message, reason }, error);
}

/** Newlines before the 1-based character `position` the server reports. */
function newlinesBefore(text: string, position: number): number {
  let count = 0;
  let characters = 0;
  for (const character of text) {
    if (++characters >= position) break;
    if (character === '\n') count++;
  }
  return count;
}

/** The shadow must start empty, or its leftovers would become part of the desired schema. */
async function refuseNonEmpty(client: PoolClient): Promise<void> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  if (rows[0].n > 0) {
    throw new SqlfirstError(
      `The new shadow database already holds ${rows[0].n} objects, copied from the server's template database, which would become part of the desired schema; remove them from template1 or pass --dev-url with a server whose template1 is empty.`,
      { step: 'load schema' },
    );
  }
}

/** The server's roles and role memberships (each a JSON [role, member]): shared by every database on it. */
interface Shared {
  roles: string[];
  memberships: string[];
}

async function readShared(client: PoolClient): Promise<Shared> {
  const { rows } = await client.query<Shared>(
    `SELECT ARRAY(SELECT rolname::text FROM pg_roles ORDER BY 1) AS roles,
            ARRAY(SELECT json_build_array(r.rolname, m.rolname)::text FROM pg_auth_members a
                    JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member ORDER BY 1) AS memberships`,
  );
  return rows[0];
}

function membership(json: string): { role: string; member: string } {
  const [role, member] = JSON.parse(json) as [string, string];
  return { role, member };
}

/**
 * What code in the schema did besides schema: rows in the database's own
 * tables (a table's first page exists from its first row on), or a change to
 * the server's roles. `statements` are the ones it is attributed to.
 */
async function checkEffects(client: PoolClient, before: Shared, statements: readonly SchemaStatement[]): Promise<void> {
  const attribution = statements.length === 1
    ? { file: statements[0].file, line: statements[0].line, statement: statements[0].text }
    : { file: [...new Set(statements.map((s) => s.file))].join(', ') };
  const shared = await readShared(client);
  const changes = [
    ...added(before.roles, shared.roles).map((role) => `created role ${role}`),
    ...added(shared.roles, before.roles).map((role) => `dropped role ${role}`),
    ...added(before.memberships, shared.memberships).map(membership).map((m) => `granted role ${m.role} to ${m.member}`),
    ...added(shared.memberships, before.memberships).map(membership).map((m) => `revoked role ${m.role} from ${m.member}`),
  ];
  if (changes.length > 0) throw new LoadError({ ...attribution, message: changes.join(', '), reason: 'roles' });
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        AND pg_relation_size(c.oid) > 0
      ORDER BY 1`,
  );
  if (rows.length > 0) throw new LoadError({ ...attribution, message: `wrote rows into ${rows.map((r) => r.name).join(', ')}`, reason: 'rows' });
}

function added(before: string[], after: string[]): string[] {
  const known = new Set(before);
  return after.filter((item) => !known.has(item));
}

/** Undoes role changes code in the schema made (roles are the server's, not the shadow's); best effort. */
async function restoreShared(client: PoolClient, before: Shared): Promise<void> {
  const now = await readShared(client).catch(() => before);
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const undo = [
    ...added(before.memberships, now.memberships).map(membership).map((m) => `REVOKE ${quote(m.role)} FROM ${quote(m.member)}`),
    // DROP OWNED acts on the current database only: the shadow
    ...added(before.roles, now.roles).flatMap((role) => [`DROP OWNED BY ${quote(role)}`, `DROP ROLE ${quote(role)}`]),
    ...added(now.memberships, before.memberships).map(membership).map((m) => `GRANT ${quote(m.role)} TO ${quote(m.member)}`),
  ];
  for (const sql of undo) await client.query(sql).catch(() => {});
}
