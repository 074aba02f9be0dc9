/**
 * The policy stage: per-environment rules over a plan. Tables and schemas
 * the environment never drops are kept (the engine then plans around them,
 * see engine/plan.ts); statements that lose data need explicit consent.
 */
import { SqlfirstError } from '../errors.js';
import type { MigrationPlan, ObjectRef } from '../engine/index.js';
import { firstLine } from '../text.js';

/** atlas.hcl's diff { skip { ... } } */
export interface DiffPolicy {
  skipDropSchema: boolean;
  skipDropTable: boolean;
}

export const NO_SKIPS: DiffPolicy = { skipDropSchema: false, skipDropTable: false };

export interface SkippedChange {
  /** the table or schema kept */
  object: ObjectRef;
  /** the atlas.hcl rule that keeps it, e.g. drop_schema */
  rule: 'drop_schema' | 'drop_table';
}

/**
 * The tables and schemas `plan` drops that the policy keeps. A kept schema
 * is kept whole, with everything in it.
 */
export function policySkips(plan: MigrationPlan, policy: DiffPolicy): SkippedChange[] {
  const { removed } = plan;
  const schemas = policy.skipDropSchema ? removed.filter((ref) => ref.kind === 'schema') : [];
  const inKeptSchema = (ref: ObjectRef) => schemas.some((schema) => ref.name.startsWith(`${schema.name}.`));
  const tables = policy.skipDropTable ? removed.filter((ref) => ref.kind === 'table' && !inKeptSchema(ref)) : [];
  return [...schemas.map((object) => ({ object, rule: 'drop_schema' as const })), ...tables.map((object) => ({ object, rule: 'drop_table' as const }))];
}

/** Refuses, with the list, a plan that loses data unless the user allowed it. */
export function checkDataLoss(plan: MigrationPlan, allowDataLoss: boolean, allowingCommand = '--allow-data-loss'): void {
  const lossy = plan.changes.filter((c) => c.dataLoss);
  if (lossy.length === 0 || allowDataLoss) return;
  const list = lossy.map((c) => `  ${firstLine(c.sql)}  (${c.dataLoss})`).join('\n');
  throw new SqlfirstError(
    `Refusing to apply ${lossy.length} statement${lossy.length === 1 ? '' : 's'} that would lose data; review ${lossy.length === 1 ? 'it' : 'them'} and run ${allowingCommand} to apply anyway (nothing was changed):\n${list}`,
    { step: 'policy' },
  );
}
