/**
 * A plan that would not make the target match the schema is never committed:
 * the executor reads the target inside the apply transaction and plans again
 * before COMMIT. Shown on PostgreSQL 15 with pg_dump's view of the target
 * before and after, byte for byte.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { runCli } from './support/cli.js';
import { startVersionedServer, type VersionedServer } from './support/versions.js';

let server: VersionedServer;
let work: string;

before(async () => {
  server = await startVersionedServer(15);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-converge-'));
});
after(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

let counter = 0;
async function database(): Promise<string> {
  const name = `converge_${++counter}`;
  await query(server.url, `CREATE DATABASE ${name}`);
  return server.url.replace(/\/postgres\?/, `/${name}?`);
}

async function query(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** pg_dump of the whole database, schema, grants and rows (the system's pg_dump, PostgreSQL 15 like the server). */
function dump(url: string): string {
  return execFileSync('pg_dump', ['--no-password', '--restrict-key=sqlfirsttest', '--dbname', url], { encoding: 'utf8' });
}

function schemaFile(sql: string): string {
  const file = path.join(work, `schema${++counter}.sql`);
  fs.writeFileSync(file, sql);
  return file;
}

describe('a plan that does not converge rolls back', () => {
  test('a CHECK the engine re-plans forever: exit 1, the target byte for byte as it was, the remaining statements named', async () => {
    const url = await database();
    await query(url, "CREATE TABLE orders (id int PRIMARY KEY, side varchar(4)); INSERT INTO orders VALUES (1, 'buy')");
    const before = dump(url);
    // pg-delta does not converge a CHECK over a varchar IN (...) list: PostgreSQL stores it as = ANY (ARRAY[...])
    const schema = schemaFile("CREATE TABLE orders (id int PRIMARY KEY, side varchar(4) CHECK (side IN ('buy', 'sell')), note text);\n");
    const result = await runCli(['apply', '--url', url, '--to', schema, '--auto-approve', '--no-typecheck']);
    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, /would not make the target match the schema, so everything was rolled back and the target is exactly as it was/);
    assert.match(result.stderr, /orders_side_check/);
    assert.equal(dump(url), before);
  });

  test('the same schema without the troublesome CHECK applies and converges', async () => {
    const url = await database();
    await query(url, "CREATE TABLE orders (id int PRIMARY KEY, side varchar(4)); INSERT INTO orders VALUES (1, 'buy')");
    const schema = schemaFile("CREATE TABLE orders (id int PRIMARY KEY, side varchar(4) CHECK (side = 'buy' OR side = 'sell'), note text);\n");
    const result = await runCli(['apply', '--url', url, '--to', schema, '--auto-approve', '--no-typecheck']);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /✓ verify .*proven before commit/);
  });

  test('an explicit REVOKE on a table created under ALTER DEFAULT PRIVILEGES converges', async () => {
    const url = await database();
    await query(server.url, "DO $$ BEGIN CREATE ROLE converge_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    const schema = schemaFile(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO converge_reader;
CREATE TABLE secrets (id int PRIMARY KEY, v text);
REVOKE SELECT ON TABLE secrets FROM converge_reader;
CREATE TABLE open_data (id int PRIMARY KEY);
`);
    const result = await runCli(['apply', '--url', url, '--to', schema, '--auto-approve', '--no-typecheck']);
    assert.equal(result.code, 0, result.output);
    const again = await runCli(['plan', '--url', url, '--to', schema, '--exit-code', '--no-typecheck']);
    assert.equal(again.code, 0, again.output);
    const grants = await new pg.Client({ connectionString: url });
    await grants.connect();
    try {
      const { rows } = await grants.query("SELECT table_name FROM information_schema.role_table_grants WHERE grantee = 'converge_reader' ORDER BY 1");
      assert.deepEqual(rows.map((r) => r.table_name), ['open_data']);
    } finally {
      await grants.end();
    }
  });
});
