import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FactBase, type Action, type Delta, type Plan, type StableId } from '@supabase/pg-delta';
import { sqlParser } from '../sql-parser.js';
import { tableWork } from './hazards.js';
import { onlinePlan } from './online.js';

const orders = { kind: 'table', schema: 'public', name: 'orders' } as StableId;
const fresh = { kind: 'table', schema: 'public', name: 'fresh' } as StableId;
const events = { kind: 'table', schema: 'public', name: 'events' } as StableId;
const current = new FactBase([{ id: orders, payload: { partitionKey: null } } as never, { id: events, payload: { partitionKey: 'RANGE (at)' } } as never], []);

function action(fields: Partial<Action>): Action {
  return { sql: '', verb: 'create', produces: [], consumes: [orders], destroys: [], releases: [], transactionality: 'transactional', lockClass: 'none', newSegmentBefore: false, dataLoss: 'none', rewriteRisk: false, ...fields };
}

function plan(actions: Action[], deltas: Delta[] = []): Plan {
  return { actions, deltas, safetyReport: { destructiveActions: 0, rewriteRiskActions: 0, nonTransactionalActions: 0, lockClasses: {} } } as unknown as Plan;
}

test('online steps for existing tables; a table the plan creates is left as planned', () => {
  const index = { kind: 'index', schema: 'public', name: 'orders_qty' } as StableId;
  const freshIndex = { kind: 'index', schema: 'public', name: 'fresh_a' } as StableId;
  const fk = { kind: 'constraint', schema: 'public', table: 'orders', name: 'orders_parent_fkey' } as StableId;
  const column = { kind: 'column', schema: 'public', table: 'orders', name: 'parent_id' } as StableId;
  const old = { kind: 'index', schema: 'public', name: 'orders_old' } as StableId;
  const plain = plan(
    [
      action({ verb: 'drop', destroys: [old], lockClass: 'accessExclusive', sql: 'DROP INDEX "public"."orders_old"' }),
      action({ produces: [fresh], consumes: [], sql: 'CREATE TABLE fresh (a int)' }),
      action({ produces: [freshIndex], consumes: [fresh], lockClass: 'share', sql: 'CREATE INDEX fresh_a ON public.fresh USING btree (a)' }),
      action({ produces: [index], lockClass: 'share', sql: 'CREATE INDEX orders_qty ON public.orders USING btree (qty)' }),
      action({ produces: [fk], lockClass: 'shareRowExclusive', sql: 'ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_parent_fkey" FOREIGN KEY (parent_id) REFERENCES public.parent(id)' }),
      action({ verb: 'alter', consumes: [column], lockClass: 'accessExclusive', sql: 'ALTER TABLE "public"."orders" ALTER COLUMN "parent_id" SET NOT NULL' }),
    ],
    [
      { verb: 'add', fact: { id: fk, parent: orders, payload: { type: 'f', validated: true, def: 'FOREIGN KEY (parent_id) REFERENCES public.parent(id)' } } as never },
      { verb: 'set', id: column, attr: 'notNull', from: false, to: true },
    ],
  );
  const concurrent = plan([
    action({ produces: [freshIndex], consumes: [fresh], lockClass: 'shareUpdateExclusive', transactionality: 'nonTransactional', sql: 'CREATE INDEX CONCURRENTLY fresh_a ON public.fresh USING btree (a)' }),
    action({ produces: [index], lockClass: 'shareUpdateExclusive', transactionality: 'nonTransactional', sql: 'CREATE INDEX CONCURRENTLY orders_qty ON public.orders USING btree (qty)' }),
  ]);
  const online = onlinePlan(plain, concurrent, current);
  assert.deepEqual(
    online.actions.map((a) => [a.sql, a.transactionality === 'transactional', a.lockClass]),
    [
      ['DROP INDEX CONCURRENTLY "public"."orders_old"', false, 'shareUpdateExclusive'],
      ['CREATE TABLE fresh (a int)', true, 'none'],
      ['CREATE INDEX fresh_a ON public.fresh USING btree (a)', true, 'share'],
      ['CREATE INDEX CONCURRENTLY orders_qty ON public.orders USING btree (qty)', false, 'shareUpdateExclusive'],
      ['ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_parent_fkey" FOREIGN KEY (parent_id) REFERENCES public.parent(id) NOT VALID', true, 'shareRowExclusive'],
      ['ALTER TABLE "public"."orders" VALIDATE CONSTRAINT "orders_parent_fkey"', false, 'shareUpdateExclusive'],
      ['ALTER TABLE "public"."orders" ADD CONSTRAINT "sqlfirst_not_null_parent_id" CHECK ("parent_id" IS NOT NULL) NOT VALID', true, 'accessExclusive'],
      ['ALTER TABLE "public"."orders" VALIDATE CONSTRAINT "sqlfirst_not_null_parent_id"', false, 'shareUpdateExclusive'],
      ['ALTER TABLE "public"."orders" ALTER COLUMN "parent_id" SET NOT NULL', true, 'accessExclusive'],
      ['ALTER TABLE "public"."orders" DROP CONSTRAINT "sqlfirst_not_null_parent_id"', true, 'accessExclusive'],
    ],
  );
  assert.equal(online.safetyReport.nonTransactionalActions, 4);
});

test('UNIQUE and PRIMARY KEY on an existing table: the index built concurrently under the constraint name, then attached', async () => {
  await sqlParser();
  const unique = { kind: 'constraint', schema: 'public', table: 'orders', name: 'orders_code_key' } as StableId;
  const pkey = { kind: 'constraint', schema: 'public', table: 'orders', name: 'orders_pkey' } as StableId;
  const overlaps = { kind: 'constraint', schema: 'public', table: 'orders', name: 'orders_during' } as StableId;
  const eventKey = { kind: 'constraint', schema: 'public', table: 'events', name: 'events_pkey' } as StableId;
  const plain = plan(
    [
      action({ produces: [unique], lockClass: 'accessExclusive', sql: 'ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_code_key" UNIQUE …' }),
      action({ produces: [pkey], lockClass: 'accessExclusive', sql: 'ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_pkey" PRIMARY KEY …' }),
      action({ produces: [overlaps], lockClass: 'accessExclusive', sql: 'ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_during" UNIQUE … WITHOUT OVERLAPS' }),
      action({ produces: [eventKey], consumes: [events], lockClass: 'accessExclusive', sql: 'ALTER TABLE "public"."events" ADD CONSTRAINT "events_pkey" PRIMARY KEY …' }),
    ],
    [
      { verb: 'add', fact: { id: unique, parent: orders, payload: { type: 'u', validated: true, def: 'UNIQUE NULLS NOT DISTINCT (code, "Region") INCLUDE (qty) WITH (fillfactor=80, deduplicate_items=off) DEFERRABLE' } } as never },
      { verb: 'add', fact: { id: pkey, parent: orders, payload: { type: 'p', validated: true, def: 'PRIMARY KEY (id)' } } as never },
      { verb: 'add', fact: { id: overlaps, parent: orders, payload: { type: 'u', validated: true, def: 'UNIQUE (id, during WITHOUT OVERLAPS)' } } as never },
      { verb: 'add', fact: { id: eventKey, parent: events, payload: { type: 'p', validated: true, def: 'PRIMARY KEY (id, at)' } } as never },
    ],
  );
  const online = onlinePlan(plain, plan([]), current);
  assert.deepEqual(
    online.actions.map((a) => [a.sql, a.transactionality === 'transactional', a.lockClass]),
    [
      ['CREATE UNIQUE INDEX CONCURRENTLY "orders_code_key" ON "public"."orders" USING btree ("code", "Region") INCLUDE ("qty") NULLS NOT DISTINCT WITH ("fillfactor" = 80, "deduplicate_items" = \'off\')', false, 'shareUpdateExclusive'],
      ['ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_code_key" UNIQUE USING INDEX "orders_code_key" DEFERRABLE', true, 'accessExclusive'],
      ['CREATE UNIQUE INDEX CONCURRENTLY "orders_pkey" ON "public"."orders" USING btree ("id")', false, 'shareUpdateExclusive'],
      ['ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_pkey" PRIMARY KEY USING INDEX "orders_pkey"', true, 'accessExclusive'],
      // a temporal key has no index form that USING INDEX accepts the same way: left as planned
      ['ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_during" UNIQUE … WITHOUT OVERLAPS', true, 'accessExclusive'],
      // nor does a partitioned table
      ['ALTER TABLE "public"."events" ADD CONSTRAINT "events_pkey" PRIMARY KEY …', true, 'accessExclusive'],
    ],
  );
  // the attach step works on no rows: its index was built before it
  assert.deepEqual(tableWork(online).map((w) => w.work), ['index-build', 'none', 'index-build', 'none', 'scan', 'scan']);
});
