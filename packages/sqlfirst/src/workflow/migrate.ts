/** The plan and apply use cases. */
import { SqlfirstError } from '../errors.js';
import { applyPlan, ApplyFailure, isStalePlanError } from '../engine/index.js';
import { checkDataLoss } from '../policy/index.js';
import { describeSummary, type Reporter } from '../report/index.js';
import { openPool } from '../target/connect.js';
import type { SchemaState } from '../engine/index.js';
import { openTarget, planAgainst, preparePlan, type OpenTarget, type TargetSpec } from './session.js';

export interface PlanRequest extends TargetSpec {
  /** exit 2 when changes are pending (for CI) */
  exitCode?: boolean;
}

/** Prints the plan and changes nothing. Returns the process exit code. */
export async function runPlan(request: PlanRequest, reporter: Reporter): Promise<number> {
  printHeader('sqlfirst plan', request, reporter);
  const open = await openTarget(request, reporter);
  try {
    const { plan, skipped } = await preparePlan(request, open, reporter);
    reporter.plan(plan, skipped);
    const pending = plan.changes.length > 0;
    reporter.success(pending ? `Plan ready: ${plan.changes.length} statement(s) pending; nothing was changed.` : 'No changes pending.');
    return pending && request.exitCode ? 2 : 0;
  } finally {
    await open.close();
  }
}

export interface ApplyRequest extends TargetSpec {
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
export async function applyToOpenTarget(request: ApplyRequest, open: OpenTarget, reporter: Reporter, { announce = true } = {}): Promise<ApplyOutcome> {
  const { plan, skipped, desired } = await preparePlan(request, open, reporter);
  const summary = reporter.plan(plan, skipped);
  const finish = (count: number, message: string): ApplyOutcome => {
    if (announce) reporter.success(message);
    return { count, desired };
  };
  if (plan.changes.length === 0) {
    return finish(0, skipped.length ? `Nothing to apply; ${skipped.length} change(s) skipped by policy.` : 'Nothing to apply: the database already matches the schema.');
  }
  checkDataLoss(plan, request.allowDataLoss ?? false);
  if (request.dryRun) {
    return finish(0, `Dry run: ${plan.changes.length} statement(s) would be applied; nothing was changed.`);
  }
  await approve(request, open, reporter);
  const pool = openPool(open.target, { connectTimeoutMs: request.connectTimeoutMs });
  try {
    await reporter.step('apply', () => runStatements(request, open, pool, plan, reporter), (r) => `${r} statement(s)`);
  } finally {
    await pool.end();
  }
  const residue = await planAgainst(desired, open, request.policy, reporter, 'verify');
  if (residue.plan.changes.length > 0) {
    throw new SqlfirstError(
      `The target still differs from the schema after apply (${residue.plan.changes.length} statement(s) remain: ${residue.plan.changes.slice(0, 5).map((c) => c.sql.split('\n')[0]).join('; ')}); report this and check the target by hand.`,
      { step: 'verify' },
    );
  }
  return finish(plan.changes.length, `Applied ${plan.changes.length} statement(s) (${describeSummary(summary)}); the database matches the schema.`);
}

function printHeader(title: string, request: TargetSpec, reporter: Reporter): void {
  reporter.header(title, {
    Environment: request.envName,
    Config: request.configPath,
  });
}

async function approve(request: ApplyRequest, open: OpenTarget, reporter: Reporter): Promise<void> {
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
  try {
    const result = await applyPlan(plan, pool, {
      lockTimeoutMs: request.lockTimeoutMs,
      statementTimeoutMs: request.statementTimeoutMs,
      onStatement: (index, sql) => reporter.detail(`  [${index + 1}/${plan.changes.length}] ${sql.split('\n')[0]}`),
    });
    return result.applied;
  } catch (error) {
    throw applyError(error);
  }
}

function applyError(error: unknown): SqlfirstError {
  if (error instanceof ApplyFailure) {
    const statement = error.sql.split('\n')[0].slice(0, 100);
    const state = error.inDoubt
      ? 'the server did not confirm the last commit, so check the target before running again'
      : error.committed > 0
        ? `${error.committed} earlier statement(s) that cannot run in a transaction stay applied; fix the cause and run again to finish`
        : 'the transaction was rolled back and the target is unchanged';
    return new SqlfirstError(`Statement ${error.index + 1} failed: ${error.reason} (${statement}); ${state}.`, { cause: error, step: 'apply' });
  }
  if (isStalePlanError(error)) {
    return new SqlfirstError('The target changed while the plan was being made; nothing was applied, run again to plan against its current state.', { cause: error, step: 'apply' });
  }
  if (error instanceof SqlfirstError) return error;
  return new SqlfirstError(`Applying failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}; the transaction was rolled back.`, { cause: error, step: 'apply' });
}
