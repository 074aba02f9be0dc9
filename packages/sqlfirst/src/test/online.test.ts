/**
 * Online plans against a real, busy PostgreSQL: a writer inserts into a
 * table of a million rows while an index, a foreign key, a CHECK and a NOT
 * NULL are added to it. Online, the writer never waits long; the same apply
 * planned for an idle database stalls it for the whole build. UNIQUE and
 * PRIMARY KEY are added through a concurrent index; a failed concurrent
 * index build (INVALID index) is repaired by the next run; a lock held by
 * another session is waited for, a bounded number of times.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ApplyFailure, applyPlan, invalidIndexes, planChanges, readState, type ApplyOptions, type MigrationPlan, type SchemaState } from '../engine/index.js';
import { runCli } from './support/cli.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
const pools: pg.Pool[] = [];

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await Promise.all(pools.map((pool) => pool.end().catch(() => {})));
  await server?.stop();
});

function poolFor(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on('error', () => {});
  pools.push(pool);
  return pool;
}

/** The desired state, loaded with plain SQL into a database of its own. */
async function shadowState(sql: string): Promise<SchemaState> {
  const url = await server.createDatabase();
  await server.query(url, sql);
  return readState(poolFor(url));
}

async function plan(target: pg.Pool, desired: SchemaState, online: boolean): Promise<MigrationPlan> {
  return planChanges(await readState(target), desired, { online });
}

async function apply(target: pg.Pool, desired: SchemaState, online: boolean, options: Partial<ApplyOptions> = {}): Promise<MigrationPlan> {
  const migration = await plan(target, desired, online);
  await applyPlan(migration, target, { desired, planOptions: { online }, lockTimeoutMs: 5_000, ...options });
  return migration;
}

/** Inserts one row at a time until stopped; the longest wait between two inserts is the stall writers saw. */
function startWriter(url: string): { stop(): Promise<{ longestStallMs: number; inserts: number }> } {
  let stopping = false;
  const deadline = Date.now() + 20_000;
  const done = (async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let last = Date.now();
    let longestStallMs = 0;
    let inserts = 0;
    try {
      while (!stopping && Date.now() < deadline) {
        await client.query('INSERT INTO orders (parent_id, qty) VALUES (1, 1)');
        const now = Date.now();
        longestStallMs = Math.max(longestStallMs, now - last);
        last = now;
        inserts += 1;
      }
    } finally {
      await client.end();
    }
    return { longestStallMs, inserts };
  })();
  return {
    async stop() {
      stopping = true;
      return done;
    },
  };
}

const ROWS = 2_000_000;
const BEFORE = `
  CREATE TABLE parent (id int PRIMARY KEY);
  CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, parent_id int, qty int);`;
const AFTER = `
  CREATE TABLE parent (id int PRIMARY KEY);
  CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id int NOT NULL REFERENCES parent (id),
    qty int CONSTRAINT qty_positive CHECK (qty > 0));
  CREATE INDEX orders_qty ON orders (qty);`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('online apply on a busy table', () => {
  let template: string;
  let desired: SchemaState;

  before(async () => {
    template = await server.createDatabase();
    await server.query(template, `${BEFORE}
      INSERT INTO parent SELECT generate_series(1, 10);
      INSERT INTO orders (parent_id, qty) SELECT 1 + g % 10, 1 + g % 1000 FROM generate_series(1, ${ROWS}) g;
      ANALYZE orders;`);
    desired = await shadowState(AFTER);
  });

  /** A copy of the million-row table, written to while the plan is applied. */
  async function applyWhileWriting(online: boolean) {
    const url = await server.createDatabase();
    await server.query(server.url, `DROP DATABASE "${new URL(url).pathname.slice(1)}"`);
    await server.query(server.url, `CREATE DATABASE "${new URL(url).pathname.slice(1)}" TEMPLATE "${new URL(template).pathname.slice(1)}"`);
    const target = poolFor(url);
    const progress: string[] = [];
    const statementStarts: number[] = [];
    const writer = startWriter(url);
    await sleep(300);
    let migration: MigrationPlan;
    try {
      migration = await apply(target, desired, online, {
        onProgress: (_index, text) => progress.push(text),
        onStatement: () => statementStarts.push(Date.now()),
      });
    } finally {
      await sleep(300);
    }
    // from the first statement to the end of the apply: the build, as a writer can feel it
    const buildMs = Date.now() - 300 - statementStarts[0];
    const { longestStallMs, inserts } = await writer.stop();
    return { target, migration, buildMs, longestStallMs, inserts, progress };
  }

  test('online, the writer never stalls for long; planned for an idle database, it stalls for the build', async () => {
    const online = await applyWhileWriting(true);
    const sql = online.migration.changes.map((change) => change.sql);
    assert.ok(sql.includes('CREATE INDEX CONCURRENTLY orders_qty ON public.orders USING btree (qty)'), sql.join('\n'));
    assert.ok(sql.some((s) => s.endsWith('FOREIGN KEY (parent_id) REFERENCES public.parent(id) NOT VALID')), sql.join('\n'));
    assert.ok(sql.includes('ALTER TABLE "public"."orders" VALIDATE CONSTRAINT "qty_positive"'), sql.join('\n'));
    assert.ok(sql.includes('ALTER TABLE "public"."orders" VALIDATE CONSTRAINT "sqlfirst_not_null_parent_id"'), sql.join('\n'));
    // no online change holds a lock that blocks writers while it works
    assert.deepEqual(online.migration.changes.flatMap((change) => change.hazards.filter((h) => h.kind.startsWith('blocks'))), []);
    assert.deepEqual(
      online.migration.changes.filter((change) => change.work !== 'none').map((change) => change.transactional),
      [false, false, false, false],
      'every scan and build runs alone, outside a transaction',
    );
    // converged: nothing left, every constraint valid, no helper left
    assert.deepEqual((await plan(online.target, desired, true)).changes, []);
    const [{ invalid }] = (await online.target.query("SELECT count(*)::int AS invalid FROM pg_constraint WHERE conrelid = 'orders'::regclass AND NOT convalidated")).rows;
    assert.equal(invalid, 0);
    assert.ok(online.progress.length > 0 || online.buildMs < 1_000, 'index build progress was reported');

    const idle = await applyWhileWriting(false);
    assert.ok(idle.migration.changes.some((change) => change.hazards.some((h) => h.kind === 'blocks-writes' && h.table === 'public.orders')));
    console.log(`writer's longest stall: online ${online.longestStallMs} ms (${online.inserts} inserts, build ${online.buildMs} ms); idle plan ${idle.longestStallMs} ms (${idle.inserts} inserts, build ${idle.buildMs} ms); progress: ${online.progress.at(-1)}`);
    assert.ok(online.longestStallMs < 1_500, `online stall ${online.longestStallMs} ms`);
    assert.ok(idle.longestStallMs > 3 * online.longestStallMs && idle.longestStallMs > 500, `idle-plan stall ${idle.longestStallMs} ms vs online ${online.longestStallMs} ms`);
    assert.ok(idle.longestStallMs > idle.buildMs / 2, 'the writer waited for most of the build');
  });
});

describe('a failed concurrent index build', () => {
  test('leaves an INVALID index that the next run drops and builds again, concurrently', async () => {
    await failThenRepair(
      `CREATE TABLE accounts (id int PRIMARY KEY, code text); CREATE UNIQUE INDEX accounts_code ON accounts (code);`,
      (error) => error.code === '23505',
      'public.accounts_code',
      [
        ['DROP INDEX CONCURRENTLY "public"."accounts_code"', false],
        ['CREATE UNIQUE INDEX CONCURRENTLY accounts_code ON public.accounts USING btree (code)', false],
      ],
    );
  });
});

/**
 * `desired` applied online to 1,000 accounts whose codes repeat: the concurrent unique build fails
 * (`failed` tells the error) and leaves `invalid` INVALID; once the duplicates are gone, the next
 * plan is `repair` (statement, transactional), it applies, and the plan after it is empty.
 */
async function failThenRepair(desiredSql: string, failed: (error: ApplyFailure) => boolean, invalid: string, repair: [string, boolean][]): Promise<void> {
  const url = await server.createDatabase();
  await server.query(url, `CREATE TABLE accounts (id int PRIMARY KEY, code text); INSERT INTO accounts SELECT g, 'c' || (g % 50) FROM generate_series(1, 1000) g;`);
  const target = poolFor(url);
  const desired = await shadowState(desiredSql);

  await assert.rejects(apply(target, desired, true), (error: unknown) => error instanceof ApplyFailure && failed(error));
  assert.deepEqual(await invalidIndexes(target), [invalid]);

  await server.query(url, `DELETE FROM accounts WHERE id > 50`);
  const planned = await plan(target, desired, true);
  assert.deepEqual(planned.changes.map((change) => [change.sql, change.transactional]), repair);
  await applyPlan(planned, target, { desired, planOptions: { online: true } });
  assert.deepEqual(await invalidIndexes(target), []);
  assert.deepEqual((await plan(target, desired, true)).changes, []);
}

describe('UNIQUE and PRIMARY KEY added online', () => {
  test('each through its own concurrent index build, then ADD CONSTRAINT … USING INDEX; the key columns NOT NULL through a validated CHECK', async () => {
    const url = await server.createDatabase();
    await server.query(url, `CREATE TABLE accounts (id int, code text, region text); INSERT INTO accounts SELECT g, 'c' || g, 'r' || (g % 3) FROM generate_series(1, 5000) g;`);
    const target = poolFor(url);
    const desired = await shadowState(`CREATE TABLE accounts (id int PRIMARY KEY, code text, region text, CONSTRAINT accounts_code_region UNIQUE NULLS NOT DISTINCT (code, region) INCLUDE (id));`);
    const migration = await plan(target, desired, true);
    assert.deepEqual(
      migration.changes.map((change) => [change.sql, change.transactional, change.work]),
      [
        ['ALTER TABLE "public"."accounts" ADD CONSTRAINT "sqlfirst_not_null_id" CHECK ("id" IS NOT NULL) NOT VALID', true, 'none'],
        ['ALTER TABLE "public"."accounts" VALIDATE CONSTRAINT "sqlfirst_not_null_id"', false, 'scan'],
        ['ALTER TABLE "public"."accounts" ALTER COLUMN "id" SET NOT NULL', true, 'none'],
        ['ALTER TABLE "public"."accounts" DROP CONSTRAINT "sqlfirst_not_null_id"', true, 'none'],
        ['CREATE UNIQUE INDEX CONCURRENTLY "accounts_code_region" ON "public"."accounts" USING btree ("code", "region") INCLUDE ("id") NULLS NOT DISTINCT', false, 'index-build'],
        ['ALTER TABLE "public"."accounts" ADD CONSTRAINT "accounts_code_region" UNIQUE USING INDEX "accounts_code_region"', true, 'none'],
        ['CREATE UNIQUE INDEX CONCURRENTLY "accounts_pkey" ON "public"."accounts" USING btree ("id")', false, 'index-build'],
        ['ALTER TABLE "public"."accounts" ADD CONSTRAINT "accounts_pkey" PRIMARY KEY USING INDEX "accounts_pkey"', true, 'none'],
      ],
    );
    assert.deepEqual(migration.changes.flatMap((change) => change.hazards.filter((h) => h.kind.startsWith('blocks'))), []);
    await applyPlan(migration, target, { desired, planOptions: { online: true }, lockTimeoutMs: 5_000 });
    assert.deepEqual((await plan(target, desired, true)).changes, []);
    const constraints = await server.query(url, "SELECT conname, contype, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'accounts'::regclass AND contype IN ('u', 'p') ORDER BY 1");
    assert.deepEqual(constraints, [
      { conname: 'accounts_code_region', contype: 'u', def: 'UNIQUE NULLS NOT DISTINCT (code, region) INCLUDE (id)' },
      { conname: 'accounts_pkey', contype: 'p', def: 'PRIMARY KEY (id)' },
    ]);
  });

  test('a UNIQUE constraint whose concurrent build met duplicates leaves an INVALID index; once they are fixed, the next run rebuilds it and attaches it', async () => {
    await failThenRepair(
      `CREATE TABLE accounts (id int PRIMARY KEY, code text CONSTRAINT accounts_code_key UNIQUE);`,
      (error) => error.code === '23505' && !error.inDoubt && error.details.table === 'public.accounts' && error.details.invalidIndex === 'public.accounts_code_key',
      'public.accounts_code_key',
      [
        ['DROP INDEX CONCURRENTLY "public"."accounts_code_key"', false],
        ['CREATE UNIQUE INDEX CONCURRENTLY "accounts_code_key" ON "public"."accounts" USING btree ("code")', false],
        ['ALTER TABLE "public"."accounts" ADD CONSTRAINT "accounts_code_key" UNIQUE USING INDEX "accounts_code_key"', true],
      ],
    );
  });
});

describe('progress of a step without a progress view', () => {
  test('a VALIDATE CONSTRAINT that runs for seconds reports what it does and for how long', async () => {
    const url = await server.createDatabase();
    // a CHECK that takes 0.1 s a row: the validation of 25 rows runs for about 2.5 s
    const slow = `CREATE FUNCTION slow_positive(n int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT pg_sleep(0.1) IS NOT NULL AND n > 0 $$;`;
    await server.query(url, `${slow} CREATE TABLE readings (id int PRIMARY KEY, n int); INSERT INTO readings SELECT g, g FROM generate_series(1, 25) g; ANALYZE readings;`);
    const target = poolFor(url);
    const desired = await shadowState(`${slow} CREATE TABLE readings (id int PRIMARY KEY, n int CONSTRAINT n_positive CHECK (slow_positive(n)));`);
    const progress: string[] = [];
    const migration = await apply(target, desired, true, { onProgress: (index, text) => progress.push(`${index}: ${text}`) });
    const validate = migration.changes.findIndex((change) => change.sql === 'ALTER TABLE "public"."readings" VALIDATE CONSTRAINT "n_positive"');
    assert.notEqual(validate, -1, migration.changes.map((change) => change.sql).join('\n'));
    const lines = progress.filter((line) => line.startsWith(`${validate}: `));
    assert.ok(lines.length >= 1, progress.join('\n'));
    assert.match(lines[0], /^\d+: checking every row of public\.readings: running, \d\.\d s$/);
  });

  test('a rewrite that runs for seconds reports what it does and for how long', async () => {
    const url = await server.createDatabase();
    // a domain whose CHECK takes 0.1 s a row: rewriting 25 rows into it runs for about 2.5 s
    const slow = `CREATE FUNCTION slow_positive(n bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT pg_sleep(0.1) IS NOT NULL AND n > 0 $$;
      CREATE DOMAIN positive AS bigint CHECK (slow_positive(VALUE));`;
    await server.query(url, `${slow} CREATE TABLE readings (id int PRIMARY KEY, n int); INSERT INTO readings SELECT g, g FROM generate_series(1, 25) g;`);
    const target = poolFor(url);
    const desired = await shadowState(`${slow} CREATE TABLE readings (id int PRIMARY KEY, n positive);`);
    const progress: string[] = [];
    const migration = await apply(target, desired, true, { onProgress: (index, text) => progress.push(`${index}: ${text}`) });
    const rewrite = migration.changes.findIndex((change) => change.work === 'rewrite');
    assert.notEqual(rewrite, -1, migration.changes.map((change) => `${change.work}: ${change.sql}`).join('\n'));
    assert.match(progress.find((line) => line.startsWith(`${rewrite}: `)) ?? progress.join('\n'), /^\d+: rewriting public\.readings: running, \d\.\d s$/);
  });
});

describe('a lock another session holds', () => {
  const desiredSql = `CREATE TABLE accounts (id int PRIMARY KEY, code text); CREATE INDEX accounts_code ON accounts (code);`;

  /**
   * A table another session locks until `release`: SHARE, as a plain CREATE
   * INDEX would, or a reader's or a writer's transaction that stays open.
   */
  async function lockedTable(holding: 'share' | 'open read' | 'open write' = 'share') {
    const url = await server.createDatabase();
    await server.query(url, `CREATE TABLE accounts (id int PRIMARY KEY, code text); INSERT INTO accounts SELECT g, 'c' || g FROM generate_series(1, 1000) g;`);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query({ share: 'LOCK TABLE accounts IN SHARE MODE', 'open read': 'SELECT count(*) FROM accounts', 'open write': "INSERT INTO accounts VALUES (0, 'written')" }[holding]);
    const [{ pid }] = (await holder.query('SELECT pg_backend_pid() AS pid')).rows;
    return { url, holder, holderPid: pid as number, release: () => holder.query('COMMIT') };
  }

  /**
   * Watches, from the server's side, the attempts that wait for the holder's
   * lock: each attempt is a new statement (its own query_start) whose lock on
   * the table is not granted and whose blocker is the holder.
   */
  function watchAttempts(url: string, holderPid: number) {
    const seen = new Set<string>();
    let stopped = false;
    const observer = new pg.Client({ connectionString: url });
    const running = (async () => {
      await observer.connect();
      while (!stopped) {
        const { rows } = await observer.query<{ attempt: string }>(
          `SELECT a.pid || '@' || a.query_start AS attempt FROM pg_stat_activity a
             JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted AND l.locktype = 'relation' AND l.relation = 'accounts'::regclass
            WHERE $1 = ANY (pg_blocking_pids(a.pid))`,
          [holderPid],
        );
        for (const row of rows) seen.add(row.attempt);
        await sleep(20);
      }
      await observer.end();
    })();
    return { seen, stop: async () => ((stopped = true), await running) };
  }

  test('online, a statement that cannot get its lock in time is tried again while the lock is held, and succeeds once it is released', async () => {
    const { url, holder, holderPid, release } = await lockedTable();
    const target = poolFor(url);
    const desired = await shadowState(desiredSql);
    const watcher = watchAttempts(url, holderPid);
    const progress: string[] = [];
    try {
      // long enough for a progress line (every 500 ms) to see the wait
      let settled = false;
      const applying = apply(target, desired, true, { lockTimeoutMs: 1_000, onProgress: (_index, text) => progress.push(text) }).finally(() => (settled = true));
      // released only once the server has shown two attempts waiting behind the holder (an apply that gives up first fails the test)
      while (watcher.seen.size < 2 && !settled) await sleep(20);
      await release();
      await applying;
    } finally {
      await watcher.stop();
      await holder.end();
    }
    assert.ok(watcher.seen.size >= 2 && watcher.seen.size <= 3, [...watcher.seen].join(', '));
    assert.ok(progress.some((line) => line.startsWith(`building an index on public.accounts`) && line.includes(`waiting for a lock on public.accounts held by session ${holderPid}`)), progress.join('\n'));
    assert.deepEqual(await invalidIndexes(target), []);
    assert.deepEqual((await plan(target, desired, true)).changes, []);
  });

  test('online, a transaction whose brief ACCESS EXCLUSIVE lock waits behind an open read is rolled back and tried again as a whole', async () => {
    const { url, holder, holderPid, release } = await lockedTable('open read');
    const target = poolFor(url);
    const desired = await shadowState(`CREATE TABLE accounts (id int PRIMARY KEY, code text CONSTRAINT code_set CHECK (code <> ''));`);
    const watcher = watchAttempts(url, holderPid);
    const statements: string[] = [];
    try {
      let settled = false;
      const applying = apply(target, desired, true, { lockTimeoutMs: 200, onStatement: (_index, sql) => statements.push(sql) }).finally(() => (settled = true));
      while (watcher.seen.size < 2 && !settled) await sleep(20);
      await release();
      await applying;
    } finally {
      await watcher.stop();
      await holder.end();
    }
    assert.ok(watcher.seen.size >= 2 && watcher.seen.size <= 3, [...watcher.seen].join(', '));
    const notValid = 'ALTER TABLE "public"."accounts" ADD CONSTRAINT "code_set" CHECK ((code <> \'\'::text)) NOT VALID';
    assert.ok(statements.filter((sql) => sql === notValid).length >= 2, statements.join('\n'));
    assert.deepEqual((await plan(target, desired, true)).changes, []);
  });

  test('when the lock is never released, the run ends after a bounded number of attempts in one sentence naming the table and the lock timeout; the target is as it was', async () => {
    const { url, holder, holderPid } = await lockedTable();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-lock-'));
    const watcher = watchAttempts(url, holderPid);
    let result: Awaited<ReturnType<typeof runCli>>;
    try {
      fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ workspaces: [] }));
      fs.writeFileSync(path.join(root, 'schema.sql'), desiredSql);
      result = await runCli(['apply', '--url', url, '--to', 'file://schema.sql', '--online', '--lock-timeout', '200ms', '--auto-approve', '--no-typecheck'], { cwd: root });
    } finally {
      await watcher.stop();
      await holder.end();
      fs.rmSync(root, { recursive: true, force: true });
    }
    assert.equal(result.code, 1, result.output);
    assert.equal(watcher.seen.size, 3, `attempts seen waiting behind the holder: ${[...watcher.seen].join(', ')}`);
    const sentence = result.stderr.trim().split('\n').at(-1)!;
    assert.match(sentence, /accounts/);
    assert.match(sentence, /lock timeout \(200 ms\)/);
    assert.deepEqual(await server.query(url, "SELECT indexname FROM pg_indexes WHERE tablename = 'accounts' ORDER BY 1"), [{ indexname: 'accounts_pkey' }]);
  });

  test('a concurrent build that times out waiting for an open write leaves an INVALID index it cannot drop either: the failure names it, the next run rebuilds it', async () => {
    const { url, holder, release } = await lockedTable('open write');
    const target = poolFor(url);
    const desired = await shadowState(desiredSql);
    try {
      await assert.rejects(apply(target, desired, true, { lockTimeoutMs: 200 }), (error: unknown) => {
        assert.ok(error instanceof ApplyFailure);
        assert.deepEqual([error.code, error.details], ['55P03', { table: 'public.accounts', attempts: 1, invalidIndex: 'public.accounts_code' }]);
        return true;
      });
      assert.deepEqual(await invalidIndexes(target), ['public.accounts_code']);
      await release();
      await apply(target, desired, true, { lockTimeoutMs: 200 });
    } finally {
      await holder.end();
    }
    assert.deepEqual(await invalidIndexes(target), []);
    assert.deepEqual((await plan(target, desired, true)).changes, []);
  });
});
