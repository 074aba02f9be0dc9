/**
 * Renames by directive against a real PostgreSQL: every row survives, a
 * second run with the directive still in the file is a no-op, a stale
 * directive is reported and ignored. And the hazards of a rewrite of a big
 * table, sized from the catalog.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { applyPlan, planChanges, readRenameDirectives, readState, readTableSizes, renameCandidates, resolveRenames, unappliedRenames, withTableSizes, type SchemaState } from '../engine/index.js';
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

async function database(sql: string): Promise<pg.Pool> {
  const url = await server.createDatabase();
  await server.query(url, sql);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  pools.push(pool);
  return pool;
}

/** One sqlfirst run: directives read from the schema text, resolved against target and desired, planned and applied. */
async function run(target: pg.Pool, schema: string) {
  const desired: SchemaState = await readState(await database(schema));
  const current = await readState(target);
  const { directives, notes: directiveNotes } = await readRenameDirectives([{ path: 'schema.sql', sql: schema }]);
  const { renames, notes } = resolveRenames(directives, current, desired);
  const plan = planChanges(current, desired, { renames });
  await applyPlan(plan, target, { desired, planOptions: { renames } });
  return { plan, notes: [...directiveNotes, ...notes] };
}

// pg-delta renames a table only when nothing under it carries the table's name (an index or a <table>_pkey would)
const OLD = `
  CREATE TABLE fills (id int NOT NULL, qty int NOT NULL, CONSTRAINT fill_id PRIMARY KEY (id));
  CREATE TABLE orders (
    id int PRIMARY KEY,
    avg_price numeric(20,8),
    side text
  );`;

const RENAMED = `
  CREATE TABLE trades ( -- @renamed from=fills
    id int NOT NULL,
    qty int NOT NULL,
    CONSTRAINT fill_id PRIMARY KEY (id)
  );
  CREATE TABLE orders (
    id int PRIMARY KEY,
    average_price numeric(20,8), -- @renamed from=avg_price
    side text
  );`;

describe('renames by directive', () => {
  test('keep every row, and a second run with the directive still there is a no-op', async () => {
    const target = await database(`${OLD}
      INSERT INTO fills SELECT g, g FROM generate_series(1, 1000) g;
      INSERT INTO orders SELECT g, g / 3.0, 'buy' FROM generate_series(1, 1000) g;`);
    const before = (await target.query('SELECT sum(avg_price)::text AS total FROM orders')).rows[0].total;
    const first = await run(target, RENAMED);
    assert.deepEqual(
      first.plan.changes.map((change) => change.sql),
      ['ALTER TABLE "public"."fills" RENAME TO "trades"', 'ALTER TABLE "public"."orders" RENAME COLUMN "avg_price" TO "average_price"'],
    );
    assert.ok(first.plan.changes.every((change) => change.dataLoss === undefined));
    assert.deepEqual(first.notes, []);
    const [trades] = (await target.query('SELECT count(*)::int AS n, sum(qty)::int AS total FROM trades')).rows;
    assert.deepEqual(trades, { n: 1000, total: 500500 });
    const [orders] = (await target.query('SELECT count(*)::int AS n, sum(average_price)::text AS total FROM orders')).rows;
    assert.deepEqual(orders, { n: 1000, total: before });

    const second = await run(target, RENAMED);
    assert.deepEqual(second.plan.changes, []);
    assert.equal(second.notes.length, 2);
    assert.deepEqual(second.notes[0], 'schema.sql line 2: @renamed from=fills: public.fills does not exist in the target; ignored.');
  });

  test('a directive whose old name the target lacks is reported and ignored', async () => {
    const target = await database(OLD);
    const schema = OLD.replace('side text', 'side text -- @renamed from=direction');
    const { plan, notes } = await run(target, schema);
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(notes, ['schema.sql line 6: @renamed from=direction: public.orders.direction does not exist in the target; ignored.']);
  });

  test('a rename the engine cannot apply in place is reported, and stays a drop and a create', async () => {
    const target = await database('CREATE TABLE fills (id int NOT NULL, qty int); CREATE INDEX fills_qty ON fills (qty);');
    const schema = 'CREATE TABLE trades ( -- @renamed from=fills\n  id int NOT NULL, qty int);\nCREATE INDEX trades_qty ON trades (qty);';
    const desired = await readState(await database(schema));
    const current = await readState(target);
    const { renames } = resolveRenames((await readRenameDirectives([{ path: 'schema.sql', sql: schema }])).directives, current, desired);
    assert.deepEqual(renames.map((r) => r.text), ['public.fills → public.trades']);
    const plan = planChanges(current, desired, { renames });
    assert.ok(plan.changes.some((change) => change.dataLoss !== undefined));
    assert.deepEqual(unappliedRenames(plan, renames).length, 1);
    assert.match(unappliedRenames(plan, renames)[0], /^public\.fills → public\.trades is not applied as a rename \(own payload matches but the subtree differs/);
  });

  test('without a directive the rename is offered as a candidate, and applied once accepted', async () => {
    const target = await database(`${OLD} INSERT INTO orders VALUES (1, 2.5, 'buy');`);
    const desired = await readState(await database(OLD.replace('avg_price', 'average_price')));
    const unconfirmed = planChanges(await readState(target), desired);
    assert.ok(unconfirmed.changes.some((change) => change.dataLoss !== undefined), 'without confirmation the column is dropped');
    const candidates = renameCandidates(unconfirmed);
    assert.deepEqual(candidates.map((c) => c.text), ['public.orders.avg_price → public.orders.average_price']);
    const plan = planChanges(await readState(target), desired, { renames: candidates });
    await applyPlan(plan, target, { desired, planOptions: { renames: candidates } });
    assert.deepEqual((await target.query('SELECT average_price::text AS p FROM orders')).rows, [{ p: '2.50000000' }]);
  });
});

describe('hazards', () => {
  test('a column type change on a big table says it rewrites it and blocks reads and writes, with its size', async () => {
    const target = await database(`CREATE TABLE candles (id int PRIMARY KEY, price real);
      INSERT INTO candles SELECT g, g FROM generate_series(1, 200000) g; ANALYZE candles;`);
    const desired = await readState(await database('CREATE TABLE candles (id int PRIMARY KEY, price numeric(20,8));'));
    const plan = planChanges(await readState(target), desired);
    const sized = withTableSizes(plan, await readTableSizes(target, plan));
    const hazards = sized.changes.flatMap((change) => change.hazards);
    assert.deepEqual(hazards.map((h) => [h.kind, h.table, h.rows]), [
      ['rewrites-table', 'public.candles', 200000],
      ['blocks-reads-and-writes', 'public.candles', 200000],
    ]);
    assert.match(hazards[1].text, /^blocks reads and writes to public\.candles \(≈200 k rows, \d+(\.\d)? MB\) while the table is rewritten$/);
  });
});
