/**
 * Safe under faults and concurrency: reviewed plans, one apply at a time,
 * lock timeouts, Ctrl-C, and SIGKILL at many moments of an apply.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sha256 } from '../hash.js';
import { CLI, runCli } from './support/cli.js';
import { leftoverShadows, sessionsOfProcess, startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let work: string;

before(async () => {
  server = await startTestServer();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-safety-'));
});
after(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const V1 = `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);\n`;
const V2 = `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(20,8) DEFAULT 0 NOT NULL);
CREATE INDEX items_name ON items (name);
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item_id int NOT NULL REFERENCES items (id), qty int CHECK (qty > 0));
CREATE TABLE fills (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id));
CREATE VIEW item_names AS SELECT id, name FROM items;
COMMENT ON TABLE items IS 'things we trade';
`;

let counter = 0;
function file(sql: string): string {
  const target = path.join(work, `s${++counter}.sql`);
  fs.writeFileSync(target, sql);
  return target;
}

async function seeded(): Promise<string> {
  const url = await server.createDatabase();
  const first = await runCli(['apply', '--url', url, '--to', file(V1), '--auto-approve']);
  assert.equal(first.code, 0, first.output);
  await server.query(url, "INSERT INTO items VALUES (1, 'bolt'), (2, 'nut')");
  return url;
}

async function snapshot(url: string): Promise<string> {
  const columns = await server.query(
    url,
    `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' ORDER BY 1, 2`,
  );
  const indexes = await server.query(url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1");
  const rows = await server.query(url, 'SELECT id, name FROM items ORDER BY id');
  return JSON.stringify({ columns, indexes, rows });
}

/** The sessions of one sqlfirst process, as the server sees them. */
function sessionsOf(pid: number | undefined) {
  return sessionsOfProcess<{ pid: number; state: string; wait_event_type: string | null; xact: boolean; query: string }>(server, pid, 'pid, state, wait_event_type, xact_start IS NOT NULL AS xact, query');
}

/** Waits until `test` holds for the run's sessions (checked every 25 ms, at most 20 s). */
async function waitForSessions(pid: number | undefined, test: (sessions: Awaited<ReturnType<typeof sessionsOf>>) => boolean): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (test(await sessionsOf(pid))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the sessions of sqlfirst:${pid} never reached the expected state`);
}

/** A plan file edited and given a valid checksum again: only the fresh plan can catch it. */
function forge(planFile: string, edit: (plan: Record<string, unknown>) => Record<string, unknown>): void {
  const { checksum: _old, ...body } = JSON.parse(fs.readFileSync(planFile, 'utf8')) as Record<string, unknown>;
  const edited = edit(body);
  fs.writeFileSync(planFile, JSON.stringify({ ...edited, checksum: sha256(JSON.stringify(edited)) }));
}

/** A session of the test's own that holds something until released. */
async function session(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

describe('reviewed plans', () => {
  test('apply --plan applies exactly the saved plan', async () => {
    const url = await seeded();
    const planFile = path.join(work, 'reviewed.json');
    const schema = file(V2);
    const planned = await runCli(['plan', '--url', url, '--to', schema, '--out', planFile]);
    assert.equal(planned.code, 0, planned.output);
    const saved = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    assert.ok(saved.statements.length > 3);
    assert.doesNotMatch(fs.readFileSync(planFile, 'utf8'), /postgres:\/\/[^@]*:[^*@]+@/, 'no password in the plan file');
    const applied = await runCli(['apply', '--url', url, '--to', schema, '--plan', planFile, '--auto-approve']);
    assert.equal(applied.code, 0, applied.output);
    assert.match(applied.stdout, /✓ prove plan file .*as reviewed/);
    assert.match(applied.stdout, /✓ verify/);
    assert.equal((await runCli(['plan', '--url', url, '--to', schema, '--exit-code'])).code, 0);
  });

  test('refuses when the target changed since the plan was made', async () => {
    const url = await seeded();
    const planFile = path.join(work, 'stale.json');
    const schema = file(V2);
    assert.equal((await runCli(['plan', '--url', url, '--to', schema, '--out', planFile])).code, 0);
    await server.query(url, 'ALTER TABLE items ADD COLUMN note text');
    const before = await snapshot(url);
    const result = await runCli(['apply', '--url', url, '--to', schema, '--plan', planFile, '--auto-approve']);
    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, /is not what the schema files and the target give now .*nothing was applied/);
    assert.equal(await snapshot(url), before);
  });

  test('a forged plan file is refused: an appended statement, an injected drop, any edited field', async () => {
    const url = await seeded();
    const planFile = path.join(work, 'forged.json');
    const schema = file(V2);
    assert.equal((await runCli(['plan', '--url', url, '--to', schema, '--out', planFile])).code, 0);
    const original = fs.readFileSync(planFile, 'utf8');
    const before = await snapshot(url);
    const apply = () => runCli(['apply', '--url', url, '--to', schema, '--plan', planFile, '--auto-approve']);

    forge(planFile, (plan) => ({ ...plan, statements: (plan.statements as string[]).map((sql, i) => (i === 0 ? `${sql}; DELETE FROM public.items` : sql)) }));
    const appended = await apply();
    assert.equal(appended.code, 1, appended.output);
    assert.match(appended.stderr, /is not what the schema files and the target give now/);

    fs.writeFileSync(planFile, original);
    forge(planFile, (plan) => ({ ...plan, statements: [...(plan.statements as string[]), 'DROP TABLE public.items'] }));
    const injected = await apply();
    assert.equal(injected.code, 1, injected.output);
    assert.match(injected.stderr, /is not what the schema files and the target give now/);

    const edited = JSON.parse(original) as Record<string, unknown>;
    fs.writeFileSync(planFile, JSON.stringify({ ...edited, kept: ['table public.items (drop_table)'] }));
    const unsigned = await apply();
    assert.equal(unsigned.code, 1, unsigned.output);
    assert.match(unsigned.stderr, /was edited after it was made/);
    assert.equal(await snapshot(url), before, 'no forged plan changed the target');

    fs.writeFileSync(planFile, original);
    const genuine = await apply();
    assert.equal(genuine.code, 0, genuine.output);
    const again = await apply();
    assert.equal(again.code, 0, again.output);
    assert.match(again.stdout, /already applied/);
    assert.match(again.stdout, /Nothing to apply/);
  });

  test('refuses a plan made from other schema files, or for another database', async () => {
    const url = await seeded();
    const other = await seeded();
    const planFile = path.join(work, 'other.json');
    const schema = file(V2);
    assert.equal((await runCli(['plan', '--url', url, '--to', schema, '--out', planFile])).code, 0);
    fs.appendFileSync(schema, 'CREATE TABLE later (id int);\n');
    const changedSchema = await runCli(['apply', '--url', url, '--to', schema, '--plan', planFile, '--auto-approve']);
    assert.equal(changedSchema.code, 1);
    assert.match(changedSchema.stderr, /made from other schema files/);
    const otherDb = await runCli(['apply', '--url', other, '--to', schema, '--plan', planFile, '--auto-approve']);
    assert.equal(otherDb.code, 1);
    assert.match(otherDb.stderr, /was made for postgres:\/\/.*not postgres:\/\//);
    forge(planFile, (plan) => ({ ...plan, environment: 'sandbox' }));
    const otherEnv = await runCli(['apply', '--url', url, '--to', schema, '--plan', planFile, '--auto-approve']);
    assert.equal(otherEnv.code, 1);
    assert.match(otherEnv.stderr, /was made for environment "sandbox"/);
  });
});

describe('one apply at a time', () => {
  test('a second apply waits for the first, or fails clearly after --lock-wait', async () => {
    const url = await seeded();
    const before = await snapshot(url);
    const holder = await session(url);
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [0x5ac1f125]);
      const blocked = await runCli(['apply', '--url', url, '--to', file(V2), '--auto-approve', '--lock-wait', '1']);
      assert.equal(blocked.code, 1, blocked.output);
      assert.match(blocked.stderr, /Another sqlfirst apply is running against ".*" .* did not finish within 1 s; nothing was applied/);
      assert.equal(await snapshot(url), before);
    } finally {
      await holder.end();
    }
  });

  test('two applies started together both succeed, one after the other', async () => {
    const url = await seeded();
    const schema = file(V2);
    const [a, b] = await Promise.all([
      runCli(['apply', '--url', url, '--to', schema, '--auto-approve']),
      runCli(['apply', '--url', url, '--to', schema, '--auto-approve']),
    ]);
    assert.equal(a.code, 0, a.output);
    assert.equal(b.code, 0, b.output);
    const applied = [a, b].filter((r) => /Applied \d+ statement/.test(r.stdout));
    assert.equal(applied.length, 1, 'exactly one run applied; the other found nothing to do');
  });
});

describe('timeouts', () => {
  test('a change blocked by a long transaction fails after the lock timeout, naming the statement, with nothing half-applied', async () => {
    const url = await seeded();
    const before = await snapshot(url);
    const reader = await session(url);
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT * FROM items');
      const result = await runCli(['apply', '--url', url, '--to', file(V2), '--auto-approve', '--lock-timeout', '1s']);
      assert.equal(result.code, 1, result.output);
      assert.match(result.stderr, /Statement \d+ \((ALTER|CREATE).*items.*\) waited longer than the lock timeout \(1\.0 s\)/);
      assert.match(result.stderr, /rolled back and the target is unchanged/);
    } finally {
      await reader.query('ROLLBACK');
      await reader.end();
    }
    assert.equal(await snapshot(url), before);
  });
});

function spawnApply(url: string, schema: string) {
  const child = spawn(process.execPath, [CLI, 'apply', '--url', url, '--to', schema, '--auto-approve'], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/**
 * Sends `signal` to an apply at the moment it is inside its transaction,
 * waiting for a lock a reader of the table holds; returns the run once it exited.
 */
async function interruptInsideTransaction(url: string, signal: NodeJS.Signals) {
  const reader = await session(url);
  await reader.query('BEGIN');
  await reader.query('SELECT * FROM items');
  const run = spawnApply(url, file(V2));
  try {
    await waitForSessions(run.child.pid, (sessions) => sessions.some((s) => s.xact && s.wait_event_type === 'Lock'));
    run.child.kill(signal);
    return { run, code: await run.exited };
  } finally {
    await reader.query('ROLLBACK');
    await reader.end();
  }
}

describe('interrupted runs', () => {
  test('Ctrl-C during apply rolls back, drops the shadow and exits 1', async () => {
    const url = await seeded();
    const before = await snapshot(url);
    const { run, code } = await interruptInsideTransaction(url, 'SIGINT');
    assert.equal(code, 1, run.output());
    assert.match(run.output(), /Interrupted by SIGINT/);
    assert.equal(await snapshot(url), before);
    assert.deepEqual(await leftoverShadows(server), []);
    assert.deepEqual(await sessionsOf(run.child.pid), [], 'no session of the interrupted run is left');
  });

  test('SIGKILL inside the apply transaction leaves the target as it was', async () => {
    const url = await seeded();
    const before = await snapshot(url);
    const { run } = await interruptInsideTransaction(url, 'SIGKILL');
    // the server notices the dead client and rolls its transaction back
    await waitForSessions(run.child.pid, (sessions) => sessions.length === 0);
    assert.equal(await snapshot(url), before);
  });

  test('SIGKILL at sampled moments leaves the target as it was or fully migrated, and the next run removes the shadows', async () => {
    const reference = await seeded();
    const schema = file(V2);
    assert.equal((await runCli(['apply', '--url', reference, '--to', schema, '--auto-approve'])).code, 0);
    const migrated = await snapshot(reference);
    for (const delay of [100, 400, 700, 1000, 1400]) {
      const url = await seeded();
      const before = await snapshot(url);
      const run = spawnApply(url, schema);
      await new Promise((r) => setTimeout(r, delay));
      run.child.kill('SIGKILL');
      await run.exited;
      await waitForSessions(run.child.pid, (sessions) => sessions.length === 0);
      const after = await snapshot(url);
      assert.ok(after === before || after === migrated, `killed after ${delay} ms: the target is half-migrated:\n${after}`);
    }
    const next = await runCli(['plan', '--url', reference, '--to', schema]);
    assert.equal(next.code, 0, next.output);
    assert.deepEqual(await leftoverShadows(server), [], 'the next run removed the shadows killed runs left');
  });
});

describe('verify after apply', () => {
  test('residue after apply is a failure naming the objects', async () => {
    const url = await seeded();
    // the engine creates this index ON ONLY the parent: the catalog matches, the index is unusable
    const schema = file(`${V1}CREATE TABLE readings (at date NOT NULL, value int) PARTITION BY RANGE (at);
CREATE TABLE readings_2026 PARTITION OF readings FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX readings_at ON readings (at);
`);
    const result = await runCli(['apply', '--url', url, '--to', schema, '--auto-approve']);
    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, /Failed at verify: The target still differs from the schema after apply/);
    assert.match(result.stderr, /index public\.readings_at is invalid/);
  });
});
