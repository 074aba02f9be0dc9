/**
 * The shadow stage: a throwaway empty database on the target's own server (or
 * on --dev-url) into which schema.sql is loaded, so that PostgreSQL itself
 * tells us what the file means.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { SqlfirstError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { loadState, LoadError, type SchemaState } from '../engine/index.js';
import { connectionError, openPool } from '../target/connect.js';
import { parseTarget, withDatabase, type ConnectionTarget } from '../target/url.js';
import { excerpt, splitStatements } from './statements.js';
import { isProcessAlive } from '../process.js';

export const SHADOW_PREFIX = 'sqlfirst_shadow_';
/** longest a single schema statement may run in the shadow */
const SHADOW_STATEMENT_TIMEOUT_MS = 120_000;
/** a shadow whose creator we cannot check is stale after this long */
const STALE_AFTER_MS = 60 * 60 * 1000;

export interface SchemaFile {
  /** as shown to people, relative to the working folder */
  name: string;
  sql: string;
}

/** Reads the schema files, refusing what cannot be a schema before any database is touched. */
export async function readSchemaFiles(paths: string[], cwd = process.cwd()): Promise<SchemaFile[]> {
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
    const statements = splitStatements(sql);
    if (statements.length === 0) {
      throw new SqlfirstError(`The schema file ${name} has no SQL statements; an empty schema would drop everything, so write the schema or pass the right file.`, { step: 'read schema' });
    }
    for (const statement of statements) refuseNonSchemaStatement(name, statement.text, statement.line);
    files.push({ name, sql });
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

/** Statements that change data or the server rather than describe a schema. */
const NON_SCHEMA = /^\s*(insert|update|delete|truncate|copy|merge|drop\s+database|create\s+database|alter\s+database|alter\s+system|vacuum|cluster|reindex|begin|start\s+transaction|commit|rollback|end|create\s+role|create\s+user|drop\s+role|drop\s+user|alter\s+role|alter\s+user)\b/i;

function refuseNonSchemaStatement(file: string, statement: string, line: number): void {
  const match = NON_SCHEMA.exec(statement);
  if (!match) return;
  const keyword = match[1].replace(/\s+/g, ' ').toUpperCase();
  throw new SqlfirstError(
    `${file} line ${line}: ${keyword} does not belong in a schema file (it describes data, transactions, roles or the server, not the schema); remove "${excerpt(statement, 60)}".`,
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

/** A fresh empty database on `server`, after removing shadows that crashed runs left. */
export async function createShadow(server: ConnectionTarget, connectTimeoutMs?: number): Promise<Shadow> {
  const admin = openPool(server, { connectTimeoutMs });
  const name = shadowName();
  try {
    await removeStaleShadows(admin);
    await admin.query(`CREATE DATABASE "${name}"`);
  } catch (error) {
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
    await pool.end().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
    await admin.end().catch(() => {});
  };
  const forget = onInterrupt(drop);
  return { target, server, pool, drop };
}

/** sqlfirst_shadow_<host>_<pid>_<time>: enough to tell later whether its creator still runs. */
function shadowName(): string {
  return `${SHADOW_PREFIX}${hostTag()}_${process.pid}_${Date.now().toString(36)}`;
}

function hostTag(): string {
  return createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);
}

/** Drops shadows whose creating process is gone (same host) or that are over an hour old. */
export async function removeStaleShadows(admin: Pool): Promise<string[]> {
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE $1`,
    [`${SHADOW_PREFIX.replace(/_/g, '\\_')}%`],
  );
  const stale = rows.map((r) => r.datname).filter(isStale);
  for (const name of stale) {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
  }
  return stale;
}

function isStale(name: string): boolean {
  const match = new RegExp(`^${SHADOW_PREFIX}([0-9a-f]{8})_(\\d+)_([0-9a-z]+)$`).exec(name);
  if (!match) return false;
  const [, host, pid, time] = match;
  if (Date.now() - parseInt(time, 36) > STALE_AFTER_MS) return true;
  return host === hostTag() && Number(pid) !== process.pid && !isProcessAlive(Number(pid));
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

/**
 * Loads the schema files into the shadow. When they do not load, the failing
 * statement is found by replaying the files one statement at a time in a
 * transaction that is rolled back, so the error can name file and line.
 */
export async function loadSchema(files: SchemaFile[], shadow: Shadow): Promise<SchemaState> {
  try {
    return await loadState(files, shadow.pool);
  } catch (error) {
    if (!(error instanceof LoadError)) throw error;
    const located = await locateInFreshShadow(files, shadow).catch(() => undefined);
    if (located) {
      throw new SqlfirstError(
        `${located.file} line ${located.line}: ${located.message}, in "${excerpt(located.statement)}"; fix the statement${/does not exist/.test(located.message) ? ' or move it after the objects it uses' : ''} (the target was not changed).`,
        { cause: error, step: 'load schema' },
      );
    }
    const failure = error.failures[0];
    throw new SqlfirstError(
      `${failure?.file || files[0].name} did not load into the shadow database: ${failure?.message ?? error.message}; fix the schema file (the target was not changed).`,
      { cause: error, step: 'load schema' },
    );
  }
}

interface LocatedFailure {
  file: string;
  line: number;
  statement: string;
  message: string;
}

/**
 * The engine may fail after it committed some files (checking function bodies,
 * or rows a DO block inserted), so the replay needs an empty database of its own.
 */
async function locateInFreshShadow(files: SchemaFile[], shadow: Shadow): Promise<LocatedFailure | undefined> {
  const fresh = await createShadow(shadow.server);
  try {
    return await locateFailure(files, fresh.pool);
  } finally {
    await fresh.drop();
  }
}

async function locateFailure(files: SchemaFile[], pool: Pool): Promise<LocatedFailure | undefined> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const file of files) {
      for (const statement of splitStatements(file.sql)) {
        try {
          await client.query(statement.text);
        } catch (error) {
          const message = (error as Error).message;
          const position = Number((error as { position?: string }).position);
          const line = position > 0 ? statement.line + countLinesBefore(statement.text, position) : statement.line;
          return { file: file.name, line, statement: statement.text, message };
        }
      }
    }
    return undefined;
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    client.release();
  }
}

function countLinesBefore(text: string, position: number): number {
  return text.slice(0, position - 1).split('\n').length - 1;
}
