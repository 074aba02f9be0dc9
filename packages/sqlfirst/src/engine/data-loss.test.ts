import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, Plan, StableId } from '@supabase/pg-delta';
import { dataLossByAction, safeTypeChangeRule, typeChangeLoss } from './data-loss.js';

describe('typeChangeLoss', () => {
  const safe: Array<[string, string]> = [
    ['smallint', 'integer'],
    ['integer', 'bigint'],
    ['integer', 'numeric'],
    ['integer', 'numeric(10,0)'],
    ['bigint', 'numeric(21,2)'],
    ['smallint', 'real'],
    ['integer', 'double precision'],
    ['numeric(10,2)', 'numeric(12,4)'],
    ['numeric(10,2)', 'numeric'],
    ['numeric(5,-2)', 'numeric(7,0)'],
    ['real', 'double precision'],
    ['integer', 'text'],
    ['numeric(10,2)', 'character varying'],
    ['character varying(20)', 'character varying(20000)'],
    ['character varying(20)', 'text'],
    ['text', 'character varying'],
    ['character(5)', 'character varying(5)'],
    ['character(5)', 'character(8)'],
    ['bit varying(5)', 'bit varying'],
    ['timestamp(3) without time zone', 'timestamp without time zone'],
    ['time(0) with time zone', 'time(1) with time zone'],
    ['integer[]', 'bigint[]'],
    ['character varying(5)[]', 'text[]'],
  ];
  for (const [from, to] of safe) {
    test(`${from} → ${to} keeps every value`, () => assert.equal(typeChangeLoss(from, to), undefined));
  }

  const lossy: Array<[string, string, string]> = [
    ['real', 'numeric', 'real → numeric keeps 6 significant digits'],
    ['double precision', 'numeric(30,10)', 'double precision → numeric(30,10) keeps 15 significant digits'],
    ['double precision', 'real', 'double precision → real rounds to about 7 significant digits'],
    ['numeric(20,8)', 'numeric(10,2)', 'numeric(20,8) → numeric(10,2) rounds to 2 decimal places and fails on values of more than 8 integer digits'],
    ['numeric', 'numeric(10,2)', 'numeric → numeric(10,2) rounds to 2 decimal places and fails on values of more than 8 integer digits'],
    ['integer', 'numeric(20,-2)', 'integer → numeric(20,-2) rounds to multiples of 100'],
    ['bigint', 'numeric(18,0)', 'bigint → numeric(18,0) fails on values of more than 18 integer digits'],
    ['bigint', 'integer', "bigint → integer fails on values outside integer's range"],
    ['numeric(5,0)', 'integer', "numeric(5,0) → integer rounds to whole numbers and fails on values outside integer's range"],
    ['character varying(100)', 'character varying(20)', 'character varying(100) → character varying(20) silently truncates values longer than 20 characters'],
    ['text', 'character varying(10)', 'text → character varying(10) silently truncates values longer than 10 characters'],
    ['bit varying', 'bit varying(3)', 'bit varying → bit varying(3) silently truncates values longer than 3 bits'],
    ['timestamp(6) with time zone', 'timestamp(2) with time zone', 'timestamp(6) with time zone → timestamp(2) with time zone rounds to 2 fractional-second digits'],
  ];
  for (const [from, to, reason] of lossy) {
    test(`${from} → ${to} is flagged with its reason`, () => assert.deepEqual(typeChangeLoss(from, to), { kind: 'type-change', reason }));
  }

  test('the time zone conversions depend on the session TimeZone, so both directions are flagged', () => {
    assert.match(typeChangeLoss('timestamp with time zone', 'timestamp without time zone')!.reason, /fall-back hour/);
    assert.match(typeChangeLoss('timestamp without time zone', 'timestamp with time zone')!.reason, /daylight-saving gap/);
  });

  test('pairs outside every rule are flagged, including arrays of a scalar and unknown types', () => {
    for (const [from, to] of [
      ['integer', 'integer[]'],
      ['integer', 'real'],
      ['bigint', 'double precision'],
      ['text', 'character(10)'],
      ['double precision', 'text'],
      ['integer', 'character varying(11)'],
      ['character varying(5)', 'character(5)'],
      ['date', 'timestamp without time zone'],
      ['json', 'jsonb'],
      ['public.mood', 'text'],
      ['"odd ""name"""', 'text'],
      ['integer; drop table x', 'bigint'],
    ]) {
      assert.equal(safeTypeChangeRule(from, to), undefined, `${from} → ${to}`);
      assert.match(typeChangeLoss(from, to)!.reason, /is not one of the conversions|fails|rounds|truncates|significant/, `${from} → ${to}`);
    }
  });
});

const table = (name: string): StableId => ({ kind: 'table', schema: 'public', name });
const column = (t: string, name: string): StableId => ({ kind: 'column', schema: 'public', table: t, name });
const sequence = (name: string): StableId => ({ kind: 'sequence', schema: 'public', name });

function action(shape: Partial<Action>): Action {
  return {
    sql: '',
    verb: 'alter',
    produces: [],
    consumes: [],
    destroys: [],
    releases: [],
    transactionality: 'transactional',
    lockClass: 'accessExclusive',
    newSegmentBefore: false,
    dataLoss: 'none',
    rewriteRisk: false,
    ...shape,
  };
}

/** A plan as pg-delta builds it, reduced to what dataLossByAction reads; the SQL is left empty on purpose. */
function plan(actions: Action[], deltas: Plan['deltas'] = []): Plan {
  return { actions, deltas } as Plan;
}

describe('dataLossByAction', () => {
  test('a type change flags the rewriting TYPE action, not the DROP DEFAULT beside it', () => {
    const c = column('t', 'a');
    const losses = dataLossByAction(
      plan(
        [action({ consumes: [c] }), action({ consumes: [c], rewriteRisk: true }), action({ consumes: [c] })],
        [{ verb: 'set', id: c, attr: 'type', from: 'real', to: 'numeric' }],
      ),
    );
    assert.deepEqual(losses, [undefined, { kind: 'type-change', reason: 'real → numeric keeps 6 significant digits' }, undefined]);
  });

  test('a widening type change is not flagged', () => {
    const c = column('t', 'a');
    const losses = dataLossByAction(plan([action({ consumes: [c], rewriteRisk: true })], [{ verb: 'set', id: c, attr: 'type', from: 'integer', to: 'bigint' }]));
    assert.deepEqual(losses, [undefined]);
  });

  test('SET UNLOGGED is flagged; SET LOGGED and other rewrites of the table are not', () => {
    const unlogged = dataLossByAction(plan([action({ consumes: [table('t')], rewriteRisk: true })], [{ verb: 'set', id: table('t'), attr: 'persistence', from: 'p', to: 'u' }]));
    assert.equal(unlogged[0]?.kind, 'unlogged');
    assert.match(unlogged[0]!.reason, /table public\.t UNLOGGED: PostgreSQL empties it after a crash/);
    const logged = dataLossByAction(plan([action({ consumes: [table('t')], rewriteRisk: true })], [{ verb: 'set', id: table('t'), attr: 'persistence', from: 'u', to: 'p' }]));
    assert.deepEqual(logged, [undefined]);
    const addColumn = dataLossByAction(
      plan([action({ verb: 'create', consumes: [table('t')], produces: [column('t', 'b')], rewriteRisk: true })], [{ verb: 'set', id: table('t'), attr: 'persistence', from: 'p', to: 'u' }]),
    );
    assert.deepEqual(addColumn, [undefined]);
  });

  test('dropping a sequence (DROP SEQUENCE, DROP IDENTITY) loses its position; renaming it does not', () => {
    const dropped = dataLossByAction(plan([action({ verb: 'drop', destroys: [sequence('s')] })]));
    assert.deepEqual(dropped, [{ kind: 'sequence-position', reason: 'drops sequence public.s and its position: a sequence created again starts over, handing out values already in use' }]);
    const identity = dataLossByAction(plan([action({ consumes: [column('t', 'a')], destroys: [sequence('t_a_seq')] }), action({ verb: 'create', produces: [sequence('t_a_seq')] })]));
    assert.match(identity[0]!.reason, /drops sequence public\.t_a_seq and its position: it is created again from its start value/);
    assert.equal(identity[1], undefined);
    const renamed = dataLossByAction(plan([action({ destroys: [sequence('s')], produces: [sequence('s2')] })]));
    assert.deepEqual(renamed, [undefined]);
  });

  test("pg-delta's destructive actions: drops name the object, a drop re-created later says why", () => {
    const losses = dataLossByAction(
      plan(
        [
          action({ verb: 'drop', dataLoss: 'destructive', destroys: [table('gone'), column('gone', 'a')] }),
          action({ verb: 'drop', dataLoss: 'destructive', destroys: [column('t', 'a')] }),
          action({ verb: 'create', produces: [column('t', 'a')] }),
          action({ verb: 'drop', dataLoss: 'destructive', destroys: [{ kind: 'materializedView', schema: 'public', name: 'm' }] }),
          action({ verb: 'drop', dataLoss: 'destructive', destroys: [{ kind: 'extension', name: 'x' }] }),
        ],
        [{ verb: 'set', id: column('t', 'a'), attr: 'collation', from: null, to: 'pg_catalog."C"' }],
      ),
    );
    assert.deepEqual(losses, [
      { kind: 'drop', reason: 'drops table public.gone and its rows' },
      { kind: 'recreate', reason: 'drops and re-creates column public.t.a (collation changes): its values are lost' },
      undefined,
      { kind: 'drop', reason: 'drops materialized view public.m and its stored rows' },
      { kind: 'drop', reason: 'destroys stored data (pg-delta marks it destructive)' },
    ]);
  });
});
