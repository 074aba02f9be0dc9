/**
 * Online plans against a real, busy PostgreSQL: a writer inserts into a
 * table of a million rows while an index, a foreign key, a CHECK and a NOT
 * NULL are added to it. Online, the writer never waits long; the same apply
 * planned for an idle database stalls it for the whole build. And a failed
 * concurrent index build (INVALID index) is repaired by the next run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ApplyFailure, applyPlan, invalidIndexes, planChanges, readState, type ApplyOptions, type MigrationPlan, type SchemaState } from '../engine/index.js';
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
    const url = await server.createDatabase();
    await server.query(url, `CREATE TABLE accounts (id int PRIMARY KEY, code text); INSERT INTO accounts SELECT g, 'c' || (g % 50) FROM generate_series(1, 1000) g;`);
    const target = poolFor(url);
    const desired = await shadowState(`CREATE TABLE accounts (id int PRIMARY KEY, code text); CREATE UNIQUE INDEX accounts_code ON accounts (code);`);

    await assert.rejects(apply(target, desired, true), (error: unknown) => error instanceof ApplyFailure && error.code === '23505');
    assert.deepEqual(await invalidIndexes(target), ['public.accounts_code']);

    await server.query(url, `DELETE FROM accounts WHERE id > 50`);
    const repair = await plan(target, desired, true);
    assert.deepEqual(
      repair.changes.map((change) => [change.sql, change.transactional]),
      [
        ['DROP INDEX CONCURRENTLY "public"."accounts_code"', false],
        ['CREATE UNIQUE INDEX CONCURRENTLY accounts_code ON public.accounts USING btree (code)', false],
      ],
    );
    await applyPlan(repair, target, { desired, planOptions: { online: true } });
    assert.deepEqual(await invalidIndexes(target), []);
    assert.deepEqual((await plan(target, desired, true)).changes, []);
  });
});
