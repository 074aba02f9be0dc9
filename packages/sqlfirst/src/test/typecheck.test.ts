/**
 * The typecheck stage on a copy of this repository's workspace (the database
 * package and trading-core, in a temporary folder): the desired Drizzle types
 * (the committed ones, edited as a schema change would) are checked by the
 * native TypeScript compiler against every package that uses
 * @livermore/database. Each test makes its own workspace; none touches the
 * repository's working tree.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlfirstError } from '../errors.js';
import { isProcessAlive } from '../process.js';
import { typeCheckWorkspace, type TypeCheckOptions, type TypeCheckResult } from '../typecheck/index.js';
import { WarmCompilers } from '../typecheck/warm.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const TYPES = path.join('packages', 'database', 'src', 'schema');
const COMMITTED = {
  'schema.ts': fs.readFileSync(path.join(REPO, TYPES, 'schema.ts'), 'utf8'),
  'relations.ts': fs.readFileSync(path.join(REPO, TYPES, 'relations.ts'), 'utf8'),
};
const PACKAGES = ['database', 'trading-core'];
/** the types folder, as the project's settings name it */
const TYPES_DIR = path.join('packages', 'database', 'src', 'schema');

/**
 * A workspace of the database package and trading-core, copied into a
 * temporary folder; its node_modules links to the repository's, except the
 * workspace packages themselves: @livermore/* are the copies, and sqlfirst is
 * left out (the packages' tests import it: a break there in every check).
 */
function makeWorkspace(t: { after: (fn: () => void) => void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-typecheck-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.writeFileSync(
    path.join(root, 'package.json'),
    JSON.stringify({ name: 'fixture', private: true, type: 'module', workspaces: PACKAGES.map((p) => `packages/${p}`) }, null, 2),
  );
  for (const name of PACKAGES) {
    const from = path.join(REPO, 'packages', name);
    fs.cpSync(from, path.join(root, 'packages', name), {
      recursive: true,
      filter: (source) => !['node_modules', 'dist'].includes(path.relative(from, source).split(path.sep)[0]),
    });
  }
  const modules = path.join(root, 'node_modules');
  fs.mkdirSync(path.join(modules, '@livermore'), { recursive: true });
  for (const entry of fs.readdirSync(path.join(REPO, 'node_modules'))) {
    if (['@livermore', 'sqlfirst', '.bin', '.package-lock.json'].includes(entry)) continue;
    fs.symlinkSync(path.join(REPO, 'node_modules', entry), path.join(modules, entry), 'junction');
  }
  for (const name of PACKAGES) fs.symlinkSync(path.join(root, 'packages', name), path.join(modules, '@livermore', name), 'junction');
  return root;
}

/** The generated schema.ts without one column of one table, as drizzle-kit would print it after the drop. */
function withoutColumn(variable: string, column: string): typeof COMMITTED {
  const text = COMMITTED['schema.ts'];
  const start = text.indexOf(`export const ${variable} = `);
  assert.ok(start >= 0, `${variable} is in schema.ts`);
  const end = text.indexOf('\n}, (table) => [', start);
  const body = text.slice(start, end);
  const line = new RegExp(`\\n\\t\\w+: \\w+\\("${column}"[^\\n]*`).exec(body);
  assert.ok(line, `${variable} has a column ${column}`);
  return { ...COMMITTED, 'schema.ts': text.slice(0, start) + body.replace(line[0], '') + text.slice(end) };
}

/** The 1-based lines of a file of the workspace that match `pattern`. */
function linesMatching(root: string, file: string, pattern: RegExp): number[] {
  return fs
    .readFileSync(path.join(root, file), 'utf8')
    .split('\n')
    .flatMap((text, i) => (pattern.test(text) ? [i + 1] : []));
}

/** sha256 of every file under the folder, by path: what must not change. */
function snapshot(dir: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    hashes[path.relative(dir, full)] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
  }
  return hashes;
}

interface Timed {
  result: TypeCheckResult;
  ms: number;
  /** the compilers started (process ids) */
  pids: number[];
}

async function timedCheck(root: string, generated: typeof COMMITTED, options: TypeCheckOptions = {}): Promise<Timed> {
  const pids: number[] = [];
  const start = performance.now();
  const result = await typeCheckWorkspace(root, generated, { typesDir: TYPES_DIR, ...options, onCompilerStart: (pid) => pids.push(pid) });
  return { result, ms: Math.round(performance.now() - start), pids };
}

describe('typecheck stage', () => {
  it('reports a break with its whole multi-line message, at its place in the working tree, writing nothing there', async (t) => {
    const root = makeWorkspace(t);
    const before = snapshot(path.join(root, 'packages'));
    const { result, ms } = await timedCheck(root, withoutColumn('fills', 'is_maker'));
    t.diagnostic(`fills.is_maker dropped: ${ms} ms, ${result.breaks.length} breaks`);
    assert.deepEqual(result.packages, ['packages/database', 'packages/trading-core']);
    // recordFill inserts a fill with isMaker: no overload of values() takes it
    const [insert] = result.breaks.filter((b) => b.file === 'packages/trading-core/src/orders.ts' && b.code === 2769);
    assert.ok(insert, JSON.stringify(result.breaks, null, 2));
    const [first, ...chain] = insert.message.split('\n');
    assert.equal(first, 'No overload matches this call.');
    assert.ok(chain.length >= 2, insert.message);
    for (const line of chain) assert.match(line, /^ {2}/, 'continuation lines keep their indentation');
    const valuesCall = linesMatching(root, 'packages/trading-core/src/orders.ts', /\.insert\(fills\)/)[0];
    assert.ok(insert.line > valuesCall && insert.line <= valuesCall + 3, `the break is in the insert at line ${valuesCall}, not at ${insert.line}`);
    assert.ok(insert.column >= 1);
    assert.equal(insert.source, fs.readFileSync(path.join(root, insert.file), 'utf8').split('\n')[insert.line - 1].trim());
    // breaks in the database package itself are at their committed paths, never inside .sqlfirst
    for (const item of [...result.breaks, ...result.preexisting]) assert.match(item.file, /^packages\/(database|trading-core)\/src\//);
    assert.deepEqual(snapshot(path.join(root, 'packages')), before, 'nothing written into the packages');
  });

  it('checks again after an edit and skips an unchanged workspace without starting a compiler', async (t) => {
    const root = makeWorkspace(t);
    const generated = withoutColumn('orders', 'average_price');
    const cold = await timedCheck(root, generated, { baseline: false });
    const positions = path.join(root, 'packages', 'trading-core', 'src', 'positions.ts');
    fs.appendFileSync(positions, '\n// edited\n');
    const warm = await timedCheck(root, generated, { baseline: false });
    const unchanged = await timedCheck(root, generated, { baseline: false });
    t.diagnostic(`cold ${cold.ms} ms, after an edit ${warm.ms} ms, unchanged ${unchanged.ms} ms`);

    const inOrders = cold.result.breaks.filter((b) => b.file === 'packages/trading-core/src/orders.ts');
    assert.deepEqual([...new Set(inOrders.map((b) => b.line))], linesMatching(root, 'packages/trading-core/src/orders.ts', /\baveragePrice\b/));
    assert.equal(warm.result.skipped, undefined);
    assert.ok(warm.pids.length > 0, 'an edited workspace is checked again');
    assert.deepEqual(warm.result.breaks, cold.result.breaks);
    assert.equal(unchanged.result.skipped, 'unchanged');
    assert.deepEqual(unchanged.pids, [], 'no compiler starts for an unchanged workspace');
    assert.deepEqual(unchanged.result.breaks, cold.result.breaks);
  });

  it('lists the breaks already there with the committed types apart from the ones the change causes', async (t) => {
    const root = makeWorkspace(t);
    fs.writeFileSync(path.join(root, 'packages', 'trading-core', 'src', 'legacy.ts'), "export const limit: number = 'ten';\n");
    const changed = await timedCheck(root, withoutColumn('orders', 'average_price'));
    t.diagnostic(`with a baseline: ${changed.ms} ms, ${changed.result.breaks.length} new, ${changed.result.preexisting.length} pre-existing`);
    const { breaks, preexisting } = changed.result;
    assert.ok(breaks.length > 0);
    for (const item of breaks) assert.match(item.message, /\baveragePrice\b/, 'every new break is the dropped column');
    assert.ok(preexisting.some((b) => b.file === 'packages/trading-core/src/legacy.ts' && b.code === 2322), JSON.stringify(preexisting, null, 2));
    // the packages' tests import sqlfirst, which this workspace does not have
    assert.ok(preexisting.some((b) => b.file === 'packages/trading-core/src/test/trading.test.ts' && b.code === 2307));
    for (const item of preexisting) assert.doesNotMatch(item.message, /\baveragePrice\b/);

    // the committed types themselves: nothing is new, and the baseline of the last run answers
    const same = await timedCheck(root, COMMITTED);
    assert.deepEqual(same.result.breaks, []);
    assert.deepEqual(same.result.preexisting, preexisting);
    assert.equal(same.result.skipped, 'unchanged');
  });

  it("keeps a package's own paths, declared in a config it extends outside the package, and sees that config change", async (t) => {
    const root = makeWorkspace(t);
    const shared = path.join(root, 'tsconfig.paths.json');
    // relative to the file declaring them, as TypeScript resolves them
    fs.writeFileSync(shared, '{\n  // shared\n  "compilerOptions": { "paths": { "@fixture/money": ["./packages/trading-core/src/db.ts"], }, },\n}\n');
    const config = path.join(root, 'packages', 'trading-core', 'tsconfig.json');
    fs.writeFileSync(config, JSON.stringify({ extends: '../../tsconfig.paths.json', ...JSON.parse(fs.readFileSync(config, 'utf8')) }, null, 2));
    fs.writeFileSync(path.join(root, 'packages', 'trading-core', 'src', 'money.ts'), "import type { Decimal } from '@fixture/money';\nexport const unit: Decimal = '1.00';\n");

    const first = await timedCheck(root, COMMITTED, { baseline: false });
    assert.deepEqual(first.result.breaks.filter((b) => b.file.endsWith('/money.ts')), [], JSON.stringify(first.result.breaks, null, 2));
    fs.writeFileSync(shared, '{ "compilerOptions": { "paths": { "@fixture/money": ["./nowhere.ts"] } } }\n');
    const second = await timedCheck(root, COMMITTED, { baseline: false });
    assert.equal(second.result.skipped, undefined, 'the shared config is an input');
    assert.deepEqual(
      second.result.breaks.filter((b) => b.file.endsWith('/money.ts')).map((b) => [b.line, b.code]),
      [[1, 2307]],
    );
  });

  it('kills the compiler when the caller aborts', async (t) => {
    const root = makeWorkspace(t);
    const controller = new AbortController();
    const pids: number[] = [];
    const check = typeCheckWorkspace(root, withoutColumn('orders', 'average_price'), {
      typesDir: TYPES_DIR,
      signal: controller.signal,
      onCompilerStart: (pid) => {
        pids.push(pid);
        controller.abort();
      },
    });
    await assert.rejects(check, (error: unknown) => {
      assert.ok(error instanceof SqlfirstError);
      assert.equal(error.step, 'typecheck');
      assert.match(error.message, /^The type check was cancelled before it finished; /);
      return true;
    });
    assert.ok(pids.length > 0, 'a compiler had started');
    for (const pid of pids) assert.equal(isProcessAlive(pid), false, `compiler ${pid} is gone`);
  });

  it('ends a check that takes longer than its timeout with one sentence', async (t) => {
    const root = makeWorkspace(t);
    const pids: number[] = [];
    const check = typeCheckWorkspace(root, withoutColumn('orders', 'average_price'), {
      typesDir: TYPES_DIR, timeoutMs: 300, onCompilerStart: (pid) => pids.push(pid) });
    await assert.rejects(check, (error: unknown) => {
      assert.ok(error instanceof SqlfirstError);
      assert.equal(error.step, 'typecheck');
      assert.match(error.message, /^The type check did not finish within 300 ms; run it again, or pass --no-typecheck\.$/);
      return true;
    });
    for (const pid of pids) assert.equal(isProcessAlive(pid), false, `compiler ${pid} is gone`);
  });

  it('a compiler kept up between checks (dev) finds exactly what a fresh compiler finds, and follows edits and tsconfig changes', async (t) => {
    // two copies of the workspace: one checked by a fresh compiler each time (the oracle), one by the warm one
    const fresh = makeWorkspace(t);
    const kept = makeWorkspace(t);
    const warm = new WarmCompilers();
    t.after(() => warm.close());
    const both = async (generated: typeof COMMITTED) => {
      const oracle = await timedCheck(fresh, generated, { baseline: false });
      const checked = await timedCheck(kept, generated, { baseline: false, warm });
      assert.deepEqual(checked.result, oracle.result);
      return { oracle: oracle.result, started: checked.pids.length };
    };
    const edit = (file: string, change: (text: string) => string) => {
      for (const root of [fresh, kept]) fs.writeFileSync(path.join(root, file), change(fs.readFileSync(path.join(root, file), 'utf8')));
    };

    const first = await both(withoutColumn('orders', 'average_price'));
    assert.equal(first.started, 1, 'the first check starts the compiler');
    assert.ok(first.oracle.breaks.length > 0);

    const second = await both(withoutColumn('orders', 'filled_quantity'));
    assert.equal(second.started, 0, 'a new schema is checked by the same compiler');
    assert.notDeepEqual(second.oracle.breaks, first.oracle.breaks);

    edit('packages/trading-core/src/positions.ts', (text) => `${text}\nexport const edited: { a: number } = { a: 'x' } as { a: string };\n`);
    const third = await both(withoutColumn('orders', 'filled_quantity'));
    assert.equal(third.started, 0, 'an edited source is read again by the same compiler');
    const edited = third.oracle.breaks.find((b) => b.file === 'packages/trading-core/src/positions.ts' && b.code === 2322);
    assert.ok(edited?.message.includes('\n    '), `a message with a chain two levels deep is compared too: ${edited?.message}`);

    for (const name of PACKAGES) edit(`packages/${name}/tsconfig.json`, (text) => text.replace('"strict": true', '"strict": false'));
    const fourth = await both(withoutColumn('orders', 'filled_quantity'));
    assert.equal(fourth.started, 1, 'a changed tsconfig starts a fresh compiler');
  });

  it('checks nothing outside a workspace with a database package', async () => {
    const alone = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-typecheck-'));
    try {
      assert.deepEqual(await typeCheckWorkspace(alone, COMMITTED), { breaks: [], preexisting: [], packages: [] });
      fs.writeFileSync(path.join(alone, 'package.json'), JSON.stringify({ name: 'x', workspaces: ['packages/*'] }));
      assert.deepEqual(await typeCheckWorkspace(alone, COMMITTED), { breaks: [], preexisting: [], packages: [] });
      assert.deepEqual(fs.readdirSync(alone), ['package.json'], 'nothing written');
    } finally {
      fs.rmSync(alone, { recursive: true, force: true });
    }
  });
});
