/**
 * Every command that connects survives a stalled network: the real CLI runs with --url
 * pointing at a loopback proxy that stops forwarding at a meaningful moment (mid-apply, or
 * while the shadow loads). The run must exit 1 within its timeouts plus a margin, with one
 * sentence on stderr and no password anywhere, and the server must keep no session of ours
 * holding a lock on the data or sitting idle in a transaction; the rows stay as they were.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_IDLE_IN_TRANSACTION_MS } from '../target/connect.js';
import { runCli, type CliResult } from './support/cli.js';
import { startProxy, type StallingProxy } from './support/proxy.js';
import { requirePasswords, startTestServer, urlFor, type TestServer } from './support/server.js';

const USER = 'stall_user';
const PASSWORD = 'st@ll:/p?w#d%1';
/** the watchdog's interval for these runs (SQLFIRST_WATCHDOG_MS): short, so a stall without a statement timeout ends soon */
const WATCHDOG_MS = 1_000;
/** --connect-timeout: also the watchdog probe's whole deadline */
const CONNECT_TIMEOUT_S = 2;
const TIMEOUTS = ['--lock-timeout', '1s', '--statement-timeout', '3s'];
/** the server ends a session idle in a transaction after lock + statement timeout + 5 s (connect.ts) */
const IDLE_IN_TRANSACTION_MS = 1_000 + 3_000 + 5_000;
/** how long a stalled run may take to exit: detection, then the run's releases on stalled connections, each bounded */
const EXIT_BOUND_MS = 20_000;

const V1 = 'CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);\n';
const V2 = 'CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, stall_marker text);\n';
/** the plan's statement, as the client sends it (the shadow load sends the CREATE TABLE instead) */
const APPLY_MARKER = 'ADD COLUMN "stall_marker"';
/** the shadow load's statement */
const LOAD_MARKER = 'stall_marker';

let server: TestServer;
let work: string;
const proxies: StallingProxy[] = [];

before(async () => {
  // a server of its own: the sessions and shadows a stalled run leaves live on until the server ends them, which other files' checks would see
  server = await startTestServer({ private: true });
  await requirePasswords(server, USER, PASSWORD);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-stall-'));
  // a project of its own, so `types` and `check` have a schema and a types folder
  fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'stall', private: true, workspaces: [], sqlfirst: { schema: 'schema.sql', types: 'types' } }));
  fs.writeFileSync(path.join(work, 'schema.sql'), V2);
  fs.writeFileSync(path.join(work, 'v1.sql'), V1);
});

after(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/**
 * A proxy to the test server that forwards until the client sends a message containing
 * `marker`, forwards that message, then stalls. `scope: 'all'` stalls new connections too
 * (the server is unreachable); `'open'` only those already open (one flow died, a new
 * connection works).
 */
async function stallingProxy(marker: string, scope: 'all' | 'open'): Promise<StallingProxy> {
  const proxy = await startProxy(server.port, { stallOn: marker, scope });
  proxies.push(proxy);
  return proxy;
}

/** A database owned by the password-checked user, seeded with V1 and two rows (directly, not through a proxy). */
async function seeded(): Promise<{ direct: string; name: string }> {
  const admin = await server.createDatabase();
  const name = new URL(admin).pathname.slice(1);
  await server.query(server.url, `ALTER DATABASE "${name}" OWNER TO ${USER}`);
  await server.query(admin, `ALTER SCHEMA public OWNER TO ${USER}`);
  const direct = urlFor(server, USER, PASSWORD, name);
  await server.query(direct, V1);
  await server.query(direct, "INSERT INTO items VALUES (1, 'bolt'), (2, 'nut')");
  return { direct, name };
}

function viaProxy(proxy: StallingProxy, name: string): string {
  return `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${proxy.port}/${name}?sslmode=disable`;
}

async function runStalled(args: string[]): Promise<{ result: CliResult; waited: number }> {
  const started = performance.now();
  const result = await runCli([...args, '--connect-timeout', String(CONNECT_TIMEOUT_S)], {
    cwd: work,
    env: { SQLFIRST_WATCHDOG_MS: String(WATCHDOG_MS) },
    timeoutMs: 90_000,
  });
  return { result, waited: performance.now() - started };
}

function assertStalledRun({ result, waited }: { result: CliResult; waited: number }, bound: number): void {
  assert.equal(result.code, 1, `exit code ${result.code}, waited ${Math.round(waited)} ms:\n${result.output}`);
  assert.ok(waited < bound, `the run took ${Math.round(waited)} ms (bound ${bound} ms):\n${result.output}`);
  const sentence = result.stderr.trim();
  assert.equal(sentence.split('\n').length, 1, `stderr is not one line:\n${result.stderr}`);
  assert.match(sentence, /sqlfirst closed the connection; .* so check the network and run again\.$/);
  for (const secret of [PASSWORD, encodeURIComponent(PASSWORD)]) assert.ok(!result.output.includes(secret), `the password appears in the output:\n${result.output}`);
}

/**
 * Sessions of that run the server still has that hold a lock in `database` or sit in a
 * transaction, asked directly; waits up to `withinMs` for the server to end them.
 */
async function lingering(pid: number, database: string, withinMs: number): Promise<string[]> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const rows = await server.query<{ what: string }>(
      server.url,
      `SELECT format('%s %s %s', a.pid, a.state, coalesce(string_agg(DISTINCT l.mode, ',') FILTER (WHERE l.relation IS NOT NULL), '')) AS what
         FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND l.database = a.datid
        WHERE a.application_name LIKE $1 AND a.datname = $2
        GROUP BY a.pid, a.state
       HAVING a.state LIKE 'idle in transaction%' OR bool_or(l.relation IS NOT NULL)`,
      [`sqlfirst:${pid}:%`, database],
    );
    if (rows.length === 0 || performance.now() > deadline) return rows.map((r) => r.what);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function rows(direct: string): Promise<unknown[]> {
  return server.query(direct, 'SELECT * FROM items ORDER BY id');
}

describe('a network that stalls, every command', () => {
  test('apply, stalled mid-apply with timeouts: exits within them, and the server rolls the apply back', async () => {
    const { direct, name } = await seeded();
    const before = await rows(direct);
    const proxy = await stallingProxy(APPLY_MARKER, 'all');
    const run = await runStalled(['apply', '--url', viaProxy(proxy, name), '--to', path.join(work, 'schema.sql'), '--auto-approve', '--no-typecheck', ...TIMEOUTS]);
    assertStalledRun(run, EXIT_BOUND_MS);
    assert.deepEqual(await lingering(run.result.pid, name, IDLE_IN_TRANSACTION_MS + 5_000), []);
    assert.deepEqual(await rows(direct), before);
    const [{ n }] = await server.query<{ n: number }>(direct, "SELECT count(*)::int AS n FROM information_schema.columns WHERE column_name = 'stall_marker'");
    assert.equal(n, 0, 'the column was rolled back');
  });

  test('sync, stalled mid-apply without a statement timeout: the watchdog finds the answer lost and ends the session at once', async () => {
    const { direct, name } = await seeded();
    const before = await rows(direct);
    const proxy = await stallingProxy(APPLY_MARKER, 'open');
    const run = await runStalled(['sync', '--url', viaProxy(proxy, name), '--to', path.join(work, 'schema.sql'), '--auto-approve', '--no-types', '--no-typecheck']);
    assertStalledRun(run, EXIT_BOUND_MS);
    assert.match(run.result.stderr, /answer never arrived, so sqlfirst ended that session/);
    // ended by sqlfirst, not by idle_in_transaction_session_timeout (60 s here)
    assert.deepEqual(await lingering(run.result.pid, name, 3_000), []);
    assert.deepEqual(await rows(direct), before);
  });

  for (const timeouts of [TIMEOUTS, []]) {
    const label = timeouts.length ? 'with timeouts' : 'without a statement timeout';
    test(`plan, stalled while the shadow loads, ${label}: exits within the bound`, async () => {
      const { direct, name } = await seeded();
      const proxy = await stallingProxy(LOAD_MARKER, 'all');
      const run = await runStalled(['plan', '--url', viaProxy(proxy, name), '--to', path.join(work, 'schema.sql'), '--no-typecheck', ...timeouts]);
      assertStalledRun(run, EXIT_BOUND_MS);
      // the target's read may sit in its snapshot transaction when everything stalls: the server ends it
      const idle = timeouts.length ? IDLE_IN_TRANSACTION_MS : DEFAULT_IDLE_IN_TRANSACTION_MS;
      assert.deepEqual(await lingering(run.result.pid, name, idle + 5_000), []);
    });
  }

  test('types, stalled while the shadow loads: exits within the bound', async () => {
    const { name } = await seeded();
    const proxy = await stallingProxy(LOAD_MARKER, 'all');
    const run = await runStalled(['types', '--url', viaProxy(proxy, name), '--types-dir', path.join(work, 'types')]);
    assertStalledRun(run, EXIT_BOUND_MS);
    assert.ok(!fs.existsSync(path.join(work, 'types', 'schema.ts')), 'no types were written');
  });

  test('check, stalled while the shadow loads, with timeouts: exits within the bound', async () => {
    const { name } = await seeded();
    const proxy = await stallingProxy(LOAD_MARKER, 'all');
    const run = await runStalled(['check', '--url', viaProxy(proxy, name), ...TIMEOUTS]);
    assertStalledRun(run, EXIT_BOUND_MS);
  });
});
