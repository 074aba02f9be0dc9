/** The local everyday loop (apply, then Drizzle types) and type generation on its own. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter } from '../report/index.js';
import {
  clearState,
  differences,
  fingerprintDatabase,
  hashInputs,
  hashSchemaFiles,
  hashTypeFiles,
  readState,
  SKIP_MESSAGE,
  statePath,
  targetLabel,
  writeState,
  type Observed,
} from './fastpath.js';
import { applyToOpenTarget, type ApplyRequest } from './migrate.js';
import { loadDesired, openTarget, type TargetSpec } from './session.js';
import { repositoryRoot } from '../config/repository.js';
import { generateTypes, TYPES_DIR } from './types.js';
import type { GeneratedTypes } from '../typegen/index.js';

export { TYPES_DIR } from './types.js';

export interface SyncRequest extends ApplyRequest {
  /** regenerate the Drizzle types after applying (local only) */
  types: boolean;
  /** the types folder, relative to the repository root (or absolute) */
  typesDir?: string;
  /** take the full path even when nothing changed since the last sync */
  force?: boolean;
  /** the repository root: holds .sqlfirst/state and anchors typesDir (default: found from the working folder) */
  root?: string;
}

/**
 * Applies schema.sql, then regenerates the Drizzle types from the result.
 * When the schema files, the target and the generated files are all as the
 * last successful sync left them, it proves so with one catalog query and
 * skips the shadow, the plan and drizzle-kit (see fastpath.ts).
 */
export async function runSync(request: SyncRequest, reporter: Reporter): Promise<number> {
  reporter.header(request.types ? 'sqlfirst sync: apply + Drizzle types' : 'sqlfirst sync: apply', {
    Environment: request.envName,
    Config: request.configPath,
  });
  const root = request.root ?? repositoryRoot();
  const outDir = path.resolve(root, request.typesDir ?? TYPES_DIR);
  const open = await openTarget(request, reporter);
  try {
    const stateFile = statePath(root, open.target, open.embedded, request.envName);
    const inputs = syncInputs(request);
    const check = await reporter.step(
      'check changes',
      async () => {
        if (request.force) return { why: 'full sync forced', state: undefined, observed: await observe(request, root, outDir) };
        const state = await readState(stateFile);
        const observed = await observe(request, root, outDir);
        // the database is read only once the files match: a changed file needs no query to tell
        let why = differences(state, inputs, observed);
        if (!why) {
          observed.database = await fingerprintDatabase(open.target, open.server.versionNum, request.connectTimeoutMs);
          why = differences(state, inputs, observed);
        }
        return { why, state, observed };
      },
      (c) => c.why ?? 'unchanged since the last sync',
    );
    if (!check.why && check.state) {
      reporter.result.skipped = true;
      const kept = check.state.skippedByPolicy;
      const message = request.types ? SKIP_MESSAGE : SKIP_MESSAGE.replace('schema, database and types match', 'schema and database match');
      reporter.success(kept ? `${message.slice(0, -1)} (${kept} change(s) stay skipped by policy).` : message);
      return 0;
    }

    // a run that fails half-way must leave no record that could vouch for it
    await clearState(stateFile);
    // the types come from the shadow, which holds exactly schema.sql: the same
    // files as `sqlfirst types`, whatever order the target's objects were created in
    const applied = await applyToOpenTarget({ ...request, root, pullTypes: request.types }, open, reporter, { announce: !request.types });
    if (applied.generated) await writeGenerated(outDir, applied.generated, reporter);
    // the state the next run will see, read after apply
    const database = await fingerprintDatabase(open.target, open.server.versionNum, request.connectTimeoutMs);
    await writeState(stateFile, {
      target: targetLabel(open.target, open.embedded),
      env: request.envName ?? '',
      inputs,
      schema: check.observed.schema,
      database,
      types: request.types ? await hashTypeFiles(root, outDir) : undefined,
      skippedByPolicy: skippedCount(reporter),
    });
    if (request.types) reporter.success(`Synced: ${applied.count} statement(s) applied and Drizzle types up to date.`);
    return 0;
  } finally {
    await open.close();
  }
}

/** The schema files' and generated files' hashes. An unreadable schema file hashes as "unreadable": the full path reports it. */
async function observe(request: SyncRequest, root: string, outDir: string): Promise<Observed> {
  const [schema, types] = await Promise.all([hashSchemaFiles(request.schemaFiles), request.types ? hashTypeFiles(root, outDir) : undefined]);
  return { schema: schema ?? 'unreadable', types };
}

/** What else shapes a sync's result: versions (sqlfirst, pg-delta, drizzle-kit), policy, schemas in scope. */
function syncInputs(request: SyncRequest): string {
  return hashInputs({ sqlfirst: packageManifest(), policy: request.policy, schemas: request.schemas });
}

let manifest: unknown;
function packageManifest(): unknown {
  if (manifest === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; dependencies?: unknown };
    manifest = { version: pkg.version, dependencies: pkg.dependencies };
  }
  return manifest;
}

function skippedCount(reporter: Reporter): number {
  const plan = reporter.result.plan as { skipped?: unknown[] } | undefined;
  return plan?.skipped?.length ?? 0;
}

/** Regenerates the types from schema.sql alone, through a scratch database on the target or embedded server. */
export async function runTypes(request: TargetSpec & { typesDir?: string }, reporter: Reporter): Promise<number> {
  reporter.header('sqlfirst types', { Environment: request.envName, Config: request.configPath });
  const open = await openTarget(request, reporter);
  try {
    const outDir = path.resolve(repositoryRoot(), request.typesDir ?? TYPES_DIR);
    // the shadow holds exactly schema.sql: pull the types from it
    await loadDesired(request, open, reporter, async (shadow, desired) => writeGenerated(outDir, await generateTypes(request, shadow, desired, reporter), reporter));
    reporter.success('Drizzle types are up to date with schema.sql.');
    return 0;
  } finally {
    await open.close();
  }
}


async function writeGenerated(outDir: string, files: GeneratedTypes, reporter: Reporter): Promise<void> {
  const { writeTypes } = await import('../typegen/index.js');
  const written = await reporter.step('write types', () => writeTypes(outDir, files), (names) => (names.length ? `updated ${names.join(', ')}` : 'unchanged'));
  reporter.result.typesWritten = written;
}
