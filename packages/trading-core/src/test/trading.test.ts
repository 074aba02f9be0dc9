/**
 * trading-core against a real PostgreSQL: sqlfirst applies schema.sql to a
 * fresh database on an embedded server, then orders are placed and filled and
 * positions computed through the typed client of @livermore/database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { eq } from 'drizzle-orm';
import { NO_SKIPS, Reporter, runCommand, startEmbeddedServer, type EmbeddedServer } from 'sqlfirst';
import { assets, createDb, exchanges, fills, instruments, orders, tradingAccounts, users, type Database } from '@livermore/database';
import { computePosition, OrderNotFillableError, placeOrder, recordFill } from '../index.js';

// schema.sql sits beside the database package's package.json
const SCHEMA_SQL = path.join(path.dirname(createRequire(import.meta.url).resolve('@livermore/database')), '..', 'schema.sql');

describe('@livermore/trading-core', () => {
  let root: string | undefined;
  let server: EmbeddedServer | undefined;
  let db: Database | undefined;
  let accountId: number;
  let instrumentId: number;
  let otherInstrumentId: number;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'livermore-trading-core-test-'));
    // as root, the server runs as the postgres user, which must reach the data folder
    fs.chmodSync(root, 0o755);
    server = await startEmbeddedServer(path.join(root, 'data'));
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE trading_core_test');
    } finally {
      await admin.end();
    }
    const target = new URL(server.url);
    target.pathname = '/trading_core_test';
    const url = target.toString();

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

    db = createDb({ connectionString: url, max: 4 });
    const [user] = await db.insert(users).values({ email: 'grace@example.com', displayName: 'Grace' }).returning();
    const [exchange] = await db.insert(exchanges).values({ code: 'coinbase', name: 'Coinbase', apiBaseUrl: 'https://api.coinbase.com' }).returning();
    const [btc, eth, usd] = await db
      .insert(assets)
      .values([
        { symbol: 'BTC', name: 'Bitcoin' },
        { symbol: 'ETH', name: 'Ether' },
        { symbol: 'USD', name: 'US Dollar', decimals: 2, isFiat: true },
      ])
      .returning();
    const [btcUsd, ethUsd] = await db
      .insert(instruments)
      .values([
        { exchangeId: exchange.id, symbol: 'BTC-USD', baseAssetId: btc.id, quoteAssetId: usd.id, tickSize: '0.01', lotSize: '0.00000001' },
        { exchangeId: exchange.id, symbol: 'ETH-USD', baseAssetId: eth.id, quoteAssetId: usd.id, tickSize: '0.01', lotSize: '0.00000001' },
      ])
      .returning();
    const [account] = await db.insert(tradingAccounts).values({ userId: user.id, exchangeId: exchange.id, name: 'main' }).returning();
    accountId = account.id;
    instrumentId = btcUsd.id;
    otherInstrumentId = ethUsd.id;
  });

  after(async () => {
    await db?.$client.end();
    await server?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('places an order: pending, nothing filled', async () => {
    const order = await placeOrder(db!, { accountId, instrumentId, clientOrderId: 'place-1', side: 'buy', quantity: '1', price: '50000' });
    assert.equal(order.status, 'pending');
    assert.equal(order.type, 'limit');
    assert.equal(order.timeInForce, 'gtc');
    assert.equal(order.filledQuantity, '0.00000000');
    assert.equal(order.averagePrice, null);
    assert.equal(order.price, '50000.00000000');
    await assert.rejects(placeOrder(db!, { accountId, instrumentId, clientOrderId: 'place-2', side: 'buy', quantity: '1' }), /needs a price/);
    await assert.rejects(placeOrder(db!, { accountId, instrumentId, clientOrderId: 'place-3', side: 'buy', quantity: 1e-7 as unknown as string, price: '1' }), /decimal string/);
    // the client order id is unique per account (a database constraint)
    await assert.rejects(
      placeOrder(db!, { accountId, instrumentId, clientOrderId: 'place-1', side: 'buy', quantity: '1', price: '50000' }),
      // unique_violation, from the server (drizzle may wrap the driver's error)
      (error: { code?: string; cause?: { code?: string } }) => (error.code ?? error.cause?.code) === '23505',
    );
  });

  it('records fills: filled quantity, average price and status follow, decimal-exact', async () => {
    const order = await placeOrder(db!, { accountId, instrumentId, clientOrderId: 'fill-1', side: 'buy', quantity: '0.3', price: '60000' });
    const first = await recordFill(db!, { orderId: order.id, exchangeTradeId: 't-1', price: '60000', quantity: '0.1', executedAt: '2026-01-02T03:04:05Z' });
    assert.equal(first.fill.orderId, order.id);
    assert.equal(first.fill.notional, '6000.0000000000000000');
    assert.equal(first.order.status, 'partially_filled');
    assert.equal(first.order.filledQuantity, '0.10000000');
    assert.equal(first.order.averagePrice, '60000.00000000');
    assert.equal(first.order.closedAt, null);

    const second = await recordFill(db!, { orderId: order.id, exchangeTradeId: 't-2', price: '60000.03', quantity: '0.2', isMaker: true, executedAt: '2026-01-02T03:04:06Z' });
    // 0.1 + 0.2 is exactly 0.3 here, not 0.30000000000000004
    assert.equal(second.order.filledQuantity, '0.30000000');
    assert.equal(second.order.averagePrice, '60000.02000000');
    assert.equal(second.order.status, 'filled');
    assert.ok(second.order.closedAt);

    await assert.rejects(
      recordFill(db!, { orderId: order.id, exchangeTradeId: 't-3', price: '60000', quantity: '0.1', executedAt: '2026-01-02T03:04:07Z' }),
      (error: unknown) => error instanceof OrderNotFillableError && /is filled and accepts no more fills/.test(error.message),
    );
    assert.equal((await db!.select().from(fills).where(eq(fills.orderId, order.id))).length, 2);
  });

  it('refuses an overfill and writes nothing', async () => {
    const order = await placeOrder(db!, { accountId, instrumentId, clientOrderId: 'over-1', side: 'sell', quantity: '0.5', price: '70000' });
    await recordFill(db!, { orderId: order.id, exchangeTradeId: 'o-1', price: '70000', quantity: '0.4', executedAt: '2026-01-03T00:00:00Z' });
    await assert.rejects(
      recordFill(db!, { orderId: order.id, exchangeTradeId: 'o-2', price: '70000', quantity: '0.2', executedAt: '2026-01-03T00:00:01Z' }),
      (error: unknown) => error instanceof OrderNotFillableError && /would overfill/.test(error.message),
    );
    const [after] = await db!.select().from(orders).where(eq(orders.id, order.id));
    assert.equal(after.filledQuantity, '0.40000000');
    assert.equal(after.status, 'partially_filled');
    assert.deepEqual((await db!.select({ id: fills.exchangeTradeId }).from(fills).where(eq(fills.orderId, order.id))), [{ id: 'o-1' }]);
    await assert.rejects(
      recordFill(db!, { orderId: '00000000-0000-0000-0000-000000000000', exchangeTradeId: 'x', price: '1', quantity: '1', executedAt: '2026-01-03T00:00:00Z' }),
      /does not exist/,
    );
  });

  it('computes a position from the fills, in numeric', async () => {
    // so far on BTC-USD: bought 0.1 @ 60000 and 0.2 @ 60000.03, sold 0.4 @ 70000
    const position = await computePosition(db!, accountId, instrumentId);
    assert.deepEqual(position, {
      accountId,
      instrumentId,
      netQuantity: '-0.10000000',
      averagePrice: '70000.00000000',
      boughtQuantity: '0.30000000',
      soldQuantity: '0.40000000',
      fillCount: 3,
    });

    const flat = await computePosition(db!, accountId, otherInstrumentId);
    assert.deepEqual(flat, {
      accountId,
      instrumentId: otherInstrumentId,
      netQuantity: '0.00000000',
      averagePrice: null,
      boughtQuantity: '0.00000000',
      soldQuantity: '0.00000000',
      fillCount: 0,
    });

    const buy = await placeOrder(db!, { accountId, instrumentId: otherInstrumentId, clientOrderId: 'eth-1', side: 'buy', type: 'market', quantity: '3' });
    await recordFill(db!, { orderId: buy.id, exchangeTradeId: 'e-1', price: '0.1', quantity: '1', executedAt: '2026-01-04T00:00:00Z' });
    await recordFill(db!, { orderId: buy.id, exchangeTradeId: 'e-2', price: '0.2', quantity: '2', executedAt: '2026-01-04T00:00:01Z' });
    const long = await computePosition(db!, accountId, otherInstrumentId);
    assert.equal(long.netQuantity, '3.00000000');
    // (0.1·1 + 0.2·2) / 3 = 0.1666…, rounded by PostgreSQL
    assert.equal(long.averagePrice, '0.16666667');
    assert.equal(long.fillCount, 2);
  });

  it('runs inside a caller transaction, which can roll it back', async () => {
    await assert.rejects(
      db!.transaction(async (tx) => {
        const order = await placeOrder(tx, { accountId, instrumentId, clientOrderId: 'tx-1', side: 'buy', quantity: '1', price: '1' });
        await recordFill(tx, { orderId: order.id, exchangeTradeId: 'tx-f', price: '1', quantity: '1', executedAt: '2026-01-05T00:00:00Z' });
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.equal((await db!.select().from(orders).where(eq(orders.clientOrderId, 'tx-1'))).length, 0);
  });
});
