/**
 * Data loss, proven on a real PostgreSQL:
 * - every column type change the allow-list calls safe, over a matrix of
 *   types, keeps every edge value of the old type when the column is altered
 *   the way pg-delta alters it (TYPE new USING col::new) and cast back;
 * - a sample of the changes it calls lossy changes or rejects a value;
 * - through the engine (readState + planChanges), the red team's cases are
 *   flagged with their reasons and safe changes are not.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { dataLossByAction, SAFE_TYPE_CHANGES, safeTypeChangeRule, typeChangeLoss, type DataLoss } from '../engine/data-loss.js';
import { planChanges, readState } from '../engine/index.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.stop();
});

/** A client on a fresh database, in a time zone with daylight saving so time conversions meet its gaps. */
async function session(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await server.createDatabase() });
  client.on('error', () => {});
  await client.connect();
  await client.query("SET TimeZone = 'America/New_York'");
  return client;
}

function integers(bits: number): string[] {
  const max = 2n ** BigInt(bits - 1);
  return ['0', '1', '-1', String(-max), String(max - 1n)];
}

/** numeric(p,s) edge values: the largest, its negative, the smallest step, NaN. */
function numerics(precision: number, scale: number): string[] {
  const digits = '9'.repeat(precision);
  const largest =
    scale >= precision ? `0.${'0'.repeat(scale - precision)}${digits}`
    : scale > 0 ? `${digits.slice(0, precision - scale)}.${digits.slice(precision - scale)}`
    : `${digits}${'0'.repeat(-scale)}`;
  const step = scale > 0 ? `0.${'0'.repeat(scale - 1)}1` : `1${'0'.repeat(-scale)}`;
  return ['0', largest, `-${largest}`, step, `-${step}`, 'NaN'];
}

function strings(length?: number): string[] {
  if (length === undefined) return ['', ' ', 'abc   ', ' lead', 'x'.repeat(100_000), 'é€😀\ttab\nline', "quote ' \\ backslash"];
  return ['', 'a', 'x'.repeat(length), 'é'.repeat(length), `a${' '.repeat(length - 1)}`, ` ${'z'.repeat(length - 1)}`];
}

function bits(length?: number): string[] {
  if (length === undefined) return ['', '1', `${'10'.repeat(5000)}1`];
  return ['', '0', '1'.repeat(length), '0'.repeat(length)];
}

const TIMESTAMPS = ['-infinity', 'infinity', '4713-01-01 00:00:00 BC', '294276-12-31 23:59:59', '2000-01-01 00:00:00.123456', '1999-12-31 23:59:59.5', '2024-03-10 02:30:00', '2024-11-03 01:30:00'];
const INSTANTS = ['-infinity', 'infinity', '4713-01-01 00:00:00+00 BC', '294276-12-31 23:59:59+00', '2000-01-01 00:00:00.123456+05:30', '2024-11-03 05:30:00+00', '2024-11-03 06:30:00+00'];
const TIMES = ['00:00:00', '23:59:59.999999', '24:00:00', '12:34:56.789'];
const TIMES_WITH_ZONE = ['00:00:00+15:59', '23:59:59.999999-15:59', '24:00:00+00', '12:34:56.789+05:30'];
const FLOAT4 = ['0', '-0', 'NaN', 'Infinity', '-Infinity', '1.4e-45', '1.17549435e-38', '3.4028235e38', '-3.4028235e38', '16777217', '1.2345678', '0.1'];
const FLOAT8 = ['0', '-0', 'NaN', 'Infinity', '-Infinity', '4.9e-324', '2.2250738585072014e-308', '1.7976931348623157e308', '9007199254740993', '0.1', '1.2345678901234567'];

/** The type matrix: each declared type with edge values of it (inputs the type rejects are skipped, and counted). */
const MATRIX: Array<{ declared: string; values: string[] }> = [
  { declared: 'smallint', values: integers(16) },
  { declared: 'integer', values: integers(32) },
  { declared: 'bigint', values: integers(64) },
  { declared: 'numeric', values: ['0', '-1.5', 'NaN', 'Infinity', '-Infinity', `${'9'.repeat(1000)}.${'9'.repeat(1000)}`, `0.${'0'.repeat(16382)}1`] },
  ...[[5, 0], [7, 0], [10, 0], [10, 2], [11, 2], [12, 4], [18, 0], [19, 0], [20, 8], [21, 2], [22, -2], [5, -2], [3, 5]].map(([p, s]) => ({ declared: `numeric(${p},${s})`, values: numerics(p, s) })),
  { declared: 'real', values: FLOAT4 },
  { declared: 'double precision', values: FLOAT8 },
  { declared: 'text', values: strings() },
  { declared: 'character varying', values: strings() },
  ...[5, 20].map((n) => ({ declared: `character varying(${n})`, values: strings(n) })),
  ...[5, 10].map((n) => ({ declared: `character(${n})`, values: strings(n) })),
  { declared: 'bit varying', values: bits() },
  ...[5, 8].map((n) => ({ declared: `bit varying(${n})`, values: bits(n) })),
  ...['timestamp', 'timestamp(3)', 'timestamp(0)'].map((declared) => ({ declared, values: TIMESTAMPS })),
  ...['timestamptz', 'timestamptz(3)'].map((declared) => ({ declared, values: INSTANTS })),
  ...['time', 'time(3)'].map((declared) => ({ declared, values: TIMES })),
  ...['timetz', 'timetz(3)'].map((declared) => ({ declared, values: TIMES_WITH_ZONE })),
  { declared: 'date', values: ['-infinity', 'infinity', '4713-01-01 BC', '5874897-12-31', '2024-02-29'] },
  { declared: 'integer[]', values: ['{}', '{NULL}', '{-2147483648,2147483647}', '{{1,2},{3,4}}', '[0:1]={1,2}'] },
  { declared: 'bigint[]', values: ['{}', '{-9223372036854775808,9223372036854775807}', '[5:5]={0}'] },
  { declared: 'character varying(5)[]', values: ['{}', '{"",NULL,"abcde"}', '[2:2]={"a    "}'] },
  { declared: 'text[]', values: ['{}', '{"",NULL," x "}', '{{a,b},{c,d}}'] },
  { declared: 'boolean', values: ['true', 'false'] },
  { declared: 'uuid', values: ['00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'] },
  { declared: 'json', values: ['{"a":1,"a":2}', '[ 1, 2 ]', 'null'] },
  { declared: 'jsonb', values: ['{"b":1,"a":[1,2.50]}', '"x"', 'null'] },
  { declared: 'interval', values: ['0', '-178000000 years', '1 mon -1 day 00:00:00.000001'] },
  { declared: 'bytea', values: ['\\x', '\\x00ff'] },
];

describe('type changes the allow-list calls safe keep every value on the server', () => {
  test('every safe pair of the matrix round-trips every edge value; every rule is exercised', async (t) => {
    const client = await session();
    try {
      // the names pg-delta sees are format_type()'s, so read them from the server
      const columns = MATRIX.map((entry, i) => `c${i} ${entry.declared}`).join(', ');
      await client.query(`CREATE TABLE matrix (${columns})`);
      const { rows } = await client.query<{ type: string }>(
        "SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'matrix'::regclass AND attnum > 0 ORDER BY attnum",
      );
      const types = rows.map((row) => row.type);
      const rulesProven = new Set<string>();
      let pairs = 0;
      let values = 0;
      const rejected: string[] = [];
      for (const [i, from] of types.entries()) {
        const targets = types.filter((to) => to !== from && safeTypeChangeRule(from, to));
        if (targets.length === 0) continue;
        const { stored, refused } = await storeValues(client, `src${i}`, from, MATRIX[i].values, targets.length);
        assert.ok(stored >= 2, `${from}: only ${stored} of its edge values were accepted`);
        rejected.push(...refused.map((value) => `${from} '${value}'`));
        for (const [j, to] of targets.entries()) {
          // exactly what pg-delta runs for a type change
          await client.query(`ALTER TABLE src${i} ALTER COLUMN c${j} TYPE ${to} USING c${j}::${to}`).catch((error: pg.DatabaseError) => {
            assert.fail(`${from} → ${to} failed on the server: ${error.code} ${error.message}`);
          });
          const changed = await client.query(
            `SELECT v::text AS before, (c${j}::${from})::text AS after FROM src${i}
              WHERE c${j}::${from} IS DISTINCT FROM v OR (c${j}::${from})::text IS DISTINCT FROM v::text LIMIT 1`,
          );
          assert.deepEqual(changed.rows, [], `${from} → ${to} (${safeTypeChangeRule(from, to)}) changed a value`);
          rulesProven.add(safeTypeChangeRule(from, to)!);
          pairs++;
        }
        values += stored;
      }
      t.diagnostic(`${pairs} safe pairs of ${types.length * (types.length - 1)} proven with ${values} stored edge values; not values of their type: ${rejected.join(', ') || 'none'}`);
      assert.deepEqual([...rulesProven].sort(), SAFE_TYPE_CHANGES.map((change) => change.rule).sort());
    } finally {
      await client.end();
    }
  });
});

/** Creates `table` with v (the original) and `copies` columns c0… of `type`, one row per value the type accepts. */
async function storeValues(client: pg.Client, table: string, type: string, values: string[], copies: number): Promise<{ stored: number; refused: string[] }> {
  const refused: string[] = [];
  const copyColumns = Array.from({ length: copies }, (_, j) => `c${j} ${type}`).join(', ');
  await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v ${type}, ${copyColumns})`);
  await client.query('BEGIN');
  let id = 0;
  for (const value of [null, ...values]) {
    await client.query('SAVEPOINT edge');
    try {
      await client.query(`INSERT INTO ${table} (id, v) VALUES ($1, $2::${type})`, [++id, value]);
    } catch {
      // not a value of this type (e.g. a time that rounds past the end of the range)
      await client.query('ROLLBACK TO SAVEPOINT edge');
      refused.push(value!);
      id--;
    }
  }
  await client.query('COMMIT');
  const assignments = Array.from({ length: copies }, (_, j) => `c${j} = v`).join(', ');
  await client.query(`UPDATE ${table} SET ${assignments}`);
  return { stored: id, refused };
}

describe('type changes the allow-list calls lossy change or reject a value on the server', () => {
  // `becomes`: the value in the new type; it no longer casts back to what was stored
  const cases: Array<{ from: string; to: string; value: string; becomes?: string; failsWith?: string }> = [
    { from: 'real', to: 'numeric', value: '16777216', becomes: '16777200' },
    { from: 'real', to: 'numeric', value: '1.2345678', becomes: '1.23457' },
    { from: 'numeric(20,8)', to: 'numeric(10,2)', value: '1.23456789', becomes: '1.23' },
    { from: 'numeric(20,8)', to: 'numeric(10,2)', value: '123456789012.5', failsWith: '22003' },
    { from: 'character varying(100)', to: 'character varying(20)', value: 'x'.repeat(30), becomes: 'x'.repeat(20) },
    { from: 'timestamp with time zone', to: 'timestamp without time zone', value: '2024-11-03 01:30:00-04', becomes: '2024-11-03 01:30:00' },
    { from: 'bigint', to: 'integer', value: '2147483648', failsWith: '22003' },
    { from: 'double precision', to: 'real', value: '1.23456789012', becomes: '1.2345679' },
    { from: 'text', to: 'character varying(10)', value: 'abcdefghijk', becomes: 'abcdefghij' },
    { from: 'timestamp without time zone', to: 'timestamp with time zone', value: '2024-03-10 02:30:00', becomes: '2024-03-10 03:30:00-04' },
  ];
  for (const { from, to, value, becomes, failsWith } of cases) {
    test(`${from} → ${to}: ${value.length > 30 ? `${value.length} characters` : value} ${becomes ? 'changes' : 'is rejected'}`, async () => {
      assert.equal(safeTypeChangeRule(from, to), undefined);
      assert.equal(typeChangeLoss(from, to)?.kind, 'type-change');
      const client = await session();
      try {
        await client.query(`CREATE TABLE t (v ${from})`);
        await client.query(`INSERT INTO t VALUES ($1::${from})`, [value]);
        const [{ stored }] = (await client.query(`SELECT v::text AS stored FROM t`)).rows;
        const alter = client.query(`ALTER TABLE t ALTER COLUMN v TYPE ${to} USING v::${to}`);
        if (failsWith) {
          await assert.rejects(alter, (error: pg.DatabaseError) => error.code === failsWith);
          return;
        }
        await alter;
        const [{ converted, back }] = (await client.query(`SELECT v::text AS converted, (v::${from})::text AS back FROM t`)).rows;
        assert.equal(converted, becomes);
        assert.notEqual(back, stored, 'the value comes back as it was');
      } finally {
        await client.end();
      }
    });
  }

  test('timestamp → timestamp with time zone round-trips in UTC: the loss depends on the TimeZone of whoever applies', async () => {
    const client = await session();
    try {
      await client.query("SET TimeZone = 'UTC'");
      await client.query('CREATE TABLE t (v timestamp)');
      await client.query("INSERT INTO t VALUES ('2024-03-10 02:30:00')");
      await client.query('ALTER TABLE t ALTER COLUMN v TYPE timestamptz USING v::timestamptz');
      const [{ back }] = (await client.query('SELECT (v::timestamp)::text AS back FROM t')).rows;
      assert.equal(back, '2024-03-10 02:30:00');
    } finally {
      await client.end();
    }
  });
});

describe('the engine flags the red team’s cases and not the safe ones', () => {
  /** The plan's data loss from a live database set up with `current` to a shadow loaded with `desired`. */
  async function losses(current: string, desired: string): Promise<DataLoss[]> {
    const [currentUrl, shadowUrl] = [await server.createDatabase(), await server.createDatabase()];
    await server.query(currentUrl, current);
    if (desired) await server.query(shadowUrl, desired);
    const pools = [new pg.Pool({ connectionString: currentUrl, max: 2 }), new pg.Pool({ connectionString: shadowUrl, max: 2 })];
    for (const pool of pools) pool.on('error', () => {});
    try {
      const plan = planChanges(await readState(pools[0]), await readState(pools[1]));
      assert.ok(plan.changes.length > 0, 'the plan is empty');
      return dataLossByAction(plan.engine).filter((loss): loss is DataLoss => loss !== undefined);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  }

  const flagged: Array<{ name: string; current: string; desired: string; expected: DataLoss[] }> = [
    {
      name: 'real → numeric',
      current: 'CREATE TABLE m (v real); INSERT INTO m VALUES (16777216), (1.2345678);',
      desired: 'CREATE TABLE m (v numeric);',
      expected: [{ kind: 'type-change', reason: 'real → numeric keeps 6 significant digits' }],
    },
    {
      name: 'SET UNLOGGED',
      current: 'CREATE TABLE m (v int); INSERT INTO m SELECT generate_series(1, 100);',
      desired: 'CREATE UNLOGGED TABLE m (v int);',
      expected: [{ kind: 'unlogged', reason: 'makes table public.m UNLOGGED: PostgreSQL empties it after a crash and does not replicate it' }],
    },
    {
      name: 'DROP IDENTITY',
      current: "CREATE TABLE m (id int GENERATED ALWAYS AS IDENTITY, v text); INSERT INTO m (v) SELECT 'x' FROM generate_series(1, 10);",
      desired: 'CREATE TABLE m (id int NOT NULL, v text);',
      expected: [{ kind: 'sequence-position', reason: 'drops sequence public.m_id_seq and its position: a sequence created again starts over, handing out values already in use' }],
    },
    {
      name: 'serial → int',
      current: "CREATE TABLE m (id serial, v text); INSERT INTO m (v) SELECT 'x' FROM generate_series(1, 10);",
      desired: 'CREATE TABLE m (id int NOT NULL, v text);',
      expected: [{ kind: 'sequence-position', reason: 'drops sequence public.m_id_seq and its position: a sequence created again starts over, handing out values already in use' }],
    },
    {
      name: 'DROP SEQUENCE of a sequence at 5000',
      current: "CREATE SEQUENCE s; SELECT setval('s', 5000);",
      desired: 'CREATE TABLE unrelated (v int);',
      expected: [{ kind: 'sequence-position', reason: 'drops sequence public.s and its position: a sequence created again starts over, handing out values already in use' }],
    },
    {
      name: 'identity → serial',
      current: 'CREATE TABLE m (id int GENERATED BY DEFAULT AS IDENTITY);',
      desired: 'CREATE TABLE m (id serial);',
      expected: [{ kind: 'sequence-position', reason: 'drops sequence public.m_id_seq and its position: it is created again from its start value, handing out values already in use' }],
    },
    {
      name: 'an enum value removed',
      current: "CREATE TYPE mood AS ENUM ('ok', 'sad', 'glad'); CREATE TABLE m (v mood);",
      desired: "CREATE TYPE mood AS ENUM ('ok', 'glad'); CREATE TABLE m (v mood);",
      expected: [{ kind: 'type-change', reason: "converts column public.m.v to enum public.mood rebuilt without 'sad': rows holding it cannot be converted" }],
    },
    {
      name: 'a dropped column',
      current: 'CREATE TABLE m (v int, w int);',
      desired: 'CREATE TABLE m (v int);',
      expected: [{ kind: 'drop', reason: 'drops column public.m.w and its values' }],
    },
    {
      name: 'a changed partition key',
      current: 'CREATE TABLE m (a int, b int) PARTITION BY RANGE (a);',
      desired: 'CREATE TABLE m (a int, b int) PARTITION BY RANGE (b);',
      expected: [{ kind: 'recreate', reason: 'drops and re-creates table public.m (partitionKey changes): its rows are lost' }],
    },
    {
      name: 'numeric(20,8) → numeric(10,2) and varchar(100) → varchar(20)',
      current: 'CREATE TABLE m (price numeric(20,8), name varchar(100));',
      desired: 'CREATE TABLE m (price numeric(10,2), name varchar(20));',
      expected: [
        { kind: 'type-change', reason: 'character varying(100) → character varying(20) silently truncates values longer than 20 characters' },
        { kind: 'type-change', reason: 'numeric(20,8) → numeric(10,2) rounds to 2 decimal places and fails on values of more than 8 integer digits' },
      ],
    },
  ];
  for (const { name, current, desired, expected } of flagged) {
    test(`${name} is flagged with its reason`, async () => {
      assert.deepEqual(await losses(current, desired), expected);
    });
  }

  test('safe changes are not flagged: widenings, SET LOGGED, a dropped plain default, added columns and tables', async () => {
    const current = `CREATE TABLE m (a smallint, b int DEFAULT 5, c varchar(20), d numeric(10,2), e real, f timestamp(3), g int[]);
      CREATE UNLOGGED TABLE u (v int);
      CREATE TABLE s (id int GENERATED ALWAYS AS IDENTITY);`;
    const desired = `CREATE TABLE m (a int, b bigint, c text, d numeric(12,4), e double precision, f timestamp, g bigint[], h int);
      CREATE TABLE u (v int);
      CREATE TABLE s (id bigint GENERATED ALWAYS AS IDENTITY);
      CREATE TABLE n (v int);`;
    assert.deepEqual(await losses(current, desired), []);
  });
});
