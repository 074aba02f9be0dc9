/**
 * The typed client against a real PostgreSQL: sqlfirst applies schema.sql to a
 * fresh database on an embedded server, then the client writes and reads through
 * the generated tables and relations.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { eq } from 'drizzle-orm';
import { NO_SKIPS, Reporter, runCommand, startEmbeddedServer, type EmbeddedServer } from 'sqlfirst';
import {
  assets,
  closeDb,
  configFromEnvironment,
  createDb,
  DATABASE_VARIABLES,
  DatabaseConfigError,
  eventsInAudit,
  exchanges,
  fills,
  getDb,
  instruments,
  orders,
  tradingAccounts,
  users,
} from '../index.js';

const SCHEMA_SQL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'schema.sql');

describe('@livermore/database client', () => {
  let root: string;
  let server: EmbeddedServer | undefined;
  let url: string;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'livermore-database-test-'));
    // as root, the server runs as the postgres user, which must reach the data folder
    fs.chmodSync(root, 0o755);
    server = await startEmbeddedServer(path.join(root, 'data'));
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE livermore_test');
    } finally {
      await admin.end();
    }
    const target = new URL(server.url);
    target.pathname = '/livermore_test';
    url = target.toString();

    let output = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        output += chunk;
        done();
      },
    });
    const outcome = await runCommand(
      'apply',
      { url, schemaFiles: [SCHEMA_SQL], schemas: [], policy: NO_SKIPS, autoApprove: true, typeCheck: false },
      new Reporter({ out: sink, err: sink }),
    );
    assert.equal(outcome.exitCode, 0, output);
  });

  after(async () => {
    await closeDb();
    await server?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes through the generated tables and reads back through the relations', async () => {
    const db = getDb({ connectionString: url });
    assert.equal(getDb(), db, 'getDb() returns the same instance');

    const [user] = await db.insert(users).values({ email: 'ada@example.com', displayName: 'Ada' }).returning();
    assert.equal(user.role, 'trader');
    const [exchange] = await db.insert(exchanges).values({ code: 'kraken', name: 'Kraken', apiBaseUrl: 'https://api.kraken.com' }).returning();
    const [btc, usd] = await db
      .insert(assets)
      .values([
        { symbol: 'BTC', name: 'Bitcoin' },
        { symbol: 'USD', name: 'US Dollar', decimals: 2, isFiat: true },
      ])
      .returning();
    const [instrument] = await db
      .insert(instruments)
      .values({ exchangeId: exchange.id, symbol: 'BTC-USD', baseAssetId: btc.id, quoteAssetId: usd.id, tickSize: '0.01', lotSize: '0.0001' })
      .returning();
    const [account] = await db.insert(tradingAccounts).values({ userId: user.id, exchangeId: exchange.id, name: 'main', isPaper: true }).returning();
    const [order] = await db
      .insert(orders)
      .values({ accountId: account.id, instrumentId: instrument.id, clientOrderId: 'c-1', side: 'buy', type: 'limit', quantity: '0.5', price: '60000' })
      .returning();
    assert.equal(order.status, 'pending');
    await db.insert(fills).values({ orderId: order.id, exchangeTradeId: 't-1', price: '60000', quantity: '0.5', executedAt: new Date().toISOString() });

    const found = await db.query.orders.findFirst({
      where: eq(orders.id, order.id),
      with: { fills: true, instrument: { with: { exchange: true } }, tradingAccount: { with: { user: true } } },
    });
    assert.ok(found);
    assert.equal(found.clientOrderId, 'c-1');
    assert.equal(found.fills.length, 1);
    assert.equal(found.fills[0].exchangeTradeId, 't-1');
    // a generated column, computed by PostgreSQL
    assert.equal(Number(found.fills[0].notional), 30000);
    assert.equal(found.instrument.symbol, 'BTC-USD');
    assert.equal(found.instrument.exchange.code, 'kraken');
    assert.equal(found.tradingAccount.user.email, 'ada@example.com');

    // schema.sql's audit trigger recorded the order
    const events = await db.select().from(eventsInAudit).where(eq(eventsInAudit.rowKey, order.id));
    assert.deepEqual(
      events.map((e) => [e.tableName, e.action]),
      [['orders', 'insert']],
    );

    const withAccounts = await db.query.users.findMany({ with: { tradingAccounts: { with: { orders: true } } } });
    assert.equal(withAccounts.length, 1);
    assert.equal(withAccounts[0].tradingAccounts[0].orders[0].id, order.id);
  });

  it('refuses a different config once created, and starts afresh after closeDb()', async () => {
    const db = getDb({ connectionString: url });
    assert.equal(getDb({ connectionString: url }), db, 'the same config again is fine');
    const elsewhere = new URL(url);
    elsewhere.pathname = '/postgres';
    assert.throws(() => getDb({ connectionString: elsewhere.toString() }), DatabaseConfigError);
    await closeDb();
    const again = getDb({ connectionString: url });
    assert.notEqual(again, db);
    assert.equal(await again.$count(users), 1);
    await closeDb();
  });

  it('a separate client from createDb() leaves the singleton alone', async () => {
    const db = createDb({ connectionString: url, max: 1 });
    try {
      const rows = await db.select({ email: users.email }).from(users);
      assert.deepEqual(rows, [{ email: 'ada@example.com' }]);
    } finally {
      await db.$client.end();
    }
  });

  it('reads the local variables, and names every missing one in one error', () => {
    assert.deepEqual(
      configFromEnvironment({
        DATABASE_HOST: 'db.internal',
        DATABASE_PORT: '5433',
        DATABASE_LIVERMORE_USERNAME: 'livermore',
        DATABASE_LIVERMORE_PASSWORD: 's3cret',
        LIVERMORE_DATABASE_NAME: 'livermore',
      }),
      { host: 'db.internal', port: 5433, user: 'livermore', password: 's3cret', database: 'livermore', ssl: false },
    );
    assert.throws(
      () => configFromEnvironment({}),
      (error: unknown) => {
        assert.ok(error instanceof DatabaseConfigError);
        assert.deepEqual(error.missing, [...DATABASE_VARIABLES]);
        for (const name of DATABASE_VARIABLES) assert.match(error.message, new RegExp(name));
        return true;
      },
    );
    assert.throws(
      () => configFromEnvironment({ DATABASE_HOST: 'h', DATABASE_PORT: '5432', LIVERMORE_DATABASE_NAME: 'x' }),
      (error: unknown) => {
        assert.ok(error instanceof DatabaseConfigError);
        assert.deepEqual(error.missing, ['DATABASE_LIVERMORE_USERNAME', 'DATABASE_LIVERMORE_PASSWORD']);
        assert.match(error.message, /DATABASE_LIVERMORE_USERNAME and DATABASE_LIVERMORE_PASSWORD, which are not set/);
        return true;
      },
    );
    assert.throws(
      () => configFromEnvironment({ DATABASE_HOST: 'h', DATABASE_PORT: 'five', DATABASE_LIVERMORE_USERNAME: 'u', DATABASE_LIVERMORE_PASSWORD: 'p', LIVERMORE_DATABASE_NAME: 'x' }),
      /DATABASE_PORT is "five"/,
    );
  });
});
