import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { directiveFrom, readRenameDirectives } from './renames.js';

describe('readRenameDirectives', () => {
  test('attaches each directive to the statement or element whose line it ends', async () => {
    const sql = [
      'CREATE TABLE trades ( -- @renamed from=fills',
      '  id int PRIMARY KEY,',
      '  average_price numeric(20,8), -- @renamed from=avg_price',
      "  note text DEFAULT '--x', -- a plain comment",
      '  CONSTRAINT price_positive CHECK (average_price > 0) -- @renamed from=avg_positive',
      ');',
      'CREATE INDEX trades_note ON market.trades (note); -- @renamed from="Old Index"',
      'CREATE VIEW recent AS SELECT 1; /* @renamed from=latest */',
      "CREATE TYPE side AS ENUM ( -- @renamed from=direction",
      "  'buy', -- @renamed from=bid",
      "  'sell');",
      "CREATE TYPE market.venue AS ENUM ('lse',",
      "  'it''s' -- @renamed from=nyse",
      ');',
    ].join('\n');
    const { directives, notes } = await readRenameDirectives([{ path: 'schema.sql', sql }]);
    assert.deepEqual(
      directives.map(({ line, kind, schema, table, name, from, value }) => ({ line, kind, schema, table, name, from, ...(value === undefined ? {} : { value }) })),
      [
        { line: 1, kind: 'table', schema: undefined, table: undefined, name: 'trades', from: 'fills' },
        { line: 3, kind: 'column', schema: undefined, table: 'trades', name: 'average_price', from: 'avg_price' },
        { line: 5, kind: 'constraint', schema: undefined, table: 'trades', name: 'price_positive', from: 'avg_positive' },
        { line: 7, kind: 'index', schema: 'market', table: undefined, name: 'trades_note', from: 'Old Index' },
        { line: 8, kind: 'view', schema: undefined, table: undefined, name: 'recent', from: 'latest' },
        { line: 9, kind: 'type', schema: undefined, table: undefined, name: 'side', from: 'direction' },
        { line: 10, kind: 'enumValue', schema: undefined, table: undefined, name: 'side', from: 'bid', value: 'buy' },
        { line: 13, kind: 'enumValue', schema: 'market', table: undefined, name: 'venue', from: 'nyse', value: "it's" },
      ],
    );
    assert.deepEqual(notes, []);
  });

  test('a directive on a line of its own, or without from=, is reported', async () => {
    const { directives, notes } = await readRenameDirectives([{ path: 'a.sql', sql: 'CREATE TABLE t (\n  -- @renamed from=u\n  a int -- @renamed\n);' }]);
    assert.deepEqual(directives, []);
    assert.deepEqual(notes, ['a.sql line 2: a @renamed directive must end the line of the object it renames; ignored.', 'a.sql line 3: @renamed needs from=<old name>; ignored.']);
  });
});

test('directiveFrom reads only @renamed comments', () => {
  assert.equal(directiveFrom('-- @renamed from=avg_price'), 'avg_price');
  assert.equal(directiveFrom('/* @renamed from="A b" */'), 'A b');
  assert.equal(directiveFrom('-- renamed from=x'), undefined);
  assert.equal(directiveFrom('-- @renamed'), '');
});
