/**
 * The plan and apply commands end to end, through the built CLI, against a
 * real PostgreSQL: convergence, the data-loss gate, approval, and every
 * failure ending in one sentence, exit 1 and an untouched target.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { runCli, type CliResult } from './support/cli.js';
import { leftoverShadows, requirePasswords, startTestServer, urlFor, type TestServer } from './support/server.js';
import { SHADOW_LOCK_CLASS, shadowLockKey } from '../shadow/index.js';
import { freePort } from '../embedded/server.js';

const PASSWORD = "p@ss:w/rd%#?& 'x";
let server: TestServer;
let work: string;
const failureOutputs: CliResult[] = [];

before(async () => {
  server = await startTestServer();
  await requirePasswords(server, 'apply_user', PASSWORD);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-apply-'));
});

after(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

let fileCounter = 0;
function schemaFile(sql: string): string {
  const file = path.join(work, `schema${++fileCounter}.sql`);
  fs.writeFileSync(file, sql);
  return `file://${file}`;
}

/** A database owned by the password-checked user, as a URL with the password in it. */
async function database(setup?: string): Promise<string> {
  const admin = await server.createDatabase();
  const name = new URL(admin).pathname.slice(1);
  await server.query(server.url, `ALTER DATABASE "${name}" OWNER TO apply_user`);
  await server.query(admin, 'ALTER SCHEMA public OWNER TO apply_user');
  const url = urlFor(server, 'apply_user', PASSWORD, name);
  if (setup) await server.query(url, setup);
  return url;
}

/** Everything about a database's schema and rows that a failed run must not change. */
async function snapshot(url: string): Promise<string> {
  const rows = await server.query(
    url,
    `SELECT string_agg(format('%s.%s %s %s %s', table_schema, table_name, column_name, data_type, is_nullable), E'\\n' ORDER BY table_schema, table_name, column_name) AS s
       FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  const [{ exists }] = await server.query(url, "SELECT to_regclass('public.items') IS NOT NULL AS exists");
  const data = exists ? await server.query(url, 'SELECT * FROM public.items ORDER BY 1') : [];
  return `${rows[0].s}\n${JSON.stringify(data)}`;
}

async function failing(args: string[], env?: Record<string, string | undefined>): Promise<CliResult> {
  const started = Date.now();
  const result = await runCli(args, { env });
  failureOutputs.push(result);
  assert.equal(result.code, 1, `exit code 1 expected, got ${result.code}:\n${result.output}`);
  assert.ok(Date.now() - started < 60_000, 'a failure must come within a bounded time');
  assert.doesNotMatch(result.output, /\n\s+at .+\(.+:\d+:\d+\)/, 'no stack trace without --verbose');
  return result;
}

const V1 = `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(20,8));\n`;

describe('plan', () => {
  test('prints the SQL and a summary, changes nothing, and --exit-code says 2 while changes are pending', async () => {
    const url = await database();
    const to = schemaFile(V1);
    const plan = await runCli(['plan', '--url', url, '--to', to, '--exit-code']);
    assert.equal(plan.code, 2, plan.output);
    assert.match(plan.stdout, /CREATE TABLE "public"\."items"/);
    assert.match(plan.stdout, /Plan: 1 to create, 0 to alter, 0 to drop/);
    assert.match(plan.stdout, /postgres:\/\/apply_user:\*\*\*\*@127\.0\.0\.1/);
    assert.equal((await server.query(url, "SELECT to_regclass('public.items') AS t"))[0].t, null);
    const applied = await runCli(['apply', '--url', url, '--to', to, '--auto-approve']);
    assert.equal(applied.code, 0, applied.output);
    const again = await runCli(['plan', '--url', url, '--to', to, '--exit-code']);
    assert.equal(again.code, 0, again.output);
    assert.match(again.stdout, /No changes/);
  });

  test('--json prints one machine-readable result', async () => {
    const url = await database();
    const result = await runCli(['plan', '--url', url, '--to', schemaFile(V1), '--json']);
    assert.equal(result.code, 0, result.output);
    const parsed = JSON.parse(result.stdout);
    assert.equal(parsed.ok, true);
    assert.equal(parsed.plan.summary.create, 1);
    assert.ok(parsed.steps.some((s: { step: string }) => s.step === 'load schema'));
  });
});

describe('apply', () => {
  test('converges, keeps rows, and a second run has nothing to do', async () => {
    const url = await database(`${V1} INSERT INTO items VALUES (1, 'bolt', 1.5), (2, 'nut', 0.25);`);
    const to = schemaFile(`${V1.replace('price numeric(20,8)', "price numeric(20,8), sku text DEFAULT 'none' NOT NULL")}CREATE INDEX items_name ON items (name) WHERE name <> '';\n`);
    const result = await runCli(['apply', '--url', url, '--to', to, '--auto-approve']);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /✓ verify/);
    assert.match(result.stdout, /Applied 2 statement/);
    const rows = await server.query(url, 'SELECT id, name, price::text, sku FROM items ORDER BY id');
    assert.deepEqual(rows, [
      { id: 1, name: 'bolt', price: '1.50000000', sku: 'none' },
      { id: 2, name: 'nut', price: '0.25000000', sku: 'none' },
    ]);
    const again = await runCli(['apply', '--url', url, '--to', to, '--auto-approve']);
    assert.equal(again.code, 0, again.output);
    assert.match(again.stdout, /Nothing to apply/);
  });

  test('refuses statements that lose data, with the list, unless --allow-data-loss', async () => {
    const url = await database(`${V1} CREATE TABLE old (id int); INSERT INTO items VALUES (1, 'bolt', 1);`);
    const to = schemaFile(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);\n`);
    const before = await snapshot(url);
    const refused = await failing(['apply', '--url', url, '--to', to, '--auto-approve']);
    assert.match(refused.stderr, /Refusing to apply 2 statements that would lose data/);
    assert.match(refused.stderr, /DROP TABLE "public"\."old"/);
    assert.match(refused.stderr, /DROP COLUMN "price"/);
    assert.equal(await snapshot(url), before);
    const allowed = await runCli(['apply', '--url', url, '--to', to, '--auto-approve', '--allow-data-loss']);
    assert.equal(allowed.code, 0, allowed.output);
    assert.notEqual(await snapshot(url), before);
  });

  test('without --auto-approve and without a terminal, refuses and applies nothing', async () => {
    const url = await database();
    const before = await snapshot(url);
    const result = await failing(['apply', '--url', url, '--to', schemaFile(V1)]);
    assert.match(result.stderr, /no terminal to ask on.*--auto-approve/);
    assert.equal(await snapshot(url), before);
  });

  test('--dry-run shows the plan and changes nothing', async () => {
    const url = await database();
    const before = await snapshot(url);
    const result = await runCli(['apply', '--url', url, '--to', schemaFile(V1), '--dry-run']);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /Dry run: 1 statement/);
    assert.equal(await snapshot(url), before);
  });

  test('a failure in the transactional part leaves the target exactly as it was', async () => {
    const url = await database(`${V1} INSERT INTO items VALUES (1, 'same', 1), (2, 'same', 2);`);
    const before = await snapshot(url);
    // loads fine into the empty shadow, fails on the target's duplicate rows
    const to = schemaFile(`${V1}ALTER TABLE items ADD CONSTRAINT items_name_key UNIQUE (name);\nCREATE TABLE extra (id int);\n`);
    const result = await failing(['apply', '--url', url, '--to', to, '--auto-approve']);
    assert.match(result.stderr, /Failed at apply: Statement \d+ failed: could not create unique index/);
    assert.match(result.stderr, /rolled back and the target is unchanged/);
    assert.equal(await snapshot(url), before);
  });

  test('the plan says beforehand which steps cannot run in a transaction', async () => {
    const url = await database(`CREATE TYPE status AS ENUM ('open', 'closed'); CREATE TABLE t (s status);`);
    const to = schemaFile(`CREATE TYPE status AS ENUM ('open', 'filled', 'closed');\nCREATE TABLE t (s status);\n`);
    const result = await runCli(['apply', '--url', url, '--to', to, '--auto-approve']);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /ADD VALUE 'filled'.*commits on its own/);
    assert.match(result.stdout, /cannot run inside a transaction/);
  });
});

describe('schema errors name the file, the line and the statement', () => {
  test('a syntax error', async () => {
    const url = await database(V1);
    const before = await snapshot(url);
    const to = schemaFile(`-- items\n${V1}\nCREATE TABEL broken (id int);\n`);
    const result = await failing(['apply', '--url', url, '--to', to, '--auto-approve']);
    assert.match(result.stderr, /schema\d+\.sql line 4: syntax error at or near "TABEL", in "CREATE TABEL broken \(id int\);?"/);
    assert.equal(await snapshot(url), before);
  });

  test('a statement before the object it uses loads (the file need not be in creation order)', async () => {
    const url = await database(V1);
    const to = schemaFile(`CREATE TABLE orders (id int, item_id int REFERENCES items (id));\n${V1}`);
    const result = await runCli(['plan', '--url', url, '--to', to, '--exit-code']);
    assert.equal(result.code, 2, result.output);
    assert.match(result.stdout, /CREATE TABLE "public"\."orders"/);
  });

  test('an object that exists nowhere is named with its line', async () => {
    const url = await database(V1);
    const before = await snapshot(url);
    const to = schemaFile(`${V1}CREATE TABLE orders (id int, item_id int REFERENCES nowhere (id));\n`);
    const result = await failing(['plan', '--url', url, '--to', to]);
    assert.match(result.stderr, /line \d+: relation "nowhere" does not exist/);
    assert.equal(await snapshot(url), before);
  });
});

describe('connection failures end in one sentence within a bounded time', () => {
  test('a refused connection (closed port)', async () => {
    const port = await freePort();
    const result = await failing(['plan', '--url', `postgres://apply_user:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/db`, '--to', schemaFile(V1)]);
    assert.match(result.stderr, new RegExp(`Could not connect to 127\\.0\\.0\\.1:${port}: the connection was refused`));
  });

  test('a wrong password', async () => {
    const url = await database();
    const before = await snapshot(url);
    const wrong = url.replace(encodeURIComponent(PASSWORD), encodeURIComponent(`${PASSWORD}-wrong`));
    const result = await failing(['apply', '--url', wrong, '--to', schemaFile(V1), '--auto-approve']);
    assert.match(result.stderr, /Password authentication failed for user "apply_user"/);
    assert.equal(await snapshot(url), before);
  });

  test('a missing database', async () => {
    const result = await failing(['plan', '--url', urlFor(server, 'apply_user', PASSWORD, 'no_such_db'), '--to', schemaFile(V1)]);
    assert.match(result.stderr, /The database "no_such_db" does not exist/);
  });

  test('a server that accepts connections and never answers', async () => {
    const sockets: net.Socket[] = [];
    const stalled = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const { port } = stalled.address() as net.AddressInfo;
    try {
      const result = await failing(['plan', '--url', `postgres://apply_user:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/db`, '--to', schemaFile(V1), '--connect-timeout', '2']);
      assert.match(result.stderr, /did not answer within 2 s/);
    } finally {
      sockets.forEach((s) => s.destroy());
      stalled.close();
    }
  });
});

describe('the shadow database', () => {
  test('is dropped after every run; one a crashed run left is removed, one a live run owns is not (whatever its host or pid)', async () => {
    const now = Date.now().toString(36);
    const stale = `sqlfirst_shadow_deadbeef_0_${now}`;
    const live = `sqlfirst_shadow_cafebabe_0_${now}`;
    await server.query(server.url, `CREATE DATABASE "${stale}" OWNER apply_user`);
    await server.query(server.url, `CREATE DATABASE "${live}" OWNER apply_user`);
    // another run, perhaps in another container: it holds its shadow's lock
    const owner = new pg.Client({ connectionString: server.url });
    await owner.connect();
    try {
      await owner.query('SELECT pg_advisory_lock($1, $2)', [SHADOW_LOCK_CLASS, shadowLockKey(live)]);
      const url = await database();
      const result = await runCli(['plan', '--url', url, '--to', schemaFile(V1)]);
      assert.equal(result.code, 0, result.output);
      const names = (await server.query<{ datname: string }>(server.url, "SELECT datname FROM pg_database WHERE datname IN ($1, $2)", [stale, live])).map((r) => r.datname);
      assert.deepEqual(names, [live], 'the stale shadow was removed, the owned one kept');
      assert.deepEqual(await leftoverShadows(server), []);
    } finally {
      await owner.end();
      await server.query(server.url, `DROP DATABASE "${live}"`);
    }
  });

  test('--dev-url puts it on another server, whose roles never reach the target', async () => {
    const other = await startTestServer({ private: true });
    try {
      const url = await database();
      const schema = schemaFile(V1);
      const dev = ['--url', url, '--to', schema, '--dev-url', other.url];
      const planned = await runCli(['plan', ...dev]);
      assert.equal(planned.code, 0, planned.output);
      assert.match(planned.stdout, /CREATE TABLE "public"\."items"/);
      const shadows = await other.query(other.url, "SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'sqlfirst\\_shadow\\_%'");
      assert.equal(shadows[0].n, 0, 'the shadow on the dev server was dropped');
      // the dev server's superuser owned the shadow's objects: none of its grants may be planned on the target
      assert.doesNotMatch(planned.stdout, /"postgres"/);
      const applied = await runCli(['apply', ...dev, '--auto-approve']);
      assert.equal(applied.code, 0, applied.output);
      const grants = await server.query(url, "SELECT grantee FROM information_schema.role_table_grants WHERE table_name = 'items' AND grantee = 'postgres'");
      assert.deepEqual(grants, []);
      const again = await runCli(['plan', ...dev, '--exit-code']);
      assert.equal(again.code, 0, again.output);
    } finally {
      await other.stop();
    }
  });

  test('a user without CREATEDB is told what to grant', async () => {
    // the role exists already on a shared server (made before the run: roles are server-wide)
    await server.query(server.url, `DO $$ BEGIN CREATE ROLE nocreate; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await server.query(server.url, `ALTER ROLE nocreate LOGIN NOCREATEDB PASSWORD 'pw-nocreate'`);
    const admin = await server.createDatabase();
    const name = new URL(admin).pathname.slice(1);
    await server.query(server.url, `ALTER DATABASE "${name}" OWNER TO nocreate`);
    const result = await failing(['plan', '--url', urlFor(server, 'nocreate', 'pw-nocreate', name), '--to', schemaFile(V1)]);
    assert.match(result.stderr, /may not create databases.*grant CREATEDB.*--dev-url/);
  });
});

test('no failure above printed the password, raw or URL-encoded', () => {
  assert.ok(failureOutputs.length >= 9, `expected the failure cases to have run, got ${failureOutputs.length}`);
  for (const result of failureOutputs) {
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD), 'p@ss:w/rd']) {
      assert.ok(!result.output.includes(form), `password (${form}) leaked:\n${result.output}`);
    }
  }
});
