/**
 * A network that stalls: a loopback proxy in front of the test server stops forwarding
 * (both ways, sockets left open, as a dead NAT or a hung load balancer does). Every wait
 * of sqlfirst's connections must end within the configured timeouts plus a small margin,
 * and the server must end the session that sat in a transaction holding a lock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SqlfirstError } from '../errors.js';
import { ANSWER_MARGIN_MS, APPLICATION_NAME, checkConnection, idleInTransactionTimeoutMs, keepHolding, openClient, openPool } from '../target/connect.js';
import { parseTarget } from '../target/url.js';
import { startProxy as startStallingProxy, type StallingProxy } from './support/proxy.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
const proxies: StallingProxy[] = [];

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await server?.stop();
});

/** A stalling proxy, closed after the file's tests. */
async function startProxy(port?: number): Promise<StallingProxy> {
  const proxy = await startStallingProxy(port);
  proxies.push(proxy);
  return proxy;
}

function viaProxy(proxy: StallingProxy, database: string, sslmode = 'disable') {
  return parseTarget(`postgres://postgres@127.0.0.1:${proxy.port}/${database}?sslmode=${sslmode}`);
}

/** Sessions of this process that hold a lock on `table`, as the server sees them (asked directly). */
async function ourLocks(url: string, table: string): Promise<number> {
  const rows = await server.query<{ n: number }>(
    url,
    `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE a.application_name = $1 AND l.relation = to_regclass($2)`,
    [APPLICATION_NAME, table],
  );
  return rows[0].n;
}

describe('a network that stalls', () => {
  test('mid-transaction: the client gives up after the statement timeout plus a margin, and the server ends the session', async () => {
    const url = await server.createDatabase();
    const database = new URL(url).pathname.slice(1);
    await server.query(url, 'CREATE TABLE guarded (id int)');
    const proxy = await startProxy(server.port);
    const options = { statementTimeoutMs: 1_000, lockTimeoutMs: 500 };
    const pool = openPool(viaProxy(proxy, database), options);
    try {
      const client = await pool.connect();
      await client.query('BEGIN');
      await client.query('LOCK TABLE guarded IN ACCESS EXCLUSIVE MODE');
      assert.equal(await ourLocks(url, 'guarded'), 1, 'the transaction holds its lock');

      proxy.stall();
      const started = performance.now();
      const deadline = options.statementTimeoutMs + ANSWER_MARGIN_MS;
      const error = await client.query('SELECT 1').then(
        () => assert.fail('a query through a stalled network must not succeed'),
        (rejection: unknown) => rejection,
      );
      const waited = performance.now() - started;
      assert.ok(error instanceof SqlfirstError, `not a SqlfirstError: ${String(error)}`);
      assert.match(error.message, /^The server at 127\.0\.0\.1:\d+ sent no answer within 3 s, .*so check the network and run again\.$/);
      assert.equal(error.message.split('\n').length, 1);
      assert.ok(waited >= deadline - 50 && waited < deadline + 1_000, `gave up after ${Math.round(waited)} ms (deadline ${deadline} ms)`);

      // the connection is given up: what follows fails at once instead of waiting again
      const rollbackStarted = performance.now();
      await assert.rejects(client.query('ROLLBACK'));
      assert.ok(performance.now() - rollbackStarted < 500, 'ROLLBACK on a given-up connection fails at once');
      client.release(true);

      // the server, seeing the session idle in its transaction, ends it and releases the lock
      const idleTimeout = idleInTransactionTimeoutMs(options);
      let locks = await ourLocks(url, 'guarded');
      while (locks > 0 && performance.now() - started < idleTimeout + 3_000) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        locks = await ourLocks(url, 'guarded');
      }
      assert.equal(locks, 0, `a session of ours still holds the lock ${Math.round(performance.now() - started)} ms after the stall`);
    } finally {
      await pool.end();
    }
  });

  test('without a statement timeout: a long query that works is left alone, a stalled one is given up by the watchdog', async () => {
    const url = await server.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const watchdog = process.env.SQLFIRST_WATCHDOG_MS;
    // the watchdog's interval is read when a connection is made
    process.env.SQLFIRST_WATCHDOG_MS = '500';
    const proxy = await startProxy(server.port);
    const connectTimeoutMs = 1_000;
    const pool = openPool(viaProxy(proxy, database), { connectTimeoutMs });
    const client = await pool.connect();
    try {
      // silent for six watchdog intervals, but active all along: the probes keep the wait going
      await client.query('SELECT pg_sleep(3)');

      proxy.stall();
      const started = performance.now();
      const error = await client.query('SELECT 1').then(
        () => assert.fail('a query through a stalled network must not succeed'),
        (rejection: unknown) => rejection,
      );
      const waited = performance.now() - started;
      assert.ok(error instanceof SqlfirstError, `not a SqlfirstError: ${String(error)}`);
      assert.match(error.message, /^The server at 127\.0\.0\.1:\d+ sent nothing for [\d.]+ s and a new connection to it got no answer either, so sqlfirst closed the connection; .*so check the network and run again\.$/);
      // one interval of silence, then a probe that gets no answer within the connect timeout
      assert.ok(waited >= 500 && waited < 500 + connectTimeoutMs + 1_500, `gave up after ${Math.round(waited)} ms`);
    } finally {
      client.release(true);
      if (watchdog === undefined) delete process.env.SQLFIRST_WATCHDOG_MS;
      else process.env.SQLFIRST_WATCHDOG_MS = watchdog;
      await pool.end();
    }
  });

  test('a session that holds a lock between queries is kept by its heartbeat, and ended by the server soon after the network stalls', async () => {
    const url = await server.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const holders = async () =>
      (await server.query<{ n: number }>(url, "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 42 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))[0].n;
    const proxy = await startProxy(server.port);
    const client = openClient(viaProxy(proxy, database));
    await client.connect();
    const silenceMs = 2_000;
    let stop = () => {};
    try {
      await client.query('SELECT pg_advisory_lock(42)');
      stop = await keepHolding(client, silenceMs);
      await new Promise((resolve) => setTimeout(resolve, silenceMs * 1.5));
      assert.equal(await holders(), 1, 'the heartbeat keeps the session and its lock while the network works');

      proxy.stall();
      const started = performance.now();
      let held = 1;
      while (held > 0 && performance.now() - started < silenceMs + 3_000) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        held = await holders();
      }
      assert.equal(held, 0, `the lock was still held ${Math.round(performance.now() - started)} ms after the stall`);
    } finally {
      stop();
      await client.end().catch(() => {});
    }
  });

  test('connecting to a server that accepts and never answers ends within the connect timeout', async () => {
    const silent = await startProxy();
    for (const sslmode of ['disable', 'require']) {
      const started = performance.now();
      const error = await checkConnection(viaProxy(silent, 'postgres', sslmode), { connectTimeoutMs: 1_000 }).then(
        () => assert.fail('connected to a server that never answers'),
        (rejection: unknown) => rejection,
      );
      const waited = performance.now() - started;
      assert.ok(error instanceof SqlfirstError, String(error));
      assert.match(error.message, /did not answer within 1 s .*check that the host and port are those of a running PostgreSQL server\.$/);
      assert.ok(waited < 2_000, `${sslmode}: gave up after ${Math.round(waited)} ms`);
    }
  });
});
