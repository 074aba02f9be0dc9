import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedServer, type EmbeddedServer } from '../../embedded/server.js';

/** A fresh embedded PostgreSQL for one test file, in its own temporary folder. */
export interface TestServer extends EmbeddedServer {
  /** creates an empty database and returns its URL */
  createDatabase(name?: string): Promise<string>;
  /** runs SQL as the superuser in the given database URL */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, params?: unknown[]): Promise<T[]>;
}

let counter = 0;

export async function startTestServer(): Promise<TestServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-test-'));
  // the server runs as the postgres user when tests run as root
  fs.chmodSync(root, 0o755);
  const server = await startEmbeddedServer(path.join(root, 'data'));
  const admin = new pg.Pool({ connectionString: server.url, max: 2 });
  admin.on('error', () => {});
  return {
    ...server,
    async createDatabase(name = `t${process.pid}_${++counter}`) {
      await admin.query(`create database "${name}"`);
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async query(url, sql, params) {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async stop() {
      await admin.end().catch(() => {});
      await server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Makes the server check passwords on TCP for every user but the superuser
 * `postgres` (which the tests use to set up), and creates `user` with
 * `password` and CREATEDB (sqlfirst needs it for its shadow database).
 */
export async function requirePasswords(server: TestServer, user: string, password: string): Promise<void> {
  const hba = path.join(server.dataDir, 'pg_hba.conf');
  fs.writeFileSync(
    hba,
    ['host all postgres 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256', 'host all all ::1/128 scram-sha-256', ''].join('\n'),
  );
  const literal = `'${password.replace(/'/g, "''")}'`;
  await server.query(server.url, `CREATE ROLE "${user}" LOGIN CREATEDB PASSWORD ${literal}`);
  await server.query(server.url, 'SELECT pg_reload_conf()');
}

/** A URL for `user:password` on the test server's database `database`. */
export function urlFor(server: TestServer, user: string, password: string, database: string): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${encodeURIComponent(database)}?sslmode=disable`;
}
