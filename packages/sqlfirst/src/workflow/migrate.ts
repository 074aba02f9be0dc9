/** The plan and apply use cases. */
import { SqlfirstError } from '../errors.js';
import { applyPlan, ApplyFailure, invalidIndexes, isStalePlanError } from '../engine/index.js';
import { checkDataLoss } from '../policy/index.js';
import { describeSummary, formatMs, type Reporter } from '../report/index.js';
import { acquireApplyLock } from '../target/lock.js';
import { openPool, terminateOwnSessions } from '../target/connect.js';
import { onInterrupt } from '../interrupt.js';
import type { MigrationPlan, SchemaState } from '../engine/index.js';
import { loadDesired, openTarget, planAgainst, preparePlan, type OpenTarget, type PreparedPlan, type TargetSpec, type WhileLoaded } from './session.js';
import { repositoryRoot } from '../config/repository.js';
import { findBreaks, printBreaks, refuseBreaks, wantsTypeCheck } from './breaks.js';
import { generateTypes } from './types.js';
import type { BreakGroup } from '../typecheck/index.js';
import type { GeneratedTypes } from '../typegen/index.js';

export interface PlanRequest extends TargetSpec {
  /** type-check the workspace against the desired schema (default: when the repository has a database package) */
  typeCheck?: boolean;
  /** exit 2 when changes are pending (for CI) */
  exitCode?: boolean;
  /** save the plan here, for `apply --plan` */
  out?: string;
}

/** Prints the plan and changes nothing. Returns the process exit code. */
export async function runPlan(request: PlanRequest, reporter: Reporter): Promise<number> {
  printHeader('sqlfirst plan', request, reporter);
  const open = await openTarget(request, reporter);
  try {
    const types = await desiredTypes(request, reporter, false);
    const { plan, skipped } = await preparePlan(request, open, reporter, types.whileLoaded);
    reporter.plan(plan, skipped);
    const breaks = await types.breaks(plan);
    printBreaks(breaks, reporter, 'These changes break the TypeScript that uses the database:');
    if (request.out) {
      const { writePlanFile } = await import('./reviewed.js');
      await writePlanFile(request.out, request, open.target, plan, skipped);
      reporter.line(`Plan saved to ${request.out}; apply exactly it with: sqlfirst apply --plan ${request.out}`);
    }
    const pending = plan.changes.length > 0;
    reporter.success(pending ? `Plan ready: ${plan.changes.length} statement(s) pending; nothing was changed.` : 'No changes pending.');
    return pending && request.exitCode ? 2 : 0;
  } finally {
    await open.close();
  }
}

/** how long an apply waits for another one on the same database to finish */
export const DEFAULT_LOCK_WAIT_MS = 30_000;

export interface ApplyRequest extends TargetSpec {
  /** type-check the workspace against the desired schema (default: when the repository has a database package) */
  typeCheck?: boolean;
  /** apply even when the change breaks the workspace's TypeScript */
  allowBreaking?: boolean;
  /** pull the desired Drizzle types even without a type check (sync writes them) */
  pullTypes?: boolean;
  lockWaitMs?: number;
  /** apply this reviewed plan (from `plan --out`) instead of planning afresh */
  planFile?: string;
  dryRun?: boolean;
  autoApprove?: boolean;
  allowDataLoss?: boolean;
  /** asks the person at the terminal; undefined when there is none */
  confirm?: (question: string) => Promise<boolean>;
}

export interface ApplyOutcome {
  /** statements applied */
  count: number;
  /** the state schema.sql describes */
  desired: SchemaState;
  /** the Drizzle types of schema.sql, when they were pulled */
  generated?: GeneratedTypes;
}

/** Makes the target match the schema files. Returns the process exit code. */
export async function runApply(request: ApplyRequest, reporter: Reporter): Promise<number> {
  printHeader('sqlfirst apply', request, reporter);
  const open = await openTarget(request, reporter);
  try {
    await applyToOpenTarget(request, open, reporter);
    return 0;
  } finally {
    await open.close();
  }
}

/**
 * The apply pipeline on an already open target: plan, policy, approval, apply,
 * verify. `announce` prints the final line (off when more steps follow).
 */
export async function applyToOpenTarget(
  request: ApplyRequest,
  open: OpenTarget,
  reporter: Reporter,
  { announce = true }: { announce?: boolean } = {},
): Promise<ApplyOutcome> {
  // held from before the target is read until after verify: runs never interleave
  const lock = await reporter.step('lock', () => acquireApplyLock(open.target, request.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS));
  try {
    return await planApplyVerify(request, open, reporter, announce);
  } finally {
    await lock.release();
  }
}

async function planApplyVerify(request: ApplyRequest, open: OpenTarget, reporter: Reporter, announce: boolean): Promise<ApplyOutcome> {
  const types = await desiredTypes(request, reporter, request.pullTypes ?? false);
  const { plan, skipped, desired } = request.planFile
    ? await reviewedPlan(request.planFile, request, open, reporter, types.whileLoaded)
    : await preparePlan(request, open, reporter, types.whileLoaded);
  const summary = reporter.plan(plan, skipped);
  const breaks = await types.breaks(plan);
  // the local loop applies and warns; shared databases refuse code-breaking changes
  const blocking = breaks.length > 0 && !request.allowBreaking && !isLocal(request, open) && !request.dryRun;
  if (blocking) {
    printBreaks(breaks, reporter, 'These changes break the TypeScript that uses the database:');
    refuseBreaks(breaks);
  }
  const finish = (count: number, message: string): ApplyOutcome => {
    printBreaks(breaks, reporter, count > 0 ? 'Applied; now fix the TypeScript these changes break:' : 'These changes would break the TypeScript that uses the database:');
    if (announce) reporter.success(message);
    return { count, desired, generated: types.generated() };
  };
  if (plan.changes.length === 0) {
    return finish(0, skipped.length ? `Nothing to apply; ${skipped.length} change(s) skipped by policy.` : 'Nothing to apply: the database already matches the schema.');
  }
  checkDataLoss(plan, request.allowDataLoss ?? false);
  if (request.dryRun) {
    return finish(0, `Dry run: ${plan.changes.length} statement(s) would be applied; nothing was changed.`);
  }
  await approve(request, open);
  const pool = openPool(open.target, { connectTimeoutMs: request.connectTimeoutMs });
  let brokenIndexes: string[];
  try {
    const invalidBefore = new Set(await invalidIndexes(pool));
    await reporter.step('apply', () => runStatements(request, open, pool, plan, reporter), (r) => `${r} statement(s)`);
    brokenIndexes = (await invalidIndexes(pool)).filter((name) => !invalidBefore.has(name));
  } finally {
    await pool.end();
  }
  await verify(desired, open, request, reporter, brokenIndexes);
  return finish(plan.changes.length, `Applied ${plan.changes.length} statement(s) (${describeSummary(summary)}); the database matches the schema.`);
}

/** A saved plan, checked against this run; the schema is still loaded, to verify afterwards. */
async function reviewedPlan(file: string, request: ApplyRequest, open: OpenTarget, reporter: Reporter, whileLoaded?: WhileLoaded): Promise<PreparedPlan> {
  const { readPlanFile } = await import('./reviewed.js');
  const plan = await reporter.step('read plan', () => readPlanFile(file, request, open.target), (p) => `${p.changes.length} statement(s) from ${file}`);
  const desired = await loadDesired(request, open, reporter, whileLoaded);
  return { plan, skipped: [], desired };
}

/** Re-plans against the target: anything left means it does not match the schema. */
async function verify(desired: SchemaState, open: OpenTarget, request: ApplyRequest, reporter: Reporter, brokenIndexes: string[]): Promise<void> {
  const residue = await planAgainst(desired, open, request, reporter, 'verify');
  const left = [
    ...residue.plan.changes.map((c) => c.sql.split('\n')[0]),
    ...brokenIndexes.map((name) => `index ${name} was created invalid (unusable)`),
  ];
  if (left.length > 0) {
    throw new SqlfirstError(
      `The target still differs from the schema after apply; what was applied stays, and these remain (${left.length}):\n${left.map((line) => `  ${line}`).join('\n')}`,
      { step: 'verify' },
    );
  }
}

function isLocal(request: ApplyRequest, open: OpenTarget): boolean {
  return request.envName === 'local' || (request.envName === undefined && open.embedded);
}

interface DesiredTypes {
  /** pulls the types from the shadow while it holds schema.sql */
  whileLoaded?: WhileLoaded;
  generated(): GeneratedTypes | undefined;
  /** the type check of the workspace against them, grouped by change */
  breaks(plan: MigrationPlan): Promise<BreakGroup[]>;
}

/** Pulls the desired Drizzle types when a type check or the caller needs them. */
async function desiredTypes(request: TargetSpec & { typeCheck?: boolean }, reporter: Reporter, needed: boolean): Promise<DesiredTypes> {
  const root = request.root ?? repositoryRoot();
  const typeCheck = await wantsTypeCheck(request.typeCheck, root, request.schemaFiles, request.typesDir);
  let generated: GeneratedTypes | undefined;
  return {
    whileLoaded: typeCheck || needed ? async (shadow, desired) => void (generated = await generateTypes(request, shadow, desired, reporter)) : undefined,
    generated: () => generated,
    breaks: async (plan) => (typeCheck && generated && plan.changes.length > 0 ? findBreaks(root, generated, plan, reporter, request.typesDir) : []),
  };
}

function rollbackState(error: ApplyFailure): string {
  if (error.inDoubt) return 'the server did not confirm the last commit, so check the target before running again';
  if (error.committed > 0) return `${error.committed} earlier statement(s) that cannot run in a transaction stay applied; fix the cause and run again to finish`;
  return 'the transaction was rolled back and the target is unchanged';
}

function printHeader(title: string, request: TargetSpec, reporter: Reporter): void {
  reporter.header(title, {
    Environment: request.envName,
    Config: request.configPath,
  });
}

async function approve(request: ApplyRequest, open: OpenTarget): Promise<void> {
  if (request.autoApprove) return;
  if (!request.confirm) {
    throw new SqlfirstError(
      'Nothing was applied: applying needs confirmation and there is no terminal to ask on; review the plan and pass --auto-approve.',
      { step: 'approval' },
    );
  }
  const where = `${open.target.database} on ${open.target.host}:${open.target.port}${request.envName ? ` (${request.envName})` : ''}`;
  const yes = await request.confirm(`Apply these changes to ${where}?`);
  if (!yes) throw new SqlfirstError('Nothing was applied: the plan was not approved.', { step: 'approval' });
}

async function runStatements(request: ApplyRequest, open: OpenTarget, pool: ReturnType<typeof openPool>, plan: Parameters<typeof applyPlan>[0], reporter: Reporter): Promise<number> {
  // on Ctrl-C, end the apply's sessions so their open transaction rolls back now
  const forget = onInterrupt(() => terminateOwnSessions(open.target));
  try {
    const result = await applyPlan(plan, pool, {
      lockTimeoutMs: request.lockTimeoutMs,
      statementTimeoutMs: request.statementTimeoutMs,
      onStatement: (index, sql) => reporter.detail(`  [${index + 1}/${plan.changes.length}] ${sql.split('\n')[0]}`),
    });
    return result.applied;
  } catch (error) {
    throw applyError(error, request);
  } finally {
    forget();
  }
}

function applyError(error: unknown, request: ApplyRequest): SqlfirstError {
  if (error instanceof ApplyFailure) {
    const statement = error.sql.split('\n')[0].slice(0, 100);
    if (/lock timeout/i.test(error.reason)) {
      const limit = request.lockTimeoutMs === undefined ? '' : ` (${formatMs(request.lockTimeoutMs)})`;
      return new SqlfirstError(
        `Statement ${error.index + 1} (${statement}) waited longer than the lock timeout${limit} for a lock another session holds; ${rollbackState(error)}; run again when that session's transaction has ended, or raise lock_timeout.`,
        { cause: error, step: 'apply' },
      );
    }
    if (/statement timeout/i.test(error.reason)) {
      const limit = request.statementTimeoutMs === undefined ? '' : ` (${formatMs(request.statementTimeoutMs)})`;
      return new SqlfirstError(
        `Statement ${error.index + 1} (${statement}) ran longer than the statement timeout${limit}; ${rollbackState(error)}; raise statement_timeout for this change.`,
        { cause: error, step: 'apply' },
      );
    }
    return new SqlfirstError(`Statement ${error.index + 1} failed: ${error.reason} (${statement}); ${rollbackState(error)}.`, { cause: error, step: 'apply' });
  }
  if (isStalePlanError(error)) {
    return new SqlfirstError('The target changed while the plan was being made; nothing was applied, run again to plan against its current state.', { cause: error, step: 'apply' });
  }
  if (error instanceof SqlfirstError) return error;
  return new SqlfirstError(`Applying failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}; the transaction was rolled back.`, { cause: error, step: 'apply' });
}
