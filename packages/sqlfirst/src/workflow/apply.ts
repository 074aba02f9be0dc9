/** `sqlfirst apply`: make the target match the schema files, after showing the plan and asking. */
import { describeSummary, summarize } from '../report/index.js';
import { plural } from '../text.js';
import { needed, runSteps, step, type RunContext, type Step } from './run.js';
import {
  applyChanges,
  approve,
  checkBreaks,
  connect,
  loadDesired,
  lockTarget,
  plan,
  prepareTypeCheck,
  proveReviewedPlan,
  readSchema,
  readTarget,
  refuseDataLoss,
  refuseHazards,
  reportBreaks,
  showPlan,
  startReadTarget,
  startTypeCheck,
  verify,
} from './steps.js';

/** From the schema files to a verified target; `sync` runs the same steps. */
export function applySteps(run: RunContext): Step[] {
  return [
    prepareTypeCheck,
    lockTarget,
    startReadTarget,
    loadDesired,
    startTypeCheck,
    readTarget,
    plan,
    ...(run.request.planFile ? [proveReviewedPlan] : []),
    showPlan,
    checkBreaks,
    refuseDataLoss,
    refuseHazards,
    approve,
    applyChanges,
    verify,
    reportBreaks,
  ];
}

export function runApply(run: RunContext) {
  return runSteps(run, [readSchema, connect, ...applySteps(run), applyOutcome]);
}

const applyOutcome = step('done', async (run) => {
  run.outcome = appliedOutcome(run);
});

/** The outcome of the apply steps: what was applied, or why nothing was. */
export function appliedOutcome(run: RunContext): NonNullable<RunContext['outcome']> {
  const plan = needed(run.plan, 'the plan');
  const shared = { plan, skipped: run.skipped, breaks: run.breaks, applied: run.applied ?? 0 };
  const breaks = run.breaks?.caused.reduce((n, group) => n + group.breaks.length, 0) ?? 0;
  if (plan.changes.length === 0) {
    const message = run.skipped.length ? `Nothing to apply; ${plural(run.skipped.length, 'object')} kept by policy.` : 'Nothing to apply: the database already matches the schema.';
    return { exitCode: 0, tone: 'success', message, ...shared };
  }
  if (run.request.dryRun) {
    return { exitCode: 0, tone: 'success', message: `Dry run: ${plural(plan.changes.length, 'statement')} would be applied; nothing was changed.`, ...shared };
  }
  const applied = `Applied ${plural(plan.changes.length, 'statement')} (${describeSummary(summarize(plan.changes, run.skipped))}); the database matches the schema`;
  if (breaks > 0) return { exitCode: 0, tone: 'warning', message: `${applied}, but ${plural(breaks, 'place')} in the TypeScript no longer compile (listed above).`, ...shared };
  return { exitCode: 0, tone: 'success', message: `${applied}.`, ...shared };
}
