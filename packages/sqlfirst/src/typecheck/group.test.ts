import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupBreaks, OTHER_CHANGES, type TypeBreak } from './group.js';

function at(line: number, message: string, source?: string): TypeBreak {
  return { file: 'packages/trading-core/src/a.ts', line, column: 1, code: 2339, message, ...(source && { source }) };
}

describe('groupBreaks', () => {
  it('files each break under the change whose identifier its message or source line mentions, in plan order, the rest last', () => {
    const breaks = [
      at(1, "Module '\"@livermore/database\"' has no exported member 'watchlistItems'."),
      at(2, 'No overload matches this call.\n  The last overload gave the following error.', '.values({ sortOrder: 1 })'),
      at(3, "Type '\"buy\"' is not assignable to type '\"long\" | \"short\"'."),
      at(4, "Property 'averagePrice' does not exist on type '{ id: string; }'."),
    ];
    const groups = groupBreaks(breaks, [
      { label: 'CREATE INDEX orders_side_idx ON public.orders (side)', identifiers: [] },
      { label: 'DROP TABLE public.watchlist_items', identifiers: ['watchlistItems'] },
      { label: 'ALTER TABLE public.orders DROP COLUMN average_price', identifiers: ['averagePrice', 'orders'] },
      { label: 'ALTER TABLE public.watchlist_items DROP COLUMN sort_order', identifiers: ['sortOrder', 'watchlistItems'] },
    ]);
    assert.deepEqual(
      groups.map((g) => [g.change, g.breaks.map((b) => b.line)]),
      [
        ['DROP TABLE public.watchlist_items', [1]],
        ['ALTER TABLE public.orders DROP COLUMN average_price', [4]],
        ['ALTER TABLE public.watchlist_items DROP COLUMN sort_order', [2]],
        [OTHER_CHANGES, [3]],
      ],
    );
  });

  it('matches identifiers as whole tokens only', () => {
    const groups = groupBreaks(
      [at(1, "Property 'ordersCount' does not exist on type 'Stats'.", 'stats.ordersCount'), at(2, "Cannot find name '$orders'.")],
      [{ label: 'DROP TABLE public.orders', identifiers: ['orders'] }],
    );
    assert.deepEqual(groups, [{ change: OTHER_CHANGES, breaks: [at(1, "Property 'ordersCount' does not exist on type 'Stats'.", 'stats.ordersCount'), at(2, "Cannot find name '$orders'.")] }]);
  });

  it('prefers the change whose identifiers fewer changes share; the earlier change on a tie', () => {
    const breaks = [
      at(1, "Property 'isFiat' does not exist on type 'PgTableWithColumns<{ name: \"assets\" }>'.", 'assets.isFiat'),
      at(2, "Property 'symbol' is missing in type 'assets'."),
    ];
    const groups = groupBreaks(breaks, [
      { label: 'ALTER TABLE public.assets ADD COLUMN symbol text NOT NULL', identifiers: ['symbol', 'assets'] },
      { label: 'ALTER TABLE public.assets DROP COLUMN is_fiat', identifiers: ['isFiat', 'assets'] },
      { label: 'ALTER TABLE public.assets ADD COLUMN name text', identifiers: ['assets'] },
    ]);
    assert.deepEqual(
      groups.map((g) => [g.change, g.breaks.map((b) => b.line)]),
      [
        ['ALTER TABLE public.assets ADD COLUMN symbol text NOT NULL', [2]],
        ['ALTER TABLE public.assets DROP COLUMN is_fiat', [1]],
      ],
    );
    const tie = groupBreaks([at(1, "'assets' changed")], [
      { label: 'first', identifiers: ['assets'] },
      { label: 'second', identifiers: ['assets'] },
    ]);
    assert.deepEqual(tie.map((g) => g.change), ['first']);
    assert.deepEqual(groupBreaks([], []), []);
  });
});
