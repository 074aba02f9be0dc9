/** `sqlfirst types`: the Drizzle files from schema.sql alone, applying nothing. */
import { runSteps, step, type RunContext } from './run.js';
import { connect, loadDesired, readSchema, writeTypes } from './steps.js';

export function runTypes(run: RunContext) {
  return runSteps(run, [readSchema, connect, loadDesired, writeTypes, typesOutcome]);
}

const typesOutcome = step('done', async (run) => {
  run.outcome = { exitCode: 0, tone: 'success', message: 'Drizzle types are up to date with schema.sql.', typesWritten: run.typesWritten };
});
