/**
 * `sqlfirst sync`: the everyday loop. The apply steps, then the type steps
 * (write the Drizzle files, record the run). A run that finds the schema
 * files, the target and the generated files as the last successful sync
 * left them proves so with one catalog query and stops (fastpath/).
 */
import { readFileSync } from 'node:fs';
import { schemaFilesHash } from '../hash.js';
import { plural } from '../text.js';
import { appliedOutcome, applySteps } from './apply.js';
import { needed, runSteps, step, type RunContext } from './run.js';
import { connect, readSchema, typesFolder, writeTypes } from './steps.js';

export function runSync(run: RunContext) {
  return runSteps(run, [readSchema, connect, skipIfUnchanged, ...applySteps(run), ...(run.request.writeTypes ? [writeTypes] : []), recordSync, syncOutcome]);
}

/** The fast path: nothing changed since the last successful sync. */
const skipIfUnchanged = step('check changes', async (run) => {
  const { clearSyncRecord, differences, fingerprintDatabase, readSyncRecord, SKIP_MESSAGE } = await import('../fastpath/index.js');
  const record = recordFile(run);
  const observed = await observe(run);
  if (!run.request.force) {
    const previous = await readSyncRecord(await record);
    // the database is read only once the files match: a changed file needs no query to tell
    const inputs = await syncInputs(run);
    let why = differences(previous, inputs, observed);
    if (!why) {
      const open = needed(run.target, 'the target');
      observed.database = await fingerprintDatabase(open.target, open.server.versionNum, run.request.connectTimeoutMs);
      why = differences(previous, inputs, observed);
    }
    if (!why && previous) {
      const kept = previous.skippedByPolicy ? ` (${plural(previous.skippedByPolicy, 'object')} stay kept by policy)` : '';
      const message = run.request.writeTypes ? SKIP_MESSAGE : SKIP_MESSAGE.replace('schema, database and types match', 'schema and database match');
      run.outcome = { exitCode: 0, tone: 'success', message: kept ? `${message.slice(0, -1)}${kept}.` : message };
      return { detail: 'unchanged since the last sync', done: true };
    }
    // a run that fails half-way must leave no record that could vouch for it
    await clearSyncRecord(await record);
    return { detail: why };
  }
  await clearSyncRecord(await record);
  return { detail: 'full sync forced' };
});

async function recordFile(run: RunContext): Promise<string> {
  const { statePath } = await import('../fastpath/index.js');
  const open = needed(run.target, 'the target');
  return statePath(run.project.root, open.target, open.embedded, run.request.envName);
}

async function observe(run: RunContext) {
  const { hashTypeFiles } = await import('../fastpath/index.js');
  const [schema, types] = await Promise.all([
    schemaFilesHash(run.request.schemaFiles, run.project.root),
    run.request.writeTypes ? hashTypeFiles(run.project.root, typesFolder(run)) : undefined,
  ]);
  return { schema: schema ?? 'unreadable', types, database: undefined as string | undefined };
}

/** What the next run compares with: the hashes, read after apply. */
const recordSync = step('record', async (run) => {
  if (run.outcome) return;
  const { fingerprintDatabase, targetLabel, writeSyncRecord } = await import('../fastpath/index.js');
  const open = needed(run.target, 'the target');
  const observed = await observe(run);
  await writeSyncRecord(await recordFile(run), {
    target: targetLabel(open.target, open.embedded),
    env: run.request.envName ?? '',
    inputs: await syncInputs(run),
    schema: observed.schema,
    database: await fingerprintDatabase(open.target, open.server.versionNum, run.request.connectTimeoutMs),
    types: observed.types,
    skippedByPolicy: run.skipped.length,
  });
});

const syncOutcome = step('done', async (run) => {
  if (run.outcome) return;
  const outcome = appliedOutcome(run);
  const written = run.typesWritten ?? [];
  const types = !run.request.writeTypes ? '' : written.length ? ` Drizzle types updated (${written.join(', ')}).` : ' Drizzle types up to date.';
  const applied = outcome.tone === 'success' ? `Synced: ${plural(run.applied ?? 0, 'statement')} applied.` : outcome.message;
  run.outcome = { ...outcome, typesWritten: run.request.writeTypes ? written : undefined, message: `${applied}${types}` };
});

/** What else shapes a sync's result: versions (sqlfirst and its engines), the policy, the schemas in scope. */
async function syncInputs(run: RunContext): Promise<string> {
  const { hashInputs } = await import('../fastpath/index.js');
  return hashInputs({ sqlfirst: packageManifest(), policy: run.request.policy, schemas: run.request.schemas });
}

let manifest: unknown;
function packageManifest(): unknown {
  if (manifest === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; dependencies?: unknown };
    manifest = { version: pkg.version, dependencies: pkg.dependencies };
  }
  return manifest;
}
