/** The local everyday loop (apply, then Drizzle types) and type generation on its own. */
import path from 'node:path';
import { schemasOf, type SchemaState } from '../engine/index.js';
import type { Reporter } from '../report/index.js';
import type { ConnectionTarget } from '../target/url.js';
import { applyToOpenTarget, type ApplyRequest } from './migrate.js';
import { loadDesired, openTarget, repositoryRoot, type TargetSpec } from './session.js';

/** Where the generated Drizzle files live, relative to the repository root. */
export const TYPES_DIR = path.join('packages', 'database', 'src', 'schema');

export interface SyncRequest extends ApplyRequest {
  /** regenerate the Drizzle types after applying (local only) */
  types: boolean;
  typesDir?: string;
}

/** Applies schema.sql, then regenerates the Drizzle types from the result. */
export async function runSync(request: SyncRequest, reporter: Reporter): Promise<number> {
  reporter.header(request.types ? 'sqlfirst sync: apply + Drizzle types' : 'sqlfirst sync: apply', {
    Environment: request.envName,
    Config: request.configPath,
  });
  const open = await openTarget(request, reporter);
  try {
    const applied = await applyToOpenTarget(request, open, reporter, { announce: !request.types });
    if (!request.types) return 0;
    await generate(request, open.target, applied.desired, reporter);
    reporter.success(`Synced: ${applied.count} statement(s) applied and Drizzle types up to date.`);
    return 0;
  } finally {
    await open.close();
  }
}

/** Regenerates the types from schema.sql alone, through a scratch database on the target or embedded server. */
export async function runTypes(request: TargetSpec & { typesDir?: string }, reporter: Reporter): Promise<number> {
  reporter.header('sqlfirst types', { Environment: request.envName, Config: request.configPath });
  const open = await openTarget(request, reporter);
  try {
    // the shadow holds exactly schema.sql: pull the types from it
    await loadDesired(request, open, reporter, (shadow, desired) => generate(request, shadow, desired, reporter));
    reporter.success('Drizzle types are up to date with schema.sql.');
    return 0;
  } finally {
    await open.close();
  }
}

async function generate(request: TargetSpec & { typesDir?: string }, target: ConnectionTarget, desired: SchemaState, reporter: Reporter): Promise<void> {
  const { pullTypes, writeTypes } = await import('../typegen/index.js');
  const outDir = path.resolve(repositoryRoot(), request.typesDir ?? TYPES_DIR);
  const schemas = request.schemas.length ? request.schemas : schemasOf(desired);
  const files = await reporter.step('drizzle-kit pull', () => pullTypes({ target, schemas, onOutput: (line) => reporter.line(`  ${line}`) }), () => `schemas ${schemas.join(', ')}`);
  const written = await reporter.step('write types', () => writeTypes(outDir, files), (names) => (names.length ? `updated ${names.join(', ')}` : 'unchanged'));
  reporter.result.typesWritten = written;
}
