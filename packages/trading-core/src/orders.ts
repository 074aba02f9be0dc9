/**
 * Orders and fills through the typed Drizzle client. Quantities and prices are
 * decimal strings; every sum and average is computed by PostgreSQL (numeric),
 * so no value ever passes through a JS float.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { fills, orders } from '@livermore/database';
import { assertDecimal, type Decimal, type Executor } from './db.js';

export type Order = typeof orders.$inferSelect;
export type Fill = typeof fills.$inferSelect;
export type OrderSide = Order['side'];
export type OrderType = Order['type'];
export type TimeInForce = Order['timeInForce'];

export interface PlaceOrderInput {
  accountId: number;
  instrumentId: number;
  /** the caller's idempotency key, unique per account */
  clientOrderId: string;
  side: OrderSide;
  /** default 'limit' */
  type?: OrderType;
  quantity: Decimal;
  /** required for limit and stop_limit orders */
  price?: Decimal;
  /** required for stop and stop_limit orders */
  stopPrice?: Decimal;
  /** default 'gtc' */
  timeInForce?: TimeInForce;
  strategyId?: number;
  reduceOnly?: boolean;
}

/** The order states that still accept fills. */
export const OPEN_STATUSES = ['pending', 'open', 'partially_filled'] as const satisfies readonly Order['status'][];

/** Inserts a new order (status pending, nothing filled) and returns it. */
export async function placeOrder(db: Executor, input: PlaceOrderInput): Promise<Order> {
  assertDecimal('quantity', input.quantity);
  if (input.price !== undefined) assertDecimal('price', input.price);
  if (input.stopPrice !== undefined) assertDecimal('stopPrice', input.stopPrice);
  const type = input.type ?? 'limit';
  if ((type === 'limit' || type === 'stop_limit') && input.price === undefined) {
    throw new TypeError(`a ${type} order needs a price`);
  }
  if ((type === 'stop' || type === 'stop_limit') && input.stopPrice === undefined) {
    throw new TypeError(`a ${type} order needs a stopPrice`);
  }
  const [order] = await db
    .insert(orders)
    .values({
      accountId: input.accountId,
      instrumentId: input.instrumentId,
      clientOrderId: input.clientOrderId,
      side: input.side,
      type,
      timeInForce: input.timeInForce ?? 'gtc',
      quantity: input.quantity,
      price: input.price ?? null,
      stopPrice: input.stopPrice ?? null,
      strategyId: input.strategyId ?? null,
      reduceOnly: input.reduceOnly ?? false,
    })
    .returning();
  return order;
}

export interface RecordFillInput {
  orderId: string;
  /** the exchange's trade id, unique per order */
  exchangeTradeId: string;
  price: Decimal;
  quantity: Decimal;
  /** default "0" */
  fee?: Decimal;
  feeAssetId?: number;
  isMaker?: boolean;
  /** ISO timestamp of the execution */
  executedAt: string;
}

export class OrderNotFillableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrderNotFillableError';
  }
}

/**
 * Records a fill and, in the same transaction, adds it to the order: filled
 * quantity, volume-weighted average fill price, and status (partially_filled,
 * or filled — with closed_at — once the whole quantity is filled). A fill that
 * would overfill the order, or one for an order that no longer accepts fills,
 * is refused and nothing is written.
 */
export async function recordFill(db: Executor, input: RecordFillInput): Promise<{ fill: Fill; order: Order }> {
  assertDecimal('price', input.price);
  assertDecimal('quantity', input.quantity);
  if (input.fee !== undefined) assertDecimal('fee', input.fee);
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select({ id: orders.id, status: orders.status, quantity: orders.quantity, filledQuantity: orders.filledQuantity })
      .from(orders)
      .where(eq(orders.id, input.orderId))
      .for('update');
    if (!current) throw new OrderNotFillableError(`order ${input.orderId} does not exist`);
    if (!(OPEN_STATUSES as readonly string[]).includes(current.status)) {
      throw new OrderNotFillableError(`order ${input.orderId} is ${current.status} and accepts no more fills`);
    }

    const [fill] = await tx
      .insert(fills)
      .values({
        orderId: input.orderId,
        exchangeTradeId: input.exchangeTradeId,
        price: input.price,
        quantity: input.quantity,
        fee: input.fee ?? '0',
        feeAssetId: input.feeAssetId ?? null,
        isMaker: input.isMaker ?? false,
        executedAt: input.executedAt,
      })
      .returning();

    const quantity = sql`${input.quantity}::numeric`;
    const price = sql`${input.price}::numeric`;
    const filledAfter = sql`${orders.filledQuantity} + ${quantity}`;
    const [order] = await tx
      .update(orders)
      .set({
        filledQuantity: filledAfter,
        // the right-hand sides read the row as it was before this update
        averagePrice: sql`round((coalesce(${orders.averagePrice}, 0) * ${orders.filledQuantity} + ${price} * ${quantity}) / (${filledAfter}), 8)`,
        status: sql`(CASE WHEN ${filledAfter} >= ${orders.quantity} THEN 'filled' ELSE 'partially_filled' END)::order_status`,
        closedAt: sql`CASE WHEN ${filledAfter} >= ${orders.quantity} THEN now() ELSE ${orders.closedAt} END`,
      })
      .where(and(eq(orders.id, input.orderId), inArray(orders.status, [...OPEN_STATUSES]), sql`${filledAfter} <= ${orders.quantity}`))
      .returning();
    if (!order) {
      throw new OrderNotFillableError(
        `a fill of ${input.quantity} would overfill order ${input.orderId} (${current.filledQuantity} of ${current.quantity} filled)`,
      );
    }
    return { fill, order };
  });
}
