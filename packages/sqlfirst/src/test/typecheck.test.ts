/**
 * The typecheck stage against the real workspace: the desired Drizzle types
 * (the committed ones, edited as a schema change would) are checked against
 * every package that uses @livermore/database, without a database and without
 * touching a committed file.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { groupBreaks, OTHER_CHANGES, typeCheckWorkspace, type TypeBreak, type TypeCheckResult } from '../index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const TYPES = path.join(REPO, 'packages', 'database', 'src', 'schema');
const COMMITTED = {
  'schema.ts': fs.readFileSync(path.join(TYPES, 'schema.ts'), 'utf8'),
  'relations.ts': fs.readFileSync(path.join(TYPES, 'relations.ts'), 'utf8'),
};

/** The generated schema.ts without one column of one table, as drizzle-kit would print it after the drop. */
function withoutColumn(text: string, variable: string, column: string): string {
  const start = text.indexOf(`export const ${variable} = `);
  assert.ok(start >= 0, `${variable} is in schema.ts`);
  const end = text.indexOf('\n}, (table) => [', start);
  const body = text.slice(start, end);
  const line = new RegExp(`\\n\\t\\w+: \\w+\\("${column}"[^\\n]*`).exec(body);
  assert.ok(line, `${variable} has a column ${column}`);
  return text.slice(0, start) + body.replace(line[0], '') + text.slice(end);
}

/** The 1-based lines of `file` that match `pattern`. */
function linesMatching(file: string, pattern: RegExp): number[] {
  return fs
    .readFileSync(path.join(REPO, file), 'utf8')
    .split('\n')
    .flatMap((text, i) => (pattern.test(text) ? [i + 1] : []));
}

/** sha256 of every file under the folders, by path: what must not change. */
function snapshot(...dirs: string[]): Record<string, string> {
  const hashes: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else hashes[path.relative(REPO, full)] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
    }
  };
  for (const dir of dirs) walk(path.join(REPO, dir));
  return hashes;
}

const WATCHED = ['packages/database/src', 'packages/trading-core/src'];

async function timed(run: () => Promise<TypeCheckResult>): Promise<[TypeCheckResult, number]> {
  const start = performance.now();
  const result = await run();
  return [result, Math.round(performance.now() - start)];
}

describe('typecheck stage', () => {
  let before_: Record<string, string>;
  const withoutAveragePrice = { ...COMMITTED, 'schema.ts': withoutColumn(COMMITTED['schema.ts'], 'orders', 'average_price') };
  let edited: TypeCheckResult;

  before(() => {
    before_ = snapshot(...WATCHED);
  });

  after(() => {
    // nothing the stage did may show in the working tree
    assert.deepEqual(snapshot(...WATCHED), before_);
  });

  it('finds no break with the committed types', async (t) => {
    const [result, ms] = await timed(() => typeCheckWorkspace(REPO, COMMITTED));
    t.diagnostic(`committed types: ${ms} ms${result.skipped ? ' (skipped: unchanged)' : ''}`);
    assert.deepEqual(result.breaks, []);
    assert.deepEqual(result.packages, ['packages/database', 'packages/trading-core']);
  });

  it('reports each use of a dropped column as file:line with the property named', async (t) => {
    const [result, ms] = await timed(() => typeCheckWorkspace(REPO, withoutAveragePrice));
    t.diagnostic(`orders.average_price dropped: ${ms} ms, ${result.breaks.length} breaks`);
    edited = result;
    assert.equal(result.skipped, undefined);
    const inOrders = result.breaks.filter((b) => b.file === 'packages/trading-core/src/orders.ts');
    assert.ok(inOrders.length > 0, JSON.stringify(result.breaks, null, 2));
    for (const item of inOrders) assert.match(item.message, /'averagePrice'/);
    // the line recordFill sets averagePrice on
    assert.deepEqual([...new Set(inOrders.map((b) => b.line))], linesMatching('packages/trading-core/src/orders.ts', /\baveragePrice\b/));
    // the tests that read an order's averagePrice break too, each at its own line (a Position's averagePrice does not)
    const inTests = result.breaks.filter((b) => b.file === 'packages/trading-core/src/test/trading.test.ts');
    assert.deepEqual(inTests.map((b) => b.line), linesMatching('packages/trading-core/src/test/trading.test.ts', /order\.averagePrice/));
    for (const item of result.breaks) {
      assert.match(item.file, /^packages\/[\w-]+\/src\//, 'paths are relative to the repository root, never inside .sqlfirst');
      assert.ok(Number.isInteger(item.line) && item.line >= 1);
    }
  });

  it('skips an unchanged workspace and answers the last result', async (t) => {
    const [result, ms] = await timed(() => typeCheckWorkspace(REPO, withoutAveragePrice));
    t.diagnostic(`same inputs again: ${ms} ms`);
    assert.equal(result.skipped, 'unchanged');
    assert.deepEqual(result.breaks, edited.breaks);
    assert.deepEqual(result.packages, edited.packages);
    assert.ok(ms < 2000, `a skipped check takes ${ms} ms`);
  });

  it('reports breaks in the database package itself at their committed paths', async (t) => {
    const withoutIsFiat = { ...COMMITTED, 'schema.ts': withoutColumn(COMMITTED['schema.ts'], 'assets', 'is_fiat') };
    const [result, ms] = await timed(() => typeCheckWorkspace(REPO, withoutIsFiat));
    t.diagnostic(`assets.is_fiat dropped: ${ms} ms, ${result.breaks.length} breaks`);
    const files = new Set(result.breaks.map((b) => b.file));
    assert.ok(files.has('packages/database/src/test/client.test.ts'), JSON.stringify(result.breaks, null, 2));
    assert.ok(files.has('packages/trading-core/src/test/trading.test.ts'));
    for (const item of result.breaks) assert.match(item.message, /isFiat/);
  });

  it('checks nothing outside a workspace with a database package', async () => {
    const alone = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-typecheck-'));
    try {
      assert.deepEqual(await typeCheckWorkspace(alone, COMMITTED), { breaks: [], packages: [] });
      fs.writeFileSync(path.join(alone, 'package.json'), JSON.stringify({ name: 'x', workspaces: ['packages/*'] }));
      assert.deepEqual(await typeCheckWorkspace(alone, COMMITTED), { breaks: [], packages: [] });
      assert.deepEqual(fs.readdirSync(alone), ['package.json'], 'nothing written');
    } finally {
      fs.rmSync(alone, { recursive: true, force: true });
    }
  });

  it('loading the library or the CLI does not load TypeScript', () => {
    const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const probe = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(path.join(dist, 'index.js'))});
      await import(${JSON.stringify(path.join(dist, 'program.js'))});
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /[\\/]typescript[\\/]/.test(k));
      process.stdout.write(JSON.stringify(loaded));`;
    assert.equal(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' }), '[]');
  });

  it('groups breaks under the change that caused them', () => {
    assert.ok(edited.breaks.length > 0);
    const unrelated: TypeBreak = { file: 'packages/trading-core/src/positions.ts', line: 3, message: "Cannot find name 'foo'." };
    const groups = groupBreaks(
      [...edited.breaks, unrelated],
      [
        { sql: 'CREATE INDEX orders_side_idx ON public.orders (side);', drops: [] },
        { sql: 'ALTER TABLE public.orders DROP COLUMN average_price;', drops: [{ kind: 'column', name: 'public.orders.average_price' }] },
        { sql: 'DROP TABLE public.watchlist_items;', drops: [{ kind: 'table', name: 'public.watchlist_items' }] },
      ],
    );
    assert.deepEqual(
      groups.map((g) => [g.change, g.breaks.length]),
      [
        ['ALTER TABLE public.orders DROP COLUMN average_price;', edited.breaks.length],
        [OTHER_CHANGES, 1],
      ],
    );
  });

  it('groups by table, enum and altered column, the strongest match first', () => {
    const breaks: TypeBreak[] = [
      { file: 'a.ts', line: 1, message: "Module '\"@livermore/database\"' has no exported member 'watchlistItems'." },
      { file: 'a.ts', line: 2, message: "Property 'sortOrder' does not exist on type 'PgTableWithColumns<{ name: \"watchlist_items\"; ...'." },
      { file: 'a.ts', line: 3, message: "Type '\"buy\"' is not assignable to type '\"long\" | \"short\"'." },
      { file: 'a.ts', line: 4, message: "Module '\"@livermore/database\"' has no exported member 'orderSide'." },
      { file: 'a.ts', line: 5, message: "Property 'notes' is missing in type '{ id: number; }' but required in type '{ notes: string; }'." },
      { file: 'a.ts', line: 6, message: "Module '\"@livermore/database\"' has no exported member 'eventsInAudit'." },
    ];
    const groups = groupBreaks(breaks, [
      { sql: 'DROP TABLE public.watchlist_items;', drops: [{ kind: 'table', name: 'public.watchlist_items' }] },
      { sql: 'ALTER TABLE public.watchlist_items DROP COLUMN sort_order;', drops: [{ kind: 'column', name: 'public.watchlist_items.sort_order' }] },
      { sql: 'DROP TYPE public.order_side;', drops: [{ kind: 'type', name: 'public.order_side' }] },
      { sql: 'ALTER TABLE public.strategies ADD COLUMN notes text NOT NULL;', drops: [] },
      { sql: 'DROP TABLE audit.events;', drops: [{ kind: 'table', name: 'audit.events' }] },
    ]);
    assert.deepEqual(
      groups.map((g) => [g.change, g.breaks.map((b) => b.line)]),
      [
        ['DROP TABLE public.watchlist_items;', [1]],
        ['ALTER TABLE public.watchlist_items DROP COLUMN sort_order;', [2]],
        ['DROP TYPE public.order_side;', [4]],
        ['ALTER TABLE public.strategies ADD COLUMN notes text NOT NULL;', [5]],
        ['DROP TABLE audit.events;', [6]],
        [OTHER_CHANGES, [3]],
      ],
    );
    assert.deepEqual(groupBreaks([], []), []);
  });
});
