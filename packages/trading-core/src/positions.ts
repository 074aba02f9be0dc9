/** Positions derived from fills, computed by PostgreSQL in numeric (no JS floats). */
import { and, eq, sql } from 'drizzle-orm';
import { fills, orders } from '@livermore/database';
import type { Decimal, Executor } from './db.js';

export interface Position {
  accountId: number;
  instrumentId: number;
  /** bought minus sold, e.g. "0.75000000"; negative when short */
  netQuantity: Decimal;
  /**
   * volume-weighted average price of the fills on the position's side (buys
   * when long, sells when short), 8 decimals; null when flat
   */
  averagePrice: Decimal | null;
  boughtQuantity: Decimal;
  soldQuantity: Decimal;
  fillCount: number;
}

/** Sums every fill of the account's orders on the instrument into a net position. */
export async function computePosition(db: Executor, accountId: number, instrumentId: number): Promise<Position> {
  const bought = sql`coalesce(sum(${fills.quantity}) FILTER (WHERE ${orders.side} = 'buy'), 0)`;
  const sold = sql`coalesce(sum(${fills.quantity}) FILTER (WHERE ${orders.side} = 'sell'), 0)`;
  const boughtValue = sql`sum(${fills.price} * ${fills.quantity}) FILTER (WHERE ${orders.side} = 'buy')`;
  const soldValue = sql`sum(${fills.price} * ${fills.quantity}) FILTER (WHERE ${orders.side} = 'sell')`;
  const [row] = await db
    .select({
      netQuantity: sql<string>`(${bought} - ${sold})::numeric(38,8)::text`,
      averagePrice: sql<string | null>`(CASE
        WHEN ${bought} > ${sold} THEN round(${boughtValue} / ${bought}, 8)
        WHEN ${sold} > ${bought} THEN round(${soldValue} / ${sold}, 8)
      END)::text`,
      boughtQuantity: sql<string>`${bought}::numeric(38,8)::text`,
      soldQuantity: sql<string>`${sold}::numeric(38,8)::text`,
      fillCount: sql<number>`count(${fills.id})::int`,
    })
    .from(fills)
    .innerJoin(orders, eq(fills.orderId, orders.id))
    .where(and(eq(orders.accountId, accountId), eq(orders.instrumentId, instrumentId)));
  return { accountId, instrumentId, ...row };
}
