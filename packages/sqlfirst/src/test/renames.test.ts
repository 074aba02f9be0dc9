/**
 * Renames by directive against a real PostgreSQL: every row survives, a
 * renamed column's indexes and constraints are not rebuilt, a second run
 * with the directive still in the file is a no-op, a stale
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
  return { plan, renames, notes: [...directiveNotes, ...notes] };
}

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

/** The schema text's directives resolved against the target and the desired state. */
async function resolved(target: pg.Pool, schema: string, desired?: SchemaState) {
  const { directives } = await readRenameDirectives([{ path: 'schema.sql', sql: schema }]);
  return resolveRenames(directives, await readState(target), desired ?? (await readState(await database(schema))));
}

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

  test('a table renamed with its primary key, index, sequence and a foreign key onto it keeps every row and the key, and a second run is a no-op', async () => {
    const target = await database(`
      CREATE TABLE fills (id bigserial PRIMARY KEY, user_id int NOT NULL, qty int NOT NULL CHECK (qty > 0), note text);
      CREATE INDEX fills_user_id_idx ON fills (user_id);
      CREATE TABLE legs (id int PRIMARY KEY, fill_id bigint NOT NULL REFERENCES fills (id));
      INSERT INTO fills (user_id, qty, note) SELECT g % 7, g, 'n' FROM generate_series(1, 1000) g;
      INSERT INTO legs SELECT g, g FROM generate_series(1, 1000) g;`);
    const schema = `
      CREATE TABLE trades ( -- @renamed from=fills
        id bigserial PRIMARY KEY,
        user_id int NOT NULL,
        qty int NOT NULL CHECK (qty > 0),
        memo text -- @renamed from=note
      );
      CREATE INDEX trades_user_id_idx ON trades (user_id);
      CREATE TABLE legs (id int PRIMARY KEY, fill_id bigint NOT NULL REFERENCES trades (id));`;
    const first = await run(target, schema);
    assert.deepEqual(first.plan.changes.map((change) => [change.sql, change.transactional, change.lockClass, change.dataLoss]), [
      ['ALTER TABLE "public"."fills" RENAME TO "trades"', true, 'accessExclusive', undefined],
      ['ALTER TABLE "public"."trades" RENAME COLUMN "note" TO "memo"', true, 'accessExclusive', undefined],
      ['ALTER TABLE "public"."trades" RENAME CONSTRAINT "fills_pkey" TO "trades_pkey"', true, 'accessExclusive', undefined],
      ['ALTER TABLE "public"."trades" RENAME CONSTRAINT "fills_qty_check" TO "trades_qty_check"', true, 'accessExclusive', undefined],
      ['ALTER INDEX "public"."fills_user_id_idx" RENAME TO "trades_user_id_idx"', true, 'accessExclusive', undefined],
      ['ALTER SEQUENCE "public"."fills_id_seq" RENAME TO "trades_id_seq"', true, 'accessExclusive', undefined],
    ]);
    assert.deepEqual(first.notes, []);
    assert.deepEqual(first.renames.map((rename) => rename.text), ['public.fills → public.trades', 'public.fills.note → public.trades.memo']);
    assert.deepEqual(unappliedRenames(first.plan, first.renames), []);
    const [trades] = (await target.query("SELECT count(*)::int AS n, sum(qty)::int AS total, count(*) FILTER (WHERE memo = 'n')::int AS memos FROM trades")).rows;
    assert.deepEqual(trades, { n: 1000, total: 500500, memos: 1000 });
    const [key] = (await target.query("SELECT confrelid::regclass::text AS referenced FROM pg_constraint WHERE conrelid = 'legs'::regclass AND contype = 'f'")).rows;
    assert.deepEqual(key, { referenced: 'trades' });
    await assert.rejects(target.query('INSERT INTO legs VALUES (1001, 1001)'), { code: '23503' });
    // the sequence went on from where it was
    assert.deepEqual((await target.query('INSERT INTO trades (user_id, qty) VALUES (1, 1) RETURNING id::int')).rows, [{ id: 1001 }]);

    const second = await run(target, schema);
    assert.deepEqual(second.plan.changes, []);
    assert.deepEqual(second.notes, [
      'schema.sql line 2: @renamed from=fills: public.fills does not exist in the target; ignored.',
      'schema.sql line 6: @renamed from=note: public.trades.note does not exist in the target; ignored.',
    ]);
  });

  test('a column renamed by directive carries its index, constraints, foreign key and view: the index keeps its OID, every row is kept, a second run is a no-op', async () => {
    const target = await database(`
      CREATE TABLE orders (
        id int PRIMARY KEY,
        avg_price numeric(20,8) NOT NULL DEFAULT 1,
        side text NOT NULL,
        CONSTRAINT orders_price_side UNIQUE (avg_price, side),
        CONSTRAINT orders_price_positive CHECK (avg_price > 0)
      );
      CREATE INDEX orders_price ON orders (avg_price);
      CREATE TABLE fills (id int PRIMARY KEY, price numeric(20,8) NOT NULL, side text NOT NULL,
        CONSTRAINT fills_order FOREIGN KEY (price, side) REFERENCES orders (avg_price, side));
      CREATE VIEW priced AS SELECT id, avg_price FROM orders WHERE avg_price > 10;
      INSERT INTO orders SELECT g, g / 3.0, CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END FROM generate_series(1, 1000) g;
      INSERT INTO fills SELECT id, avg_price, side FROM orders;`);
    const schema = `
      CREATE TABLE orders (
        id int PRIMARY KEY,
        average_price numeric(20,8) NOT NULL DEFAULT 1, -- @renamed from=avg_price
        side text NOT NULL,
        CONSTRAINT orders_price_side UNIQUE (average_price, side),
        CONSTRAINT orders_price_positive CHECK (average_price > 0)
      );
      CREATE INDEX orders_price ON orders (average_price);
      CREATE TABLE fills (id int PRIMARY KEY, price numeric(20,8) NOT NULL, side text NOT NULL,
        CONSTRAINT fills_order FOREIGN KEY (price, side) REFERENCES orders (average_price, side));
      CREATE VIEW priced AS SELECT id, average_price FROM orders WHERE average_price > 10;`;
    const oids = "SELECT 'orders_price'::regclass::oid::int AS idx, 'orders_price_side'::regclass::oid::int AS key, (SELECT oid::int FROM pg_constraint WHERE conname = 'fills_order') AS fk";
    const [before] = (await target.query(oids)).rows;
    const total = (await target.query('SELECT sum(avg_price)::text AS total FROM orders')).rows[0].total;
    const first = await run(target, schema);
    // the view's output column kept the old name when its column was renamed: renaming it too is what the desired view says
    assert.deepEqual(first.plan.changes.map((change) => change.sql), [
      'ALTER TABLE "public"."orders" RENAME COLUMN "avg_price" TO "average_price"',
      'ALTER VIEW "public"."priced" RENAME COLUMN "avg_price" TO "average_price"',
    ]);
    assert.deepEqual(first.notes, []);
    // not rebuilt: the same index, unique index and foreign key
    assert.deepEqual((await target.query(oids)).rows[0], before);
    const [orders] = (await target.query('SELECT count(*)::int AS n, sum(average_price)::text AS total FROM orders')).rows;
    assert.deepEqual(orders, { n: 1000, total });
    assert.deepEqual((await target.query('SELECT count(*)::int AS n FROM priced')).rows, [{ n: 970 }]);
    await assert.rejects(target.query("INSERT INTO fills VALUES (1001, 5000, 'buy')"), { code: '23503' });

    const second = await run(target, schema);
    assert.deepEqual(second.plan.changes, []);
    assert.deepEqual(second.notes, ['schema.sql line 4: @renamed from=avg_price: public.orders.avg_price does not exist in the target; ignored.']);
  });

  test('columns renamed inside a renamed table keep their data and index, their auto-named constraint follows; a swap is refused', async () => {
    const target = await database(`
      CREATE TABLE fills (id int PRIMARY KEY, bid int NOT NULL CHECK (bid > 0), ask int NOT NULL, qty int NOT NULL);
      CREATE INDEX fills_qty_idx ON fills (qty);
      INSERT INTO fills SELECT g, g, -g, g FROM generate_series(1, 1000) g;`);
    const schema = `
      CREATE TABLE trades ( -- @renamed from=fills
        id int PRIMARY KEY,
        price int NOT NULL CHECK (price > 0), -- @renamed from=bid
        ask int NOT NULL,
        quantity int NOT NULL -- @renamed from=qty
      );
      CREATE INDEX trades_quantity_idx ON trades (quantity);`;
    const indexOid = (await target.query("SELECT 'fills_qty_idx'::regclass::oid::int AS oid")).rows[0].oid;
    const first = await run(target, schema);
    assert.deepEqual(first.plan.changes.map((change) => change.sql), [
      'ALTER TABLE "public"."fills" RENAME TO "trades"',
      'ALTER TABLE "public"."trades" RENAME COLUMN "bid" TO "price"',
      'ALTER TABLE "public"."trades" RENAME COLUMN "qty" TO "quantity"',
      'ALTER TABLE "public"."trades" RENAME CONSTRAINT "fills_bid_check" TO "trades_price_check"',
      'ALTER TABLE "public"."trades" RENAME CONSTRAINT "fills_pkey" TO "trades_pkey"',
      'ALTER INDEX "public"."fills_qty_idx" RENAME TO "trades_quantity_idx"',
    ]);
    assert.deepEqual((await target.query("SELECT 'trades_quantity_idx'::regclass::oid::int AS oid")).rows[0].oid, indexOid);
    const [trades] = (await target.query('SELECT count(*)::int AS n, sum(price)::int AS price, sum(ask)::int AS ask, sum(quantity)::int AS quantity FROM trades')).rows;
    assert.deepEqual(trades, { n: 1000, price: 500500, ask: -500500, quantity: 500500 });
    assert.deepEqual((await run(target, schema)).plan.changes, []);

    // a swap: after it both names exist, so a second run would swap them back
    const swapped = 'CREATE TABLE trades (id int PRIMARY KEY,\n  ask int NOT NULL CHECK (ask > 0), -- @renamed from=price\n  price int NOT NULL, -- @renamed from=ask\n  quantity int NOT NULL);\nCREATE INDEX trades_quantity_idx ON trades (quantity);';
    const { renames, notes } = await resolved(target, swapped);
    assert.deepEqual(renames, []);
    assert.deepEqual(notes, [
      'schema.sql line 2: @renamed from=price: public.trades.ask already exists in the target (a swap or a chain of renames); rename through a name neither side uses, one run per step; ignored.',
      'schema.sql line 3: @renamed from=ask: public.trades.price already exists in the target (a swap or a chain of renames); rename through a name neither side uses, one run per step; ignored.',
    ]);
  });

  test('a column renamed while a new column takes its old name: what used the old name follows the rename, what uses the new column is built on it', async () => {
    const target = await database('CREATE TABLE t (id int PRIMARY KEY, p int CHECK (p > 0)); CREATE INDEX t_p ON t (p); INSERT INTO t VALUES (1, 5);');
    const schema = 'CREATE TABLE t (id int PRIMARY KEY,\n  q int CHECK (q > 0), -- @renamed from=p\n  p int);\nCREATE INDEX t_p ON t (p);';
    const { plan } = await run(target, schema);
    assert.deepEqual(plan.changes.map((change) => change.sql), [
      'ALTER TABLE "public"."t" RENAME COLUMN "p" TO "q"',
      'ALTER TABLE "public"."t" RENAME CONSTRAINT "t_p_check" TO "t_q_check"',
      'DROP INDEX "public"."t_p"',
      'ALTER TABLE "public"."t" ADD COLUMN "p" integer',
      'CREATE INDEX t_p ON public.t USING btree (p)',
    ]);
    assert.deepEqual((await target.query('SELECT id, q, p FROM t')).rows, [{ id: 1, q: 5, p: null }]);
  });

  test('an enum value renamed by directive keeps the rows that use it, and a second run is a no-op', async () => {
    const target = await database(`
      CREATE TYPE side AS ENUM ('buy', 'sell');
      CREATE TABLE orders (id int PRIMARY KEY, side side NOT NULL DEFAULT 'sell');
      INSERT INTO orders SELECT g, CASE WHEN g % 4 = 0 THEN 'buy'::side ELSE 'sell' END FROM generate_series(1, 1000) g;`);
    const schema = `
      CREATE TYPE side AS ENUM (
        'buy',
        'sell_short' -- @renamed from=sell
      );
      CREATE TABLE orders (id int PRIMARY KEY, side side NOT NULL DEFAULT 'sell_short');`;
    const first = await run(target, schema);
    assert.deepEqual(first.plan.changes.map((change) => [change.sql, change.dataLoss]), [[`ALTER TYPE "public"."side" RENAME VALUE 'sell' TO 'sell_short'`, undefined]]);
    assert.deepEqual(first.notes, []);
    const counts = await target.query('SELECT side::text, count(*)::int AS n FROM orders GROUP BY 1 ORDER BY 1');
    assert.deepEqual(counts.rows, [{ side: 'buy', n: 250 }, { side: 'sell_short', n: 750 }]);

    const second = await run(target, schema);
    assert.deepEqual(second.plan.changes, []);
    assert.deepEqual(second.notes, ["schema.sql line 4: @renamed from=sell: public.side value 'sell' does not exist in the target; ignored."]);
  });

  test('a table rename leads an online plan whose index is built concurrently after it', async () => {
    const target = await database('CREATE TABLE fills (id int PRIMARY KEY, qty int); INSERT INTO fills SELECT g, g FROM generate_series(1, 1000) g;');
    const schema = 'CREATE TABLE trades ( -- @renamed from=fills\n  id int PRIMARY KEY, qty int);\nCREATE INDEX trades_qty ON trades (qty);';
    const desired = await readState(await database(schema));
    const { renames } = await resolved(target, schema, desired);
    const plan = planChanges(await readState(target), desired, { renames, online: true });
    assert.deepEqual(plan.changes.map((change) => [change.sql, change.transactional]), [
      ['ALTER TABLE "public"."fills" RENAME TO "trades"', true],
      ['ALTER TABLE "public"."trades" RENAME CONSTRAINT "fills_pkey" TO "trades_pkey"', true],
      ['CREATE INDEX CONCURRENTLY trades_qty ON public.trades USING btree (qty)', false],
    ]);
    await applyPlan(plan, target, { desired, planOptions: { renames, online: true } });
    assert.deepEqual(planChanges(await readState(target), desired, { renames, online: true }).changes, []);
    assert.deepEqual((await target.query('SELECT count(*)::int AS n FROM trades')).rows, [{ n: 1000 }]);
  });

  test('a rename the engine cannot apply in place is reported, and stays a drop and a create', async () => {
    const target = await database('CREATE TABLE orders (id int PRIMARY KEY, avg_price numeric(20,8)); CREATE INDEX orders_p ON orders (avg_price);');
    const schema = 'CREATE TABLE orders (id int PRIMARY KEY, avg_price numeric(20,8));\nCREATE INDEX orders_price ON orders (id); -- @renamed from=orders_p';
    const desired = await readState(await database(schema));
    const { renames } = await resolved(target, schema, desired);
    assert.deepEqual(renames.map((r) => r.text), ['public.orders_p → public.orders_price']);
    const plan = planChanges(await readState(target), desired, { renames });
    assert.deepEqual(plan.changes.map((change) => change.verb), ['drop', 'create']);
    assert.deepEqual(unappliedRenames(plan, renames), [
      'public.orders_p → public.orders_price is not applied as a rename (the old and new objects differ beyond their names): rename it alone first, then change it in a second run.',
    ]);
  });

  test('a column renamed and retyped in one run is renamed, then converted: no data lost', async () => {
    const target = await database("CREATE TABLE orders (id int PRIMARY KEY, avg_price numeric(20,8)); INSERT INTO orders VALUES (1, 2.5);");
    const schema = 'CREATE TABLE orders (id int PRIMARY KEY,\n  average_price text -- @renamed from=avg_price\n);';
    const { plan } = await run(target, schema);
    assert.equal(plan.changes[0]?.sql, 'ALTER TABLE "public"."orders" RENAME COLUMN "avg_price" TO "average_price"');
    assert.ok(plan.changes.every((change) => change.dataLoss === undefined && change.verb !== 'drop'));
    assert.deepEqual((await target.query('SELECT average_price FROM orders')).rows, [{ average_price: '2.50000000' }]);
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

  test('without a directive a table renamed with its children and an enum value renamed in place are offered, and applied once accepted', async () => {
    const target = await database(`
      CREATE TYPE side AS ENUM ('buy', 'sell');
      CREATE TABLE fills (id bigserial PRIMARY KEY, side side NOT NULL, qty int);
      CREATE INDEX fills_qty_idx ON fills (qty);
      INSERT INTO fills (side, qty) SELECT 'sell', g FROM generate_series(1, 1000) g;`);
    const schema = `
      CREATE TYPE side AS ENUM ('buy', 'sell_short');
      CREATE TABLE trades (id bigserial PRIMARY KEY, side side NOT NULL, qty int);
      CREATE INDEX trades_qty_idx ON trades (qty);`;
    const desired = await readState(await database(schema));
    const current = await readState(target);
    const candidates = renameCandidates(planChanges(current, desired), current, desired);
    assert.deepEqual(candidates.map((c) => c.text), ['public.fills → public.trades', "public.side value 'sell' → 'sell_short'"]);
    const plan = planChanges(current, desired, { renames: candidates });
    assert.ok(plan.changes.every((change) => change.dataLoss === undefined));
    await applyPlan(plan, target, { desired, planOptions: { renames: candidates } });
    assert.deepEqual((await target.query('SELECT side::text, count(*)::int AS n FROM trades GROUP BY 1')).rows, [{ side: 'sell_short', n: 1000 }]);
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
