/**
 * Type-safe schema changes: the workspace's TypeScript is checked against the
 * Drizzle types of the desired schema, and each break is shown under the
 * schema change that caused it.
 */
import { SqlfirstError } from '../errors.js';
import type { MigrationPlan } from '../engine/index.js';
import type { Reporter } from '../report/index.js';
import type { BreakGroup } from '../typecheck/index.js';
import type { GeneratedTypes } from '../typegen/index.js';

/** Whether this run should pull the desired types to type-check the workspace. */
export async function wantsTypeCheck(enabled: boolean | undefined, root: string, schemaFiles: string[], typesDir?: string): Promise<boolean> {
  if (enabled === false) return false;
  const { typedWorkspace } = await import('../typecheck/index.js');
  return typedWorkspace(root, schemaFiles, typesDir);
}

/** Checks the workspace against `generated` and prints the breaks grouped by change. */
export async function findBreaks(root: string, generated: GeneratedTypes, plan: MigrationPlan, reporter: Reporter, typesDir?: string): Promise<BreakGroup[]> {
  const { groupBreaks, typeCheckWorkspace } = await import('../typecheck/index.js');
  const result = await reporter.step(
    'typecheck',
    () => typeCheckWorkspace(root, generated, { typesDir }),
    (r) => `${r.packages.length} package(s), ${r.breaks.length} break(s)${r.skipped ? ' (unchanged since the last check)' : ''}`,
  );
  const groups = groupBreaks(result.breaks, plan.changes);
  reporter.result.typeBreaks = groups.map((g) => ({ change: g.change, breaks: g.breaks.map((b) => `${b.file}:${b.line}: ${firstLine(b.message)}`) }));
  return groups;
}

export function printBreaks(groups: BreakGroup[], reporter: Reporter, heading: string): void {
  if (groups.length === 0) return;
  reporter.line();
  reporter.warn(heading);
  for (const group of groups) {
    reporter.line(`  ${firstLine(group.change)}`);
    for (const b of group.breaks) reporter.line(`    → ${b.file}:${b.line} ${firstLine(b.message)}`);
  }
}

export function countBreaks(groups: BreakGroup[]): number {
  return groups.reduce((n, g) => n + g.breaks.length, 0);
}

/** Shared environments refuse a change that breaks the code using the database. */
export function refuseBreaks(groups: BreakGroup[]): never {
  const count = countBreaks(groups);
  throw new SqlfirstError(
    `Refusing to apply: the new schema breaks ${count} place(s) in the workspace's TypeScript (listed above); fix the code first, or pass --allow-breaking to apply anyway (nothing was changed).`,
    { step: 'typecheck' },
  );
}

function firstLine(text: string): string {
  const line = text.split('\n')[0];
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
