import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, Delta, StableId } from '@supabase/pg-delta';
import { describeSize, hazardsOf, tableWork } from './hazards.js';

const orders = { kind: 'table', schema: 'public', name: 'orders' } as StableId;
const sizes = new Map([['public.orders', { rows: 2_100_000, bytes: 480 * 1024 * 1024 }]]);

function action(fields: Partial<Action>): Action {
  return { sql: '', verb: 'create', produces: [], consumes: [orders], destroys: [], releases: [], transactionality: 'transactional', lockClass: 'none', newSegmentBefore: false, dataLoss: 'none', rewriteRisk: false, ...fields };
}

describe('hazardsOf', () => {
  test('an index build under SHARE blocks writes while it builds, with the size', () => {
    assert.deepEqual(
      hazardsOf({ table: 'public.orders', work: 'index-build', lockClass: 'share' }, sizes).map((h) => [h.kind, h.text]),
      [
        ['builds-index', 'builds an index on public.orders (≈2.1 M rows, 480 MB)'],
        ['blocks-writes', 'blocks writes to public.orders (≈2.1 M rows, 480 MB) while the index builds'],
      ],
    );
  });

  test('a concurrent build or an online validation blocks nobody', () => {
    assert.deepEqual(hazardsOf({ table: 'public.orders', work: 'scan', lockClass: 'shareUpdateExclusive' }, sizes).map((h) => h.kind), ['scans-table']);
  });

  test('a rewrite under ACCESS EXCLUSIVE blocks reads and writes; without sizes the text has none', () => {
    assert.deepEqual(hazardsOf({ table: 'public.orders', work: 'rewrite', lockClass: 'accessExclusive' }, new Map()).map((h) => h.text), [
      'rewrites public.orders',
      'blocks reads and writes to public.orders while the table is rewritten',
    ]);
  });

  test('a brief lock, or a table the plan creates, is no hazard', () => {
    assert.deepEqual(hazardsOf({ table: 'public.orders', work: 'none', lockClass: 'accessExclusive' }, sizes), []);
    assert.deepEqual(hazardsOf({ table: undefined, work: 'index-build', lockClass: 'share' }, sizes), []);
  });
});

test('describeSize rounds like a person would', () => {
  assert.equal(describeSize({ rows: 812, bytes: 8192 }), ' (≈812 rows, 8.0 kB)');
  assert.equal(describeSize({ rows: 200_000 }), ' (≈200 k rows)');
  assert.equal(describeSize({}), '');
});

describe('tableWork', () => {
  const check = { kind: 'constraint', schema: 'public', table: 'orders', name: 'qty_positive' } as StableId;
  const added: Delta = { verb: 'add', fact: { id: check, parent: orders, payload: { type: 'c', validated: true, def: 'CHECK ((qty > 0))' } } as never };

  test('a validated CHECK scans its table, unless a later step of its own validates it', () => {
    const add = action({ produces: [check], lockClass: 'accessExclusive' });
    assert.deepEqual(tableWork({ actions: [add], deltas: [added] }), [{ table: 'public.orders', work: 'scan' }]);
    const validate = action({ verb: 'alter', consumes: [check], lockClass: 'shareUpdateExclusive', transactionality: 'nonTransactional' });
    assert.deepEqual(tableWork({ actions: [add, validate], deltas: [added] }), [
      { table: 'public.orders', work: 'none' },
      { table: 'public.orders', work: 'scan' },
    ]);
  });

  test('nothing done to a table the plan creates is work on an existing table', () => {
    const create = action({ produces: [orders], consumes: [{ kind: 'schema', name: 'public' } as StableId] });
    const index = action({ produces: [{ kind: 'index', schema: 'public', name: 'orders_qty' } as StableId], lockClass: 'share' });
    assert.deepEqual(tableWork({ actions: [create, index], deltas: [] }), [{ work: 'none' }, { work: 'none' }]);
  });

  test('a rewrite risk is a rewrite', () => {
    assert.deepEqual(tableWork({ actions: [action({ verb: 'alter', rewriteRisk: true, lockClass: 'accessExclusive' })], deltas: [] }), [{ table: 'public.orders', work: 'rewrite' }]);
  });
});
