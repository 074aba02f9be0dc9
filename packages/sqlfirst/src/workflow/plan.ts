/** `sqlfirst plan`: what apply would change, with its type breaks; changes nothing. */
import { describeSummary, summarize } from '../report/index.js';
import { plural } from '../text.js';
import { needed, runSteps, step, type RunContext } from './run.js';
import { checkBreaks, connect, environmentArgs, loadDesired, plan, prepareTypeCheck, readSchema, readTarget, showPlan, startReadTarget, startTypeCheck } from './steps.js';

export function runPlan(run: RunContext) {
  return runSteps(run, [readSchema, connect, prepareTypeCheck, startReadTarget, loadDesired, startTypeCheck, readTarget, plan, showPlan, checkBreaks, savePlanFile, planOutcome]);
}

/** --out: the statements the reviewer reads, to be proven again by `apply --plan`. */
const savePlanFile = step('save plan', async (run) => {
  if (!run.request.out) return { detail: 'not asked' };
  const { writePlanFile } = await import('../planfile/index.js');
  await writePlanFile(run.request.out, run.request, run.project.root, needed(run.target, 'the target').target, needed(run.plan, 'the plan'), run.skipped);
  return { detail: run.request.out };
});

const planOutcome = step('done', async (run) => {
  const plan = needed(run.plan, 'the plan');
  const pending = plan.changes.length > 0;
  const { commandFor } = await import('../report/invocation.js');
  run.outcome = {
    exitCode: pending && run.request.exitCode ? 2 : 0,
    tone: 'success',
    message: pending ? `Plan ready: ${plural(plan.changes.length, 'statement')} pending (${describeSummary(summarize(plan.changes, run.skipped))}); nothing was changed.` : 'No changes pending.',
    plan,
    skipped: run.skipped,
    breaks: run.breaks,
    hints: pending && run.request.out ? [`Apply exactly this plan with: ${commandFor(['apply', ...environmentArgs(run), '--plan', run.request.out])}`] : undefined,
  };
});
