import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFactBase, type DependencyEdge, type Fact, type StableId } from '@supabase/pg-delta';
import { quoteIdent, renameInCurrent } from './renamed-source.js';

const schema: Fact = { id: { kind: 'schema', name: 'public' }, payload: {} };
const table = (name: string): Fact => ({ id: { kind: 'table', schema: 'public', name }, parent: schema.id, payload: { persistence: 'p' } });
const column = (table: string, name: string): Fact => ({ id: { kind: 'column', schema: 'public', table, name }, parent: { kind: 'table', schema: 'public', name: table }, payload: { type: 'integer' } });
const constraint = (table: string, name: string, def: string): Fact => ({
  id: { kind: 'constraint', schema: 'public', table, name },
  parent: { kind: 'table', schema: 'public', name: table },
  payload: { def, type: def.startsWith('FOREIGN') ? 'f' : 'p', validated: true },
});
const index = (table: string, name: string, column: string): Fact => ({
  id: { kind: 'index', schema: 'public', name },
  parent: { kind: 'table', schema: 'public', name: table },
  payload: { def: `CREATE INDEX ${name} ON public.${table} USING btree (${column})`, valid: true },
});
const comment = (target: StableId, text: string): Fact => ({ id: { kind: 'comment', target }, parent: target, payload: { text } });
const depends = (from: Fact, to: Fact): DependencyEdge => ({ from: from.id, to: to.id, kind: 'depends' });

/** fills (id, user_id) with fills_pkey, an index, a comment on the index, and legs referencing it; `name` is the table's name */
function state(name: string, indexName: string, indexColumn = 'user_id') {
  const facts = [
    schema,
    table(name),
    column(name, 'id'),
    column(name, 'user_id'),
    constraint(name, `${name}_pkey`, 'PRIMARY KEY (id)'),
    index(name, indexName, indexColumn),
    comment({ kind: 'index', schema: 'public', name: indexName }, 'by user'),
    table('legs'),
    column('legs', 'fill_id'),
    constraint('legs', 'legs_fill_id_fkey', `FOREIGN KEY (fill_id) REFERENCES public.${name}(id)`),
  ];
  const byName = (kind: string, n: string) => facts.find((f) => f.id.kind === kind && (f.id as { name: string }).name === n)!;
  const edges = [depends(byName('constraint', 'legs_fill_id_fkey'), byName('constraint', `${name}_pkey`)), depends(byName('index', indexName), byName('column', 'user_id'))];
  return buildFactBase(facts, edges);
}

describe('renameInCurrent', () => {
  test('renames a table with the children whose desired twins differ only by name, and rewrites what names it', () => {
    const current = state('fills', 'fills_user_id_idx');
    const desired = state('trades', 'trades_user_id_idx');
    const { source, actions } = renameInCurrent(current, desired, [{ schema: 'public', from: 'fills', to: 'trades' }], []);
    assert.deepEqual(
      actions.map((a) => a.sql),
      [
        'ALTER TABLE "public"."fills" RENAME TO "trades"',
        'ALTER TABLE "public"."trades" RENAME CONSTRAINT "fills_pkey" TO "trades_pkey"',
        'ALTER INDEX "public"."fills_user_id_idx" RENAME TO "trades_user_id_idx"',
      ],
    );
    assert.ok(actions.every((a) => a.transactionality === 'transactional' && a.dataLoss === 'none' && a.lockClass === 'accessExclusive'));
    // what the target holds once the statements ran is what is desired
    assert.equal(source.rootHash, desired.rootHash);
  });

  test('a child whose desired twin differs beyond its name keeps its name, under the renamed table', () => {
    const current = state('fills', 'fills_user_id_idx');
    const desired = state('trades', 'trades_id_idx', 'id');
    const { source, actions } = renameInCurrent(current, desired, [{ schema: 'public', from: 'fills', to: 'trades' }], []);
    assert.deepEqual(
      actions.map((a) => a.sql),
      ['ALTER TABLE "public"."fills" RENAME TO "trades"', 'ALTER TABLE "public"."trades" RENAME CONSTRAINT "fills_pkey" TO "trades_pkey"'],
    );
    const kept = source.get({ kind: 'index', schema: 'public', name: 'fills_user_id_idx' });
    assert.deepEqual(kept?.parent, { kind: 'table', schema: 'public', name: 'trades' });
    assert.ok(source.has({ kind: 'comment', target: { kind: 'index', schema: 'public', name: 'fills_user_id_idx' } }));
  });

  test('renames an enum value in place', () => {
    const type = (values: string[]) => buildFactBase([schema, { id: { kind: 'type', schema: 'public', name: 'side' }, parent: schema.id, payload: { variant: 'enum', values } }], []);
    const { source, actions } = renameInCurrent(type(['buy', 'sell']), type(['buy', 'sell_short']), [], [{ schema: 'public', type: 'side', from: 'sell', to: 'sell_short' }]);
    assert.deepEqual(actions.map((a) => a.sql), [`ALTER TYPE "public"."side" RENAME VALUE 'sell' TO 'sell_short'`]);
    assert.equal(source.rootHash, type(['buy', 'sell_short']).rootHash);
  });
});

describe('renameInCurrent with a column rename', () => {
  /** orders (id, <price>) with an index, a CHECK, a foreign key onto it from legs, a view, a comment and a grant on the column */
  function orders(price: string, checkName = 'orders_price_positive') {
    const priceId: StableId = { kind: 'column', schema: 'public', table: 'orders', name: price };
    const view: Fact = { id: { kind: 'view', schema: 'public', name: 'priced' }, parent: schema.id, payload: { def: ` SELECT id,\n    ${price}\n   FROM public.orders;`, reloptions: null } };
    return buildFactBase(
      [
        schema,
        table('orders'),
        column('orders', 'id'),
        column('orders', price),
        constraint('orders', 'orders_pkey', `PRIMARY KEY (id, ${price})`),
        { ...constraint('orders', checkName, `CHECK ((${price} > 0))`), payload: { def: `CHECK ((${price} > 0))`, type: 'c', validated: true } },
        index('orders', 'orders_price', price),
        comment(priceId, 'average'),
        { id: { kind: 'acl', target: { kind: 'table', schema: 'public', name: 'orders' }, grantee: 'reader', column: price }, parent: priceId, payload: { privileges: ['SELECT'] } },
        table('legs'),
        column('legs', 'order_id'),
        column('legs', 'price'),
        constraint('legs', 'legs_order_fkey', `FOREIGN KEY (order_id, price) REFERENCES public.orders(id, ${price})`),
        view,
      ],
      [],
    );
  }

  test('rewrites the column and every definition naming it: only the rename and the view column rename are left to run', () => {
    const desired = orders('average_price');
    const { source, actions } = renameInCurrent(orders('avg_price'), desired, [], [], [{ schema: 'public', table: 'orders', from: 'avg_price', to: 'average_price' }]);
    assert.deepEqual(actions.map((a) => a.sql), [
      'ALTER TABLE "public"."orders" RENAME COLUMN "avg_price" TO "average_price"',
      // PostgreSQL keeps the view's output column named avg_price; the desired view names it average_price
      'ALTER VIEW "public"."priced" RENAME COLUMN "avg_price" TO "average_price"',
    ]);
    assert.equal(source.rootHash, desired.rootHash);
  });

  test('an auto-named constraint follows its column; inside a renamed table the column is renamed under the new name', () => {
    const current = orders('avg_price', 'orders_avg_price_check');
    const desired = orders('average_price', 'orders_average_price_check');
    const { source, actions } = renameInCurrent(current, desired, [], [], [{ schema: 'public', table: 'orders', from: 'avg_price', to: 'average_price' }]);
    assert.deepEqual(actions.map((a) => a.sql).slice(0, 2), [
      'ALTER TABLE "public"."orders" RENAME COLUMN "avg_price" TO "average_price"',
      'ALTER TABLE "public"."orders" RENAME CONSTRAINT "orders_avg_price_check" TO "orders_average_price_check"',
    ]);
    assert.equal(source.rootHash, desired.rootHash);

    const trades = buildFactBase([schema, table('trades'), column('trades', 'id'), column('trades', 'qty'), index('trades', 'trades_qty', 'qty')], []);
    const fills = buildFactBase([schema, table('fills'), column('fills', 'id'), column('fills', 'quantity'), index('fills', 'trades_qty', 'quantity')], []);
    const renamed = renameInCurrent(fills, trades, [{ schema: 'public', from: 'fills', to: 'trades' }], [], [{ schema: 'public', table: 'fills', from: 'quantity', to: 'qty' }]);
    assert.deepEqual(renamed.actions.map((a) => a.sql), ['ALTER TABLE "public"."fills" RENAME TO "trades"', 'ALTER TABLE "public"."trades" RENAME COLUMN "quantity" TO "qty"']);
    assert.equal(renamed.source.rootHash, trades.rootHash);
  });

  test('a definition whose text is unchanged but now names the renamed column differs from the desired one', () => {
    // p renamed to q and a new column p: the index on p in the target is on q once renamed
    const current = buildFactBase([schema, table('t'), column('t', 'p'), index('t', 't_p', 'p')], []);
    const desired = buildFactBase([schema, table('t'), column('t', 'p'), column('t', 'q'), index('t', 't_p', 'p')], []);
    const { source } = renameInCurrent(current, desired, [], [], [{ schema: 'public', table: 't', from: 'p', to: 'q' }]);
    const id: StableId = { kind: 'index', schema: 'public', name: 't_p' };
    assert.notEqual(source.hashOf(id), desired.hashOf(id));
  });
});

test('quoteIdent quotes as PostgreSQL prints names', () => {
  assert.equal(quoteIdent('trades'), 'trades');
  assert.equal(quoteIdent('trades_2'), 'trades_2');
  assert.equal(quoteIdent('Trades'), '"Trades"');
  assert.equal(quoteIdent('2trades'), '"2trades"');
  assert.equal(quoteIdent('my trades'), '"my trades"');
  // reserved words are quoted, unreserved ones are not
  assert.equal(quoteIdent('user'), '"user"');
  assert.equal(quoteIdent('name'), 'name');
  assert.equal(quoteIdent('say"hi'), '"say""hi"');
});
