/**
 * The typegen stage: the Drizzle files (schema.ts, relations.ts) of a desired
 * state, generated in-process from the engine's catalog facts, in the shape
 * `drizzle-kit pull` writes (the tests keep drizzle-kit as the oracle).
 */
import { SqlfirstError } from '../errors.js';
import type { GeneratedTypes } from './files.js';
import { describeCatalog, type CatalogSupplement } from '../engine/index.js';
import type { SchemaState } from '../engine/state.js';
import { generateDrizzleFiles } from './generate.js';

export { compareTypes, writeTypes, type GeneratedTypes } from './files.js';
export { generateDrizzleFiles, generatedNames, type GenerateOptions } from './generate.js';
export type { Catalog } from './catalog-model.js';

export interface GenerateTypesOptions {
  /** every schema to describe, e.g. ['public', 'audit'] */
  schemas: string[];
  /** the first lines of both files */
  header: string;
  /** read with readCatalogSupplement from the database `desired` was read from */
  supplement: CatalogSupplement;
}

/**
 * The Drizzle files for a desired state, in-process: no second introspection,
 * the same bytes on every PostgreSQL major. Fails with a SqlfirstError when a
 * column's type has no Drizzle form.
 */
export async function generateTypes(desired: SchemaState, options: GenerateTypesOptions): Promise<GeneratedTypes> {
  if (options.schemas.length === 0) {
    throw new SqlfirstError('No schema was given to generate Drizzle types for; list the schemas in scope (for example public).', { step: 'types' });
  }
  const catalog = await describeCatalog(desired, options.schemas, options.supplement);
  return generateDrizzleFiles(catalog, { header: options.header });
}

