/** The Drizzle types of schema.sql: where they live and how they are made. */
import path from 'node:path';
import { schemasOf, type SchemaState } from '../engine/index.js';
import type { Reporter } from '../report/index.js';
import type { ConnectionTarget } from '../target/url.js';
import type { GeneratedTypes } from '../typegen/index.js';
import type { TargetSpec } from './session.js';

/** Where the generated Drizzle files live, relative to the repository root. */
export const TYPES_DIR = path.join('packages', 'database', 'src', 'schema');

/**
 * The Drizzle files schema.sql produces, pulled from `target` (a database that
 * holds exactly schema.sql, i.e. a shadow); writes nothing.
 */
export async function generateTypes(
  request: Pick<TargetSpec, 'schemas'>,
  target: ConnectionTarget,
  desired: SchemaState,
  reporter: Reporter,
): Promise<GeneratedTypes> {
  const { pullTypes } = await import('../typegen/index.js');
  const schemas = request.schemas.length ? request.schemas : schemasOf(desired);
  return reporter.step(
    'drizzle-kit pull',
    () => pullTypes({ target, schemas, onOutput: (line) => reporter.line(`  ${line}`) }),
    () => `schemas ${schemas.join(', ')}`,
  );
}
