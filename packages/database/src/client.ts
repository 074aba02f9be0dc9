/**
 * The typed Drizzle client: one pg Pool and one Drizzle instance per process,
 * created on first use from the same variables as atlas.hcl's `local` env.
 * Tests and tools pass a connection string or a pool config instead.
 */
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import * as tables from './schema/schema.js';
import * as relations from './schema/relations.js';

/** Every table, enum and relation of schema.sql, as Drizzle's relational queries need them. */
export const schema = { ...tables, ...relations };

export type Schema = typeof schema;

export type Database = NodePgDatabase<Schema> & { $client: pg.Pool };

/** The variables atlas.hcl's `local` env reads, in the order it reads them. */
export const DATABASE_VARIABLES = [
  'DATABASE_HOST',
  'DATABASE_PORT',
  'DATABASE_LIVERMORE_USERNAME',
  'DATABASE_LIVERMORE_PASSWORD',
  'LIVERMORE_DATABASE_NAME',
] as const;

export type DatabaseVariable = (typeof DATABASE_VARIABLES)[number];

/** An explicit target instead of the environment variables: a pg pool config, e.g. `{ connectionString }`. */
export type DatabaseConfig = pg.PoolConfig;

export class DatabaseConfigError extends Error {
  /** the variables that were not set */
  readonly missing: DatabaseVariable[];
  constructor(message: string, missing: DatabaseVariable[] = []) {
    super(message);
    this.name = 'DatabaseConfigError';
    this.missing = missing;
  }
}

/**
 * The pool settings from the `local` variables (sslmode=disable, as in atlas.hcl).
 * Throws one error naming every unset variable.
 */
export function configFromEnvironment(env: Record<string, string | undefined> = process.env): pg.PoolConfig {
  const missing = DATABASE_VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new DatabaseConfigError(
      `The database client needs ${list(missing)}, which ${missing.length === 1 ? 'is' : 'are'} not set; set ${missing.length === 1 ? 'it' : 'them'} (the same variables as the local env of packages/database/atlas.hcl) or pass a connectionString to getDb().`,
      missing,
    );
  }
  const port = Number(env.DATABASE_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new DatabaseConfigError(`DATABASE_PORT is "${env.DATABASE_PORT}", which is not a port number; set it to the port PostgreSQL listens on (e.g. 5432).`);
  }
  return {
    host: env.DATABASE_HOST,
    port,
    user: env.DATABASE_LIVERMORE_USERNAME,
    password: env.DATABASE_LIVERMORE_PASSWORD,
    database: env.LIVERMORE_DATABASE_NAME,
    ssl: false,
  };
}

/** A new pool and Drizzle instance, independent of the singleton; the caller ends `db.$client`. */
export function createDb(config?: DatabaseConfig): Database {
  const pool = new pg.Pool(config ?? configFromEnvironment());
  // an idle client losing its connection must not crash the process; the next query reports it
  pool.on('error', () => {});
  return drizzle(pool, { schema });
}

let instance: Database | undefined;
let instanceConfig: DatabaseConfig | undefined;

/**
 * The process's database, created on first call. `config` overrides the
 * environment variables; once the client exists, a different config is refused
 * (call closeDb() first), so two parts of a program never silently talk to
 * different databases.
 */
export function getDb(config?: DatabaseConfig): Database {
  if (instance) {
    if (config && !sameConfig(config, instanceConfig)) {
      throw new DatabaseConfigError('getDb() was given a different config after the database client was created; call closeDb() first, or pass the config on the first call only.');
    }
    return instance;
  }
  instance = createDb(config);
  instanceConfig = config;
  return instance;
}

/** Ends the singleton's pool (waiting for its connections to close); the next getDb() creates a new one. */
export async function closeDb(): Promise<void> {
  const current = instance;
  instance = undefined;
  instanceConfig = undefined;
  await current?.$client.end();
}

function sameConfig(a: DatabaseConfig, b: DatabaseConfig | undefined): boolean {
  return a === b || (b !== undefined && JSON.stringify(a) === JSON.stringify(b));
}

function list(names: readonly string[]): string {
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
