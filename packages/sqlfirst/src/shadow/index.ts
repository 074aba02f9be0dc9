/**
 * The shadow stage: a throwaway empty database on the target's own server (or
 * on --dev-url) into which schema.sql is loaded, so that PostgreSQL itself
 * tells us what the file means.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { SqlfirstError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { loadState, LoadError, type LoadFailure, type SchemaState } from '../engine/index.js';
import { formatMs } from '../report/index.js';
import { connectionError, keepHolding, openPool } from '../target/connect.js';
import { parseTarget, withDatabase, type ConnectionTarget } from '../target/url.js';
import { parseStatements, refusal, type Statement } from './statements.js';
import { firstLine } from '../text.js';
import { RUN_ID } from '../run-id.js';

export const SHADOW_PREFIX = 'sqlfirst_shadow_';
/** longest a single schema statement may run in the shadow */
const SHADOW_STATEMENT_TIMEOUT_MS = 120_000;
/** a shadow whose creator we cannot check is stale after this long */
const STALE_AFTER_MS = 60 * 60 * 1000;

export interface SchemaFile {
  /** as shown to people, relative to the working folder */
  name: string;
  sql: string;
  /** its statements, as the PostgreSQL parser reads them */
  statements: Statement[];
}

export interface ReadOptions {
  /** the folder names are shown relative to */
  cwd?: string;
  /** accept a file with no schema statements (an empty schema drops everything, so it must be asked for) */
  allowEmpty?: boolean;
}

/**
 * Reads and parses the schema files, refusing what cannot be a schema. Touches
 * no database: every check here runs before anything connects.
 */
export async function readSchemaFiles(paths: string[], options: ReadOptions = {}): Promise<SchemaFile[]> {
  const { cwd = process.cwd(), allowEmpty = false } = options;
  if (paths.length === 0) throw new SqlfirstError('No schema file was given; pass --to file://schema.sql or set src in atlas.hcl.');
  const files: SchemaFile[] = [];
  for (const file of paths) {
    const name = path.relative(cwd, file) || file;
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const message =
        code === 'ENOENT'
          ? `The schema file ${name} does not exist; check the path given by --to or by src in atlas.hcl.`
          : code === 'EISDIR'
            ? `The schema file ${name} is a folder; pass the .sql file itself (or name the folder in src of atlas.hcl, which reads its .sql files).`
            : `The schema file ${name} could not be read (${code}); check its permissions.`;
      throw new SqlfirstError(message, { cause: error, step: 'read schema' });
    }
    // a byte-order mark is not SQL: PostgreSQL would call it a syntax error
    const sql = decodeSchemaText(bytes, name).replace(/^\uFEFF/, '');
    const statements = await parseStatements(sql, name);
    if (!allowEmpty && statements.every((statement) => statement.setsSession)) {
      throw new SqlfirstError(`The schema file ${name} has no SQL statements that describe a schema; an empty schema would drop everything, so write the schema or pass the right file (or --allow-empty if dropping everything is meant).`, { step: 'read schema' });
    }
    for (const statement of statements) refuseNonSchemaStatement(statement);
    files.push({ name, sql, statements });
  }
  return files;
}

/** The file's text, or one sentence saying why it is not UTF-8 SQL (with the line of the first bad byte). */
function decodeSchemaText(bytes: Buffer, name: string): string {
  const refuse = (message: string, cause?: unknown) => new SqlfirstError(`The schema file ${name} ${message}`, { cause, step: 'read schema' });
  // PowerShell 5's > and Out-File write UTF-16 with a byte-order mark
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw refuse('is UTF-16 text (as Windows PowerShell 5 writes with > or Out-File); save it as UTF-8.');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    const lenient = new TextDecoder('utf-8').decode(bytes);
    throw refuse(`is not valid UTF-8 text (the first invalid byte is on line ${lineAt(lenient, lenient.indexOf('\uFFFD'))}); save it as UTF-8.`, error);
  }
  const nul = text.indexOf('\0');
  if (nul !== -1) throw refuse(`holds a NUL byte on line ${lineAt(text, nul)}, which PostgreSQL cannot read; remove it (or save the file as UTF-8 text if it is in another encoding).`);
  return text;
}

function lineAt(text: string, index: number): number {
  return text.slice(0, Math.max(index, 0)).split('\n').length;
}

function refuseNonSchemaStatement(statement: Statement): void {
  const refused = refusal(statement);
  if (!refused) return;
  throw new SqlfirstError(
    `${statement.file} line ${statement.line}: ${refused.label} does not belong in a schema file (${refused.reason}); remove "${firstLine(statement.text, 60)}".`,
    { step: 'read schema' },
  );
}

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
    // FORCE ends the shadow's sessions, busy ones included, before the pool waits for them
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
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
