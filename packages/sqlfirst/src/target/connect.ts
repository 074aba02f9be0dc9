import pg from 'pg';
import { SqlfirstError } from '../errors.js';
import { maskUrl, type ConnectionTarget } from './url.js';

export interface ConnectOptions {
  /** how long to wait for the server to accept and answer the handshake */
  connectTimeoutMs?: number;
  /** how long a single query may take before the client gives up */
  queryTimeoutMs?: number;
  /** the server's statement_timeout for every session of the pool */
  statementTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** names this process's sessions, so an interrupted run can end exactly its own */
export const APPLICATION_NAME = `sqlfirst:${process.pid}`;

/** node-postgres settings for a target; TLS follows libpq's sslmode meaning. */
export function poolConfig(target: ConnectionTarget, options: ConnectOptions = {}): pg.PoolConfig {
  const url = new URL(target.url);
  return {
    host: target.host,
    port: target.port,
    user: target.user || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: target.database,
    ssl: sslOptions(target),
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    query_timeout: options.queryTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    application_name: APPLICATION_NAME,
    max: 4,
  };
}

function sslOptions(target: ConnectionTarget): pg.PoolConfig['ssl'] {
  switch (target.sslmode) {
    case 'require':
      // libpq's "require" encrypts without verifying the certificate
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true, servername: target.host };
    default:
      return false;
  }
}

/** A pool whose idle-connection errors (a server shutting down) never crash the process. */
export function openPool(target: ConnectionTarget, options: ConnectOptions = {}): pg.Pool {
  const pool = new pg.Pool(poolConfig(target, options));
  pool.on('error', () => {});
  // a checked-out client whose session ends (server restart, Ctrl-C) must fail its query, not the process
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export interface ServerInfo {
  /** e.g. 160004 */
  versionNum: number;
  /** e.g. "16.4" */
  version: string;
}

/** Connects once, proving host, credentials, database and TLS, or throws one clear sentence. */
export async function checkConnection(target: ConnectionTarget, options: ConnectOptions = {}): Promise<ServerInfo> {
  const client = new pg.Client(poolConfig(target, options));
  client.on('error', () => {});
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  try {
    await withTimeout(client.connect(), timeoutMs);
    const result = await withTimeout(
      client.query<{ server_version_num: string; server_version: string }>(
        "select current_setting('server_version_num') as server_version_num, current_setting('server_version') as server_version",
      ),
      timeoutMs,
    );
    const row = result.rows[0];
    return { versionNum: Number(row.server_version_num), version: row.server_version.split(' ')[0] };
  } catch (error) {
    throw connectionError(error, target, timeoutMs);
  } finally {
    client.end().catch(() => {});
  }
}

class TimeoutError extends Error {}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError('timeout')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Translates a driver error met while connecting into one sentence about the target. */
export function connectionError(error: unknown, target: ConnectionTarget, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): SqlfirstError {
  const where = `${target.host}:${target.port}`;
  const shown = maskUrl(target.url);
  const code = (error as { code?: string })?.code;
  const message = error instanceof Error ? error.message : String(error);
  const say = (sentence: string) => new SqlfirstError(sentence, { cause: error, step: 'connect' });
  if (error instanceof TimeoutError || /timeout|timed out/i.test(message)) {
    return say(`The server at ${where} did not answer within ${Math.round(timeoutMs / 1000)} s (${shown}); check that the host and port are those of a running PostgreSQL server.`);
  }
  switch (code) {
    case 'ECONNREFUSED':
      return say(`Could not connect to ${where}: the connection was refused (${shown}); check that PostgreSQL is running there and that the host and port are right.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return say(`Could not connect: the host "${target.host}" was not found (${shown}); check the host name.`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return say(`Could not reach ${where} (${shown}); check the host, the port and the network.`);
    case 'ECONNRESET':
      return say(`The server at ${where} closed the connection (${shown}); check the port, and whether the server requires TLS (sslmode=require).`);
    case '28P01':
      return say(`Password authentication failed for user "${target.user}" on ${where}; check the password.`);
    case '28000':
      return say(`The server at ${where} refused user "${target.user}" (${shown}): ${firstSentence(message)}; check the user name and the server's pg_hba.conf.`);
    case '3D000':
      return say(`The database "${target.database}" does not exist on ${where}; create it (CREATE DATABASE "${target.database}") or fix the database name.`);
    case '57P03':
      return say(`The server at ${where} is starting up or shutting down; try again in a moment.`);
  }
  if (/does not support SSL/i.test(message)) {
    return say(`The server at ${where} does not accept TLS connections, but sslmode=${target.sslmode} requires TLS; enable TLS on the server or use sslmode=disable for a local server.`);
  }
  if (/self[- ]signed|certificate|SSL|TLS/i.test(message)) {
    return say(`The TLS handshake with ${where} failed (${firstSentence(message)}); check the server certificate or use sslmode=require.`);
  }
  return say(`Could not connect to ${shown}: ${firstSentence(message)}.`);
}

/** Ends this process's other sessions on the target; an open transaction of theirs rolls back. */
export async function terminateOwnSessions(target: ConnectionTarget): Promise<void> {
  const client = new pg.Client(poolConfig(target, { connectTimeoutMs: 5_000 }));
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [APPLICATION_NAME]);
  } finally {
    await client.end().catch(() => {});
  }
}

function firstSentence(text: string): string {
  return text.split('\n')[0].replace(/[.\s]+$/, '');
}
