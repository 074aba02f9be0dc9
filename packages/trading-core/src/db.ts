import type { Database } from '@livermore/database';

/** What the functions run on: the client from getDb()/createDb(), or a transaction of it. */
export type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

/** Numeric values travel as strings (PostgreSQL numeric), never as JS floats. */
export type Decimal = string;

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Throws unless `value` is a plain decimal string such as "0.5" or "60000.25" (no exponent, no float). */
export function assertDecimal(name: string, value: Decimal): void {
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new TypeError(`${name} must be a decimal string such as "0.5", not ${JSON.stringify(value)}`);
  }
}
