/**
 * @livermore/trading-core: orders, fills and positions on top of the typed
 * Drizzle client of @livermore/database.
 */
export { assertDecimal, type Decimal, type Executor } from './db.js';
export {
  OPEN_STATUSES,
  OrderNotFillableError,
  placeOrder,
  recordFill,
  type Fill,
  type Order,
  type OrderSide,
  type OrderType,
  type PlaceOrderInput,
  type RecordFillInput,
  type TimeInForce,
} from './orders.js';
export { computePosition, type Position } from './positions.js';
