import fs from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { SqlfirstError } from '../errors.js';
import { maskUrl, type ConnectionTarget } from './url.js';

export interface ConnectOptions {
  /** how long to wait for the server to accept and answer the handshake */
  connectTimeoutMs?: number;
  /**
   * the server's statement_timeout for every session; the client then also gives up on a
   * query that has no answer ANSWER_MARGIN_MS after it (a stalled network or server)
   */
  statementTimeoutMs?: number;
  /** the run's lock_timeout: part of how long a session may sit idle in a transaction */
  lockTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** how much longer than the statement timeout the client waits for an answer */
export const ANSWER_MARGIN_MS = 2_000;
/**
 * idle_in_transaction_session_timeout when no statement timeout is configured: sqlfirst
 * never waits on itself inside a transaction for long, so a session of ours idle that
 * long was cut off (a stalled network) and its locks should go
 */
export const DEFAULT_IDLE_IN_TRANSACTION_MS = 15_000;
/**
 * how long the server keeps a session of ours that holds a lock between queries once it
 * hears nothing from it (long enough that a busy event loop never loses a lock it holds)
 */
export const HOLDER_SILENCE_MS = 60_000;
/** idle_in_transaction_session_timeout beyond lock and statement timeouts */
const IDLE_MARGIN_MS = 5_000;
/** silence on a connection after which TCP keepalive probes a peer that may be gone */
const KEEPALIVE_DELAY_MS = 10_000;
/** names this process's sessions, so an interrupted run can end exactly its own */
export { APPLICATION_NAME } from '../run-id.js';
import { APPLICATION_NAME } from '../run-id.js';

/** How long the server lets a session of ours sit idle inside a transaction before it ends it (rolling back). */
export function idleInTransactionTimeoutMs(options: ConnectOptions): number {
  if (options.statementTimeoutMs === undefined) return DEFAULT_IDLE_IN_TRANSACTION_MS;
  return (options.lockTimeoutMs ?? 0) + options.statementTimeoutMs + IDLE_MARGIN_MS;
}

/** node-postgres settings for a target: TLS as libpq's sslmode means it, and limits on every wait. */
export function poolConfig(target: ConnectionTarget, options: ConnectOptions = {}): GuardedConfig {
  const url = new URL(target.url);
  return {
    host: target.host,
    port: target.port,
    user: target.user || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: target.database,
    ssl: sslOptions(target),
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: idleInTransactionTimeoutMs(options),
    application_name: APPLICATION_NAME,
    max: 4,
    Client: GuardedClient,
    answerDeadlineMs: options.statementTimeoutMs === undefined ? undefined : options.statementTimeoutMs + ANSWER_MARGIN_MS,
  };
}

/**
 * libpq's sslmode: require encrypts without verifying (unless a root certificate is given,
 * then it verifies the CA as libpq does), verify-ca checks the CA, verify-full the CA and
 * the host name. The CA is sslrootcert / PGSSLROOTCERT, else this machine's trusted CAs.
 */
function sslOptions(target: ConnectionTarget): pg.ClientConfig['ssl'] {
  const ca = target.sslRootCert && target.sslRootCert !== 'system' ? readRootCert(target.sslRootCert) : undefined;
  const trust = ca === undefined ? {} : { ca };
  switch (target.sslmode) {
    case 'require':
      return ca === undefined ? { rejectUnauthorized: false } : { rejectUnauthorized: true, ...trust, checkServerIdentity: () => undefined };
    case 'verify-ca':
      return { rejectUnauthorized: true, ...trust, checkServerIdentity: () => undefined };
    case 'verify-full':
      // TLS forbids an IP address as server name; node-postgres checks an IP against the certificate itself
      return { rejectUnauthorized: true, ...trust, ...(net.isIP(target.host) ? {} : { servername: target.host }) };
    default:
      return false;
  }
}

function readRootCert(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new SqlfirstError(`The CA certificate file ${file} (sslrootcert or PGSSLROOTCERT) cannot be read; check the path, or unset it to trust this machine's CAs.`, {
      cause: error,
      step: 'connect',
    });
  }
}

interface GuardedConfig extends pg.PoolConfig {
  /** a query with no answer by then gives its connection up; undefined = wait as long as the server works */
  answerDeadlineMs?: number;
}

type QueryCallback = (error: Error | null, result?: unknown) => void;

/**
 * How long a query may go without a byte from the server before the watchdog asks the server,
 * over a new connection, whether our session is still working on it. Short, because asking is
 * cheap and a stall without a statement timeout is otherwise bounded only by TCP keepalive
 * (minutes). SQLFIRST_WATCHDOG_MS overrides it (the stall tests use a shorter interval).
 */
export const WATCHDOG_INTERVAL_MS = 5_000;
/** after the server says our session is no longer working, how long its answer may still be on its way */
const ANSWER_IN_FLIGHT_MS = 500;
/** how long ending a connection may wait for the server's goodbye before the socket is closed */
const END_GRACE_MS = 1_000;

export function watchdogIntervalMs(): number {
  const configured = Number(process.env.SQLFIRST_WATCHDOG_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : WATCHDOG_INTERVAL_MS;
}

/**
 * A node-postgres client whose every query is watched, and has a deadline when a statement
 * timeout is configured. node-postgres's own query_timeout leaves the query running on a
 * connection that may never answer (a stalled network), so the next query (a ROLLBACK) waits
 * again; here the connection is destroyed, everything queued on it fails at once, and the
 * server, seeing its session idle in a transaction, ends it after
 * idle_in_transaction_session_timeout. It is given up:
 * - at the deadline (statement timeout + ANSWER_MARGIN_MS), the outer bound;
 * - sooner, and also without a statement timeout, when the server has sent nothing for the
 *   watchdog interval and a probe over a new connection finds the server unreachable, or
 *   our session no longer running the query (its answer was lost) or blocked sending to us.
 *   A session still working (an index build of 20 minutes) keeps the wait going.
 */
export class GuardedClient extends pg.Client {
  private readonly idleTimeoutMs: number;
  private readonly where: string;
  private readonly probeConfig: pg.ClientConfig;
  private readonly watchdogMs = watchdogIntervalMs();
  /** when the last message from the server arrived (performance.now()) */
  private lastHeardAt = performance.now();

  constructor(config: GuardedConfig = {}) {
    super(config);
    this.idleTimeoutMs = Number(config.idle_in_transaction_session_timeout);
    this.where = `${config.host}:${config.port}`;
    const { Client: _client, answerDeadlineMs: _deadline, max: _max, statement_timeout: _statement, ...probe } = config;
    // the pool keeps the password out of a spread (a non-enumerable property)
    this.probeConfig = { ...probe, password: config.password, connectionTimeoutMillis: config.connectionTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MS };
    this.connection.on('message', () => (this.lastHeardAt = performance.now()));
    const deadline = config.answerDeadlineMs;
    const unguarded = this.query.bind(this) as (...args: unknown[]) => unknown;
    // node-postgres's query has a dozen overloads; this keeps every one of them
    this.query = ((...args: unknown[]) => this.guarded(unguarded, deadline, args)) as pg.Client['query'];
    const end = this.end.bind(this) as (...args: unknown[]) => unknown;
    this.end = ((...args: unknown[]) => this.boundedEnd(end, args)) as pg.Client['end'];
  }

  /** our backend's process id, from the connection's BackendKeyData (null before connecting) */
  private get backendPid(): number | null {
    return (this as unknown as { processID: number | null }).processID;
  }

  private get socket(): net.Socket {
    return (this.connection as unknown as { stream: net.Socket }).stream;
  }

  private guarded(unguarded: (...args: unknown[]) => unknown, deadline: number | undefined, args: unknown[]): unknown {
    // a streamed query (pg-cursor) manages its own reads
    if (typeof (args[0] as { submit?: unknown } | undefined)?.submit === 'function') return unguarded(...args);
    const callback = typeof args.at(-1) === 'function' ? (args.pop() as QueryCallback) : undefined;
    const answer = new Promise((resolve, reject) => {
      let settled = false;
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        stopWatching();
      };
      const giveUp = (error: SqlfirstError) => {
        if (settled) return;
        settle();
        reject(error);
        this.socket.destroy();
      };
      const timer = deadline === undefined ? undefined : setTimeout(() => giveUp(this.stalled(deadline)), deadline);
      const stopWatching = this.watch(giveUp);
      (unguarded(...args) as Promise<unknown>).then(
        (result) => {
          settle();
          resolve(result);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
    if (!callback) return answer;
    answer.then((result) => callback(null, result), (error: Error) => callback(error));
    return undefined;
  }

  /** The liveness watchdog of one query; returns what stops it. */
  private watch(giveUp: (error: SqlfirstError) => void): () => void {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const startedAt = performance.now();
    const check = async () => {
      const quietFor = performance.now() - Math.max(this.lastHeardAt, startedAt);
      if (quietFor < this.watchdogMs || this.backendPid === null) {
        timer = setTimeout(check, Math.max(this.watchdogMs - quietFor, 100));
        return;
      }
      const askedAt = performance.now();
      const verdict = await probeSession(this.probeConfig, this.backendPid, () => !stopped && this.lastHeardAt <= askedAt);
      if (stopped) return;
      // anything heard since the probe was asked proves the connection alive
      if (verdict === 'active' || verdict === 'unknown' || this.lastHeardAt > askedAt) {
        timer = setTimeout(check, this.watchdogMs);
        return;
      }
      giveUp(this.lost(verdict, performance.now() - startedAt));
    };
    timer = setTimeout(check, this.watchdogMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /** node-postgres's end waits for the server's goodbye, which a stalled network never delivers. */
  private boundedEnd(end: (...args: unknown[]) => unknown, args: unknown[]): unknown {
    const socket = this.socket;
    const timer = setTimeout(() => socket.destroy(), END_GRACE_MS);
    socket.once('close', () => clearTimeout(timer));
    return end(...args);
  }

  private stalled(deadline: number): SqlfirstError {
    return new SqlfirstError(
      `The server at ${this.where} sent no answer within ${seconds(deadline)} s, longer than the statement timeout allows, so sqlfirst closed the connection; the network or the server stalled, and the server rolls back what that session left open within ${seconds(this.idleTimeoutMs)} s, so check the network and run again.`,
      { step: 'network' },
    );
  }

  private lost(verdict: Exclude<SessionVerdict, 'active' | 'unknown'>, waitedMs: number): SqlfirstError {
    const found = {
      unreachable: 'a new connection to it got no answer either',
      gone: 'the server no longer has our session',
      idle: 'the server had finished the query but its answer never arrived, so sqlfirst ended that session',
      blocked: 'the server was stuck sending its answer, so sqlfirst ended that session',
    }[verdict];
    return new SqlfirstError(
      `The server at ${this.where} sent nothing for ${seconds(waitedMs)} s and ${found}, so sqlfirst closed the connection; the network stalled, and the server rolls back what that session left open within ${seconds(this.idleTimeoutMs)} s, so check the network and run again.`,
      { step: 'network' },
    );
  }
}

/**
 * What the server says our session (backend `pid`) is doing: active (working on the query),
 * idle (finished it: the answer was lost), blocked (active but waiting to send to us), gone
 * (no such session), unreachable (no answer within the connect timeout), unknown (the server
 * answered with an error, e.g. too many connections: the network works, the session is not known).
 */
export type SessionVerdict = 'active' | 'idle' | 'blocked' | 'gone' | 'unreachable' | 'unknown';

/**
 * Asks the server, over a new short-lived connection with `config`'s connect timeout as its
 * whole deadline. A session found idle or blocked is ended (its transaction rolls back, its
 * locks go at once) when, ANSWER_IN_FLIGHT_MS later, `stillSilent()` says its answer has still
 * not arrived.
 */
export async function probeSession(config: pg.ClientConfig, pid: number, stillSilent: () => boolean): Promise<SessionVerdict> {
  const timeoutMs = config.connectionTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const probe = new pg.Client({ ...config, statement_timeout: timeoutMs });
  probe.on('error', () => {});
  const expired = new Promise<'unreachable'>((resolve) => {
    const timer = setTimeout(() => resolve('unreachable'), timeoutMs);
    probe.once('end', () => clearTimeout(timer));
  });
  const asked = (async (): Promise<SessionVerdict> => {
    await probe.connect();
    const { rows } = await probe.query<{ state: string | null; wait_event_type: string | null }>(
      'SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = $1',
      [pid],
    );
    if (rows.length === 0) return 'gone';
    // an active session waiting on its client is blocked writing to us (or reading from us): nothing we sent or will read
    const verdict = rows[0].state !== 'active' ? 'idle' : rows[0].wait_event_type === 'Client' ? 'blocked' : 'active';
    if (verdict === 'active') return verdict;
    await new Promise((resolve) => setTimeout(resolve, ANSWER_IN_FLIGHT_MS));
    if (!stillSilent()) return 'active';
    await probe.query('SELECT pg_terminate_backend($1)', [pid]);
    return verdict;
  })().catch((error: unknown) => ((error as { code?: unknown }).code !== undefined && typeof (error as { severity?: unknown }).severity === 'string' ? 'unknown' : 'unreachable'));
  try {
    return await Promise.race([asked, expired]);
  } finally {
    const socket = (probe as unknown as { connection: { stream: net.Socket } }).connection.stream;
    const timer = setTimeout(() => socket.destroy(), END_GRACE_MS);
    probe.end().catch(() => {}).finally(() => clearTimeout(timer));
  }
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/**
 * A session that holds a lock while the run works elsewhere (the apply lock, a
 * shadow's ownership) says it is alive every few seconds, and the server ends it
 * after `silenceMs` without a word (idle_session_timeout, PostgreSQL 14+):
 * a run cut off by the network does not leave its lock behind. Returns what
 * stops the heartbeat.
 */
export async function keepHolding(client: pg.ClientBase, silenceMs = HOLDER_SILENCE_MS): Promise<() => void> {
  try {
    await client.query(`SET idle_session_timeout = ${Math.round(silenceMs)}`);
  } catch (error) {
    // PostgreSQL 13 and older have no such setting: the lock then lasts as long as the session
    if ((error as { code?: string }).code === UNDEFINED_SETTING) return () => {};
    throw error;
  }
  const heartbeat = setInterval(() => client.query('SELECT 1').catch(() => {}), silenceMs / 4);
  heartbeat.unref();
  return () => clearInterval(heartbeat);
}

/** SQLSTATE undefined_object: "unrecognized configuration parameter" */
const UNDEFINED_SETTING = '42704';

/** A client with the limits of poolConfig whose connection errors never crash the process. */
export function openClient(target: ConnectionTarget, options: ConnectOptions = {}): GuardedClient {
  const client = new GuardedClient(poolConfig(target, options));
  client.on('error', () => {});
  return client;
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
  const client = openClient(target, options);
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
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_UNTRUSTED':
    case 'CERT_SIGNATURE_FAILURE': {
      const fix = target.sslRootCert
        ? `the CA certificate ${target.sslRootCert} (sslrootcert or PGSSLROOTCERT) did not sign it, so point PGSSLROOTCERT at the CA that did`
        : `if the server uses a private or self-signed CA, set PGSSLROOTCERT (or sslrootcert=FILE in the URL) to that CA's certificate file`;
      return say(`The server at ${where} presented a TLS certificate that could not be verified (${code}, ${shown}); ${fix}, and run again.`);
    }
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return say(`The TLS certificate of the server at ${where} is not issued for "${target.host}" (${shown}); connect with a host name the certificate names, or use sslmode=verify-ca to check only its CA.`);
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return say(`The TLS certificate of the server at ${where} is outside its validity dates (${code}, ${shown}); renew the certificate on the server, or check this machine's clock.`);
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

/** Ends this process's other sessions in the target database; an open transaction of theirs rolls back. */
export async function terminateOwnSessions(target: ConnectionTarget): Promise<void> {
  const client = openClient(target, { connectTimeoutMs: 5_000 });
  try {
    await client.connect();
    // only the target database's: a shadow on the same server is being dropped by its own cleanup
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()', [APPLICATION_NAME]);
  } finally {
    await client.end().catch(() => {});
  }
}

function firstSentence(text: string): string {
  return text.split('\n')[0].replace(/[.\s]+$/, '');
}
