/**
 * The policy stage: per-environment rules applied to a plan before anything
 * runs. Skipped changes are never executed and are reported; statements that
 * lose data need explicit consent.
 */
import { SqlfirstError } from '../errors.js';
import { withoutChanges, type Change, type MigrationPlan } from '../engine/index.js';

/** atlas.hcl's diff { skip { ... } } */
export interface DiffPolicy {
  skipDropSchema: boolean;
  skipDropTable: boolean;
}

export const NO_SKIPS: DiffPolicy = { skipDropSchema: false, skipDropTable: false };

export interface SkippedChange {
  change: Change;
  /** the atlas.hcl rule that skipped it, e.g. drop_schema */
  rule: string;
}

export interface PolicyResult {
  /** what may run */
  plan: MigrationPlan;
  skipped: SkippedChange[];
}

/** Removes the changes the environment's diff policy forbids. */
export function applyPolicy(plan: MigrationPlan, policy: DiffPolicy): PolicyResult {
  const skipped: SkippedChange[] = [];
  const positions = new Set<number>();
  plan.changes.forEach((change, index) => {
    const rule = skipRule(change, policy);
    if (rule) {
      skipped.push({ change, rule });
      positions.add(index);
    }
  });
  return { plan: withoutChanges(plan, positions), skipped };
}

function skipRule(change: Change, policy: DiffPolicy): string | undefined {
  if (change.verb !== 'drop') return undefined;
  // the first object a drop destroys is the one the statement names
  const kind = change.drops[0]?.kind;
  if (kind === 'schema' && policy.skipDropSchema) return 'drop_schema';
  if (kind === 'table' && policy.skipDropTable) return 'drop_table';
  return undefined;
}

/** Refuses, with the list, a plan that loses data unless the user allowed it. */
export function checkDataLoss(plan: MigrationPlan, allowDataLoss: boolean): void {
  const lossy = plan.changes.filter((c) => c.dataLoss);
  if (lossy.length === 0 || allowDataLoss) return;
  const list = lossy.map((c) => `  ${firstLine(c.sql)}`).join('\n');
  throw new SqlfirstError(
    `Refusing to apply ${lossy.length} statement${lossy.length === 1 ? '' : 's'} that would lose data; review ${lossy.length === 1 ? 'it' : 'them'} and pass --allow-data-loss to apply anyway (nothing was changed):\n${list}`,
    { step: 'policy' },
  );
}

function firstLine(sql: string): string {
  const line = sql.split('\n')[0];
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}
