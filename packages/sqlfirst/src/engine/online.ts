/**
 * Online planning: the same changes, in forms that keep a busy table
 * writable. Expressed on pg-delta's plan, from its structured data only:
 *
 * - indexes on existing tables: pg-delta's own `concurrentIndexes` param
 *   (CREATE [UNIQUE] INDEX CONCURRENTLY), taken action by action from a plan
 *   made with it; dropped indexes: DROP INDEX CONCURRENTLY, built from the
 *   destroyed index id;
 * - FOREIGN KEY and CHECK on existing tables: ADD … NOT VALID (a brief
 *   lock), then VALIDATE CONSTRAINT as a step of its own (SHARE UPDATE
 *   EXCLUSIVE: writes continue while it scans);
 * - SET NOT NULL on an existing column: a helper CHECK (col IS NOT NULL)
 *   added NOT VALID and validated online, so SET NOT NULL skips its scan
 *   (PostgreSQL 12+), then the helper is dropped;
 * - UNIQUE and PRIMARY KEY on existing tables: CREATE UNIQUE INDEX
 *   CONCURRENTLY under the constraint's name, then ADD CONSTRAINT … USING
 *   INDEX (a brief lock). A primary key's columns are made NOT NULL first by
 *   the route above: pg-delta plans those SET NOT NULLs before the key.
 *
 * Steps that must commit on their own are `nonTransactional`: the executor
 * runs each alone, so no strong lock taken earlier is held while they work.
 * Tables the plan creates need none of this.
 */
import { parseSync } from 'libpg-query';
import { encodeId, type Action, type Delta, type Fact, type FactBase, type Plan as EnginePlan, type StableId } from '@supabase/pg-delta';
import { sqlParser } from '../sql-parser.js';

await sqlParser();

type TableId = { kind: 'table'; schema: string; name: string };
export type SubId = { kind: string; schema: string; table: string; name: string };

/**
 * `plain` rewritten for a live database. `concurrent` is the same plan made
 * with pg-delta's `concurrentIndexes` param; `current` is the target's facts.
 */
export function onlinePlan(plain: EnginePlan, concurrent: EnginePlan, current: FactBase): EnginePlan {
  const created = createdTables(plain);
  const existing = (table: TableId | undefined): table is TableId => table !== undefined && !created.has(tableKey(table)) && current.has(table);
  const concurrentIndexBuild = new Map<string, Action>();
  for (const action of concurrent.actions) {
    const index = action.produces.find((id) => id.kind === 'index');
    if (action.verb === 'create' && index && action.transactionality === 'nonTransactional') concurrentIndexBuild.set(key(index), action);
  }
  const addedConstraints = new Map<string, Fact>();
  const notNullColumns: SubId[] = [];
  const validatedConstraints: SubId[] = [];
  for (const delta of plain.deltas) collect(delta, addedConstraints, notNullColumns, validatedConstraints);

  const actions = plain.actions.flatMap((action): Action[] => {
    const table = consumedTable(action);
    if (!existing(table)) return [action];
    const index = action.produces.find((id) => id.kind === 'index');
    if (action.verb === 'create' && index) return [concurrentIndexBuild.get(key(index)) ?? action];
    if (action.verb === 'drop' && action.destroys.length === 1 && action.destroys[0].kind === 'index' && !partitioned(current, table)) {
      return [dropIndexConcurrently(action, action.destroys[0] as unknown as { schema: string; name: string })];
    }
    const constraint = action.produces.find((id) => id.kind === 'constraint');
    const fact = constraint && addedConstraints.get(key(constraint));
    if (action.verb === 'create' && fact && action.produces.length === 1) return addOnline(action, fact, partitioned(current, table));
    const column = notNullColumns.find((id) => action.verb === 'alter' && action.sql === setNotNullSql(id));
    if (column) return notNullThroughCheck(action, column);
    const leftover = validatedConstraints.find((id) => action.verb === 'alter' && action.sql === validateSql(id));
    if (leftover) return [{ ...action, transactionality: 'nonTransactional' }];
    return [action];
  });
  return { ...plain, actions, safetyReport: { ...plain.safetyReport, nonTransactionalActions: actions.filter((a) => a.transactionality === 'nonTransactional').length } };
}

/** FOREIGN KEY, CHECK, UNIQUE and PRIMARY KEY constraints the plan adds validated; NOT NULL switched on; NOT VALID constraints to validate. */
function collect(delta: Delta, constraints: Map<string, Fact>, notNull: SubId[], validate: SubId[]): void {
  if (delta.verb === 'add' && delta.fact.id.kind === 'constraint' && delta.fact.parent?.kind === 'table') {
    const { type, validated } = delta.fact.payload as { type?: string; validated?: boolean };
    if (validated === true && type !== undefined && 'fcup'.includes(type)) constraints.set(key(delta.fact.id), delta.fact);
  }
  if (delta.verb === 'set' && delta.id.kind === 'column' && delta.attr === 'notNull' && delta.to === true) notNull.push(delta.id as SubId);
  if (delta.verb === 'set' && delta.id.kind === 'constraint' && delta.attr === 'validated' && delta.to === true) validate.push(delta.id as SubId);
}

function addOnline(action: Action, fact: Fact, partitionedTable: boolean): Action[] {
  const { type, def } = fact.payload as { type: string; def: string };
  // a partitioned table takes neither CREATE INDEX CONCURRENTLY nor ADD CONSTRAINT … USING INDEX
  if (type === 'u' || type === 'p') return partitionedTable ? [action] : addThroughUniqueIndex(action, fact.id as SubId, def);
  const id = fact.id as SubId;
  return [
    { ...action, sql: `${alterTable(id)} ADD CONSTRAINT ${quoted(id.name)} ${def} NOT VALID` },
    validateStep(id),
  ];
}

/** The parts of a UNIQUE or PRIMARY KEY definition an index carries, as PostgreSQL's parser reads it. */
interface KeyConstraint {
  contype: string;
  keys?: { String: { sval: string } }[];
  including?: { String: { sval: string } }[];
  nulls_not_distinct?: boolean;
  options?: { DefElem: { defname: string; arg?: Record<string, { ival?: number; fval?: string; sval?: string; names?: { String: { sval: string } }[] }> } }[];
  indexspace?: string;
  deferrable?: boolean;
  initdeferred?: boolean;
  without_overlaps?: boolean;
}

/**
 * The constraint's index built concurrently under the constraint's name (a
 * step of its own, with progress), then attached: ADD CONSTRAINT … USING
 * INDEX takes only a brief lock. The definition pg-delta reports
 * (pg_get_constraintdef) is read with PostgreSQL's parser; a form an index
 * cannot carry the same way (WITHOUT OVERLAPS, an unusual storage option) is
 * left as planned.
 */
function addThroughUniqueIndex(action: Action, id: SubId, def: string): Action[] {
  const parsed = parseSync(`ALTER TABLE t ADD CONSTRAINT c ${def}`) as { stmts: { stmt: { AlterTableStmt: { cmds: { AlterTableCmd: { def: { Constraint: KeyConstraint } } }[] } } }[] };
  const constraint = parsed.stmts[0].stmt.AlterTableStmt.cmds[0].AlterTableCmd.def.Constraint;
  const options = (constraint.options ?? []).map(storageOption);
  if (!constraint.keys || constraint.without_overlaps || options.includes(undefined)) return [action];
  const columns = (list: { String: { sval: string } }[]) => list.map((name) => quoted(name.String.sval)).join(', ');
  const index = { kind: 'index', schema: id.schema, name: id.name } as StableId;
  const build = [
    `CREATE UNIQUE INDEX CONCURRENTLY ${quoted(id.name)} ON ${quoted(id.schema)}.${quoted(id.table)} USING btree (${columns(constraint.keys)})`,
    constraint.including?.length ? ` INCLUDE (${columns(constraint.including)})` : '',
    constraint.nulls_not_distinct ? ' NULLS NOT DISTINCT' : '',
    options.length > 0 ? ` WITH (${options.join(', ')})` : '',
    constraint.indexspace ? ` TABLESPACE ${quoted(constraint.indexspace)}` : '',
  ].join('');
  const kind = constraint.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE';
  const timing = [constraint.deferrable ? ' DEFERRABLE' : '', constraint.initdeferred ? ' INITIALLY DEFERRED' : ''].join('');
  return [
    engineAction({ sql: build, verb: 'create', produces: [index], consumes: action.consumes, lockClass: 'shareUpdateExclusive', transactionality: 'nonTransactional' }),
    { ...action, sql: `${alterTable(id)} ADD CONSTRAINT ${quoted(id.name)} ${kind} USING INDEX ${quoted(id.name)}${timing}` },
  ];
}

/** `name = value` of an index storage parameter, or undefined for a value this does not print. */
function storageOption(option: NonNullable<KeyConstraint['options']>[number]): string | undefined {
  const { defname, arg } = option.DefElem;
  // the parse tree leaves out an integer's value when it is 0
  const value = arg?.Integer ? (arg.Integer.ival ?? 0) : arg?.Float?.fval ?? arg?.String?.sval ?? (arg?.TypeName?.names?.length === 1 ? arg.TypeName.names[0].String.sval : undefined);
  return value === undefined ? undefined : `${quoted(defname)} = ${typeof value === 'number' ? value : `'${String(value).replaceAll("'", "''")}'`}`;
}

/** The name of the CHECK that proves a column has no NULLs before SET NOT NULL. */
export function notNullHelperName(column: string): string {
  return `sqlfirst_not_null_${column}`;
}

function notNullThroughCheck(setNotNull: Action, column: SubId): Action[] {
  const helper: SubId = { kind: 'constraint', schema: column.schema, table: column.table, name: notNullHelperName(column.name) };
  const table = alterTable(column);
  return [
    engineAction({ sql: `${table} ADD CONSTRAINT ${quoted(helper.name)} CHECK (${quoted(column.name)} IS NOT NULL) NOT VALID`, verb: 'create', consumes: [tableOf(column)], lockClass: 'accessExclusive' }),
    validateStep(helper),
    // a valid CHECK (col IS NOT NULL) lets PostgreSQL skip the scan
    setNotNull,
    engineAction({ sql: `${table} DROP CONSTRAINT ${quoted(helper.name)}`, verb: 'drop', consumes: [tableOf(column)], lockClass: 'accessExclusive' }),
  ];
}

function validateStep(constraint: SubId): Action {
  return engineAction({
    sql: validateSql(constraint),
    verb: 'alter',
    consumes: [constraint as unknown as StableId],
    lockClass: 'shareUpdateExclusive',
    transactionality: 'nonTransactional',
  });
}

function dropIndexConcurrently(action: Action, index: { schema: string; name: string }): Action {
  return { ...action, sql: `DROP INDEX CONCURRENTLY ${quoted(index.schema)}.${quoted(index.name)}`, lockClass: 'shareUpdateExclusive', transactionality: 'nonTransactional' };
}

/** A statement of our own in pg-delta's shape: transactional, no data loss, no rewrite, unless said. */
export function engineAction(fields: Pick<Action, 'sql' | 'verb' | 'consumes' | 'lockClass'> & Partial<Action>): Action {
  return { produces: [], destroys: [], releases: [], transactionality: 'transactional', newSegmentBefore: false, dataLoss: 'none', rewriteRisk: false, ...fields };
}

/** pg-delta's rendering of the statements it emits, to recognise them by equality. */
export function setNotNullSql(column: SubId): string {
  return `${alterTable(column)} ALTER COLUMN ${quoted(column.name)} SET NOT NULL`;
}

export function validateSql(constraint: SubId): string {
  return `${alterTable(constraint)} VALIDATE CONSTRAINT ${quoted(constraint.name)}`;
}

function alterTable(id: { schema: string; table: string }): string {
  return `ALTER TABLE ${quoted(id.schema)}.${quoted(id.table)}`;
}

export function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The existing table a statement works on: a consumed table, or the table of a consumed column or constraint. */
export function consumedTable(action: Pick<Action, 'consumes'>): TableId | undefined {
  for (const id of action.consumes) {
    if (id.kind === 'table') return id as TableId;
    if (id.kind === 'column' || id.kind === 'constraint') return tableOf(id as unknown as SubId) as TableId;
  }
  return undefined;
}

function tableOf(id: { schema: string; table: string }): StableId {
  return { kind: 'table', schema: id.schema, name: id.table } as StableId;
}

/** Tables the plan creates (CREATE TABLE, or the new name of a renamed one). */
export function createdTables(plan: Pick<EnginePlan, 'actions'>): Set<string> {
  const created = new Set<string>();
  for (const action of plan.actions) {
    if (action.verb !== 'create') continue;
    for (const id of action.produces) if (id.kind === 'table') created.add(tableKey(id as TableId));
  }
  return created;
}

export function tableKey(table: { schema: string; name: string }): string {
  return `${table.schema}.${table.name}`;
}

function partitioned(current: FactBase, table: TableId): boolean {
  return (current.get(table)?.payload as { partitionKey?: unknown } | undefined)?.partitionKey != null;
}

function key(id: StableId): string {
  return encodeId(id);
}
