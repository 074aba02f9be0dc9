/**
 * @livermore/database: the typed client and the Drizzle tables, enums and
 * relations generated from schema.sql (by `npm run db:sync`; never edited by hand).
 */
export {
  closeDb,
  configFromEnvironment,
  createDb,
  DATABASE_VARIABLES,
  DatabaseConfigError,
  getDb,
  schema,
  type Database,
  type DatabaseConfig,
  type DatabaseVariable,
  type Schema,
} from './client.js';
export * from './schema/schema.js';
export * from './schema/relations.js';
