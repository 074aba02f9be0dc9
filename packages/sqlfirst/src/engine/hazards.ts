/**
 * Hazards: what a statement does to an existing table while it runs — the
 * lock it holds and for how long (a scan, an index build, a rewrite) —
 * derived from pg-delta's per-action facts (lock class, rewrite risk, the
 * objects consumed and produced, the plan's deltas), never from SQL text.
 * Table sizes come from one catalog query, so the texts can say how long
 * "while" is likely to be.
 */
import type { Pool } from 'pg';
import { encodeId, type Action, type Plan as EnginePlan, type StableId } from '@supabase/pg-delta';
import { consumedTable, createdTables, notNullHelperName, setNotNullSql, tableKey, type SubId } from './online.js';
import type { Change, LockClass } from './plan.js';

export interface Hazard {
  kind: 'blocks-writes' | 'blocks-reads-and-writes' | 'rewrites-table' | 'scans-table' | 'builds-index';
  /** schema-qualified, e.g. public.orders */
  table: string;
  /** estimated rows */
  rows?: number;
  /** table + indexes + TOAST */
  bytes?: number;
  /** e.g. "blocks writes to public.orders (≈2.1 M rows, 480 MB) while the index builds" */
  text: string;
}

export interface TableSize {
  rows?: number;
  bytes?: number;
}

/** Sizes of existing tables, by schema-qualified name. */
export type TableSizes = ReadonlyMap<string, TableSize>;

/** What a statement does to every row of an existing table, besides locking it. */
export type TableWork = 'rewrite' | 'scan' | 'index-build' | 'none';

/**
 * Sizes of the existing tables the plan's changes work on, in one catalog
 * query: rows from pg_class.reltuples (the statistics' estimate; the
 * activity counters when the table was never analysed), bytes from
 * pg_total_relation_size.
 */
export async function readTableSizes(pool: Pick<Pool, 'query'>, plan: { changes: Pick<Change, 'table'>[] }): Promise<Map<string, TableSize>> {
  const tables = [...new Set(plan.changes.flatMap((change) => (change.table ? [change.table] : [])))];
  const sizes = new Map<string, TableSize>();
  if (tables.length === 0) return sizes;
  const { rows } = await pool.query<{ name: string; rows: string | null; bytes: string }>(
    `SELECT n.nspname || '.' || c.relname AS name,
            CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE s.n_live_tup END AS rows,
            pg_total_relation_size(c.oid) AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
      WHERE n.nspname || '.' || c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'm')`,
    [tables],
  );
  for (const row of rows) sizes.set(row.name, { rows: row.rows === null ? undefined : Number(row.rows), bytes: Number(row.bytes) });
  return sizes;
}

/** The hazards of one change, with the sizes known (an empty map gives the texts without sizes). */
export function hazardsOf(change: Pick<Change, 'table' | 'work' | 'lockClass'>, sizes: TableSizes): Hazard[] {
  if (!change.table || change.work === 'none') return [];
  const size = sizes.get(change.table) ?? {};
  const subject = `${change.table}${describeSize(size)}`;
  const hazard = (kind: Hazard['kind'], text: string): Hazard => ({ kind, table: change.table!, ...size, text });
  const during = { rewrite: 'while the table is rewritten', scan: 'while every row is checked', 'index-build': 'while the index builds' }[change.work];
  const hazards: Hazard[] = [];
  if (change.work === 'rewrite') hazards.push(hazard('rewrites-table', `rewrites ${subject}`));
  if (change.work === 'scan') hazards.push(hazard('scans-table', `scans ${subject}`));
  if (change.work === 'index-build') hazards.push(hazard('builds-index', `builds an index on ${subject}`));
  const blocked = BLOCKED_BY[change.lockClass];
  if (blocked === 'writes') hazards.push(hazard('blocks-writes', `blocks writes to ${subject} ${during}`));
  if (blocked === 'reads-and-writes') hazards.push(hazard('blocks-reads-and-writes', `blocks reads and writes to ${subject} ${during}`));
  return hazards;
}

/** What each lock class keeps other sessions from doing (PostgreSQL's lock conflict table). */
const BLOCKED_BY: Record<LockClass, 'nothing' | 'writes' | 'reads-and-writes'> = {
  none: 'nothing',
  shareUpdateExclusive: 'nothing',
  share: 'writes',
  shareRowExclusive: 'writes',
  accessExclusive: 'reads-and-writes',
};

/** " (≈2.1 M rows, 480 MB)", or nothing when the size is unknown. */
export function describeSize(size: TableSize): string {
  const parts = [size.rows !== undefined ? `≈${approximate(size.rows, ['', ' k', ' M', ' G'], 1000)} rows` : undefined, size.bytes !== undefined ? approximate(size.bytes, [' bytes', ' kB', ' MB', ' GB', ' TB'], 1024) : undefined].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function approximate(value: number, units: string[], step: number): string {
  let unit = 0;
  let scaled = value;
  while (scaled >= step && unit < units.length - 1) {
    scaled /= step;
    unit += 1;
  }
  const digits = unit === 0 || scaled >= 10 ? 0 : 1;
  return `${scaled.toFixed(digits)}${units[unit]}`;
}

/**
 * For each action of a plan: the existing table it works on, and what it
 * does to that table's rows. A validated FOREIGN KEY or CHECK scans, unless
 * the plan validates it in a later step of its own (online plans); SET NOT
 * NULL scans, unless a helper CHECK was validated just before it.
 */
export function tableWork(plan: Pick<EnginePlan, 'actions' | 'deltas'>): { table?: string; work: TableWork }[] {
  const created = createdTables(plan);
  const scanningConstraints = new Set<string>();
  const notNullColumns: SubId[] = [];
  for (const delta of plan.deltas) {
    if (delta.verb === 'add' && delta.fact.id.kind === 'constraint') {
      const { type, validated } = delta.fact.payload as { type?: string; validated?: boolean };
      if (validated === true && type !== undefined && 'cfpux'.includes(type)) scanningConstraints.add(encodeId(delta.fact.id));
    }
    if (delta.verb === 'set' && delta.id.kind === 'column' && delta.attr === 'notNull' && delta.to === true) notNullColumns.push(delta.id as SubId);
  }
  const validated = (index: number) => new Set(plan.actions.slice(index).filter(isValidateStep).flatMap((a) => a.consumes.map(encodeId)));
  return plan.actions.map((action, index) => {
    const table = consumedTable(action);
    if (!table || created.has(tableKey(table))) return { work: 'none' };
    const name = tableKey(table);
    if (action.rewriteRisk) return { table: name, work: 'rewrite' };
    if (action.verb === 'create' && action.produces.some((id) => id.kind === 'index')) return { table: name, work: 'index-build' };
    if (isValidateStep(action)) return { table: name, work: 'scan' };
    const constraint = action.verb === 'create' ? action.produces.find((id) => scanningConstraints.has(encodeId(id))) : undefined;
    if (constraint) return { table: name, work: validated(index + 1).has(encodeId(constraint)) || indexBuiltBefore(plan.actions, index, constraint) ? 'none' : 'scan' };
    const column = notNullColumns.find((id) => action.verb === 'alter' && action.sql === setNotNullSql(id));
    if (column) {
      const helper = { kind: 'constraint', schema: column.schema, table: column.table, name: notNullHelperName(column.name) } as StableId;
      const helperValidated = plan.actions.slice(0, index).some((a) => isValidateStep(a) && a.consumes.some((id) => encodeId(id) === encodeId(helper)));
      return { table: name, work: helperValidated ? 'none' : 'scan' };
    }
    return { table: name, work: 'none' };
  });
}

/** UNIQUE or PRIMARY KEY … USING INDEX: an earlier step built the index of the constraint's name (online plans). */
function indexBuiltBefore(actions: Action[], index: number, constraint: StableId): boolean {
  const { schema, name } = constraint as unknown as SubId;
  return actions.slice(0, index).some((a) => a.verb === 'create' && a.produces.some((id) => id.kind === 'index' && (id as unknown as SubId).schema === schema && (id as unknown as SubId).name === name));
}

/** VALIDATE CONSTRAINT: an alter of a constraint under SHARE UPDATE EXCLUSIVE. */
function isValidateStep(action: Action): boolean {
  return action.verb === 'alter' && action.lockClass === 'shareUpdateExclusive' && action.consumes.some((id) => id.kind === 'constraint');
}
