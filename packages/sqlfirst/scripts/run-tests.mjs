/**
 * The test run: one embedded PostgreSQL for the whole run (each test makes its
 * own database on it), then every compiled test file under dist/ through
 * node's test runner, files in parallel. The server is stopped however the
 * run ends. `node scripts/run-tests.mjs [file ...]` runs only those files;
 * node's own test options among the arguments (`--test-reporter=tap`, …) are
 * passed on to node's test runner. SQLFIRST_TEST_PG_MAJOR=15|16|17|18 picks
 * the server's major (18 when unset).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(packageDir, 'dist');
const { startSharedTestServer } = await import(path.join(dist, 'test', 'support', 'server.js'));

/**
 * The files that take longest (measured: each 45–115 s of a ~285 s run) start first, so
 * none of them is left running alone at the end while the other slots sit idle.
 */
const SLOWEST_FIRST = [
  'test/evolution.test.js',
  'test/readme.test.js',
  'test/stall.test.js',
  'test/fastpath.test.js',
  'test/typegen-oracle.test.js',
  'test/reviewed-paths.test.js',
  'test/check.test.js',
  'test/typecheck.test.js',
];
const testOptions = process.argv.slice(2).filter((arg) => arg.startsWith('--test-'));
const named = process.argv.slice(2).filter((arg) => !arg.startsWith('--test-'));
const files = named.length ? named.map((file) => path.resolve(file)) : testFiles(dist);
// test files wait on servers and child processes much of the time: twice the cores keeps the cores busy
const concurrency = Number(process.env.SQLFIRST_TEST_CONCURRENCY) || 2 * os.availableParallelism();

const leftBefore = new Set(fs.readdirSync(os.tmpdir()));
const server = await startSharedTestServer().catch((error) => {
  process.stderr.write(`The test server did not start: ${error.message}\n`);
  process.exit(1);
});
let child;
const stop = async () => {
  await server.stop().catch((error) => process.stderr.write(`could not stop the test server: ${error}\n`));
  stopOrphanedServers();
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    child?.kill(signal);
    await stop();
    process.exit(1);
  });
}
const code = await new Promise((resolve) => {
  child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...testOptions, ...files], {
    stdio: 'inherit',
    env: { ...process.env, ...server.environment },
  });
  child.on('close', (status) => resolve(status ?? 1));
});
await stop();
process.exit(code);

/**
 * A test file whose process died never ran its `after`: servers it started in
 * the temporary folder during this run are stopped here (by the pid in their
 * postmaster.pid) and their folders removed.
 */
function stopOrphanedServers() {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (leftBefore.has(name) || !/^sqlfirst-(test|pg\d+)-/.test(name)) continue;
    const folder = path.join(os.tmpdir(), name);
    const pidFile = path.join(folder, 'data', 'postmaster.pid');
    if (fs.existsSync(pidFile)) {
      const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
      // only servers whose test process is gone (another run's live servers are not ours to stop)
      if (!orphaned(pid)) continue;
      try {
        process.kill(pid, 'SIGINT');
        process.stderr.write(`stopped a PostgreSQL server a test left running (pid ${pid}, ${folder})\n`);
      } catch {
        // already gone
      }
    }
  }
}

/** Whether a server process lost the process that started it (Linux: its parent is now init); elsewhere nothing is assumed. */
function orphaned(pid) {
  if (process.platform !== 'linux') return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the parent pid is the second field after the parenthesised command name
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === 1;
  } catch {
    return false;
  }
}

function testFiles(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(path.join(entry.parentPath, entry.name));
  }
  const rank = (file) => {
    const at = SLOWEST_FIRST.indexOf(path.relative(dir, file).split(path.sep).join('/'));
    return at === -1 ? SLOWEST_FIRST.length : at;
  };
  return found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
