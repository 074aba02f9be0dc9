/** A database's schema as the engine sees it, read from a live database. */
import type { Pool } from 'pg';
import { extract as pgDeltaExtract, type FactBase } from '@supabase/pg-delta';

/** Opaque to everyone outside engine/. */
export interface SchemaState {
  readonly facts: unknown;
  readonly pgVersion: string;
  /** the server's roles: cluster-wide, so referenced but never managed */
  readonly roles: string[];
}

/** Anything that runs queries and hands out a client: a pg Pool, or the in-transaction view of applyPlan. */
export type Queryable = Pick<Pool, 'query' | 'connect'>;

/** Reads the current schema of a database. */
export async function readState(pool: Queryable): Promise<SchemaState> {
  const result = await pgDeltaExtract(pool as Pool);
  return { facts: result.factBase, pgVersion: result.pgVersion, roles: await readRoles(pool) };
}

export async function readRoles(pool: Pick<Pool, 'query'>): Promise<string[]> {
  const { rows } = await pool.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' ORDER BY 1");
  return rows.map((r) => r.rolname);
}

/** The schemas a state contains, e.g. the ones schema.sql creates or uses. */
export function schemasOf(state: SchemaState): string[] {
  const facts = (state.facts as FactBase).facts();
  return [...new Set(facts.filter((f) => f.id.kind === 'schema').map((f) => (f.id as { name: string }).name))].sort();
}
