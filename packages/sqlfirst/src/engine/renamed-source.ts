/**
 * Renames pg-delta does not apply itself, turned into a pure rewrite of the
 * CURRENT facts plus the statements that make the target match them:
 *
 * - a table rename. pg-delta renames a table only when nothing under it
 *   carries the table's name; a primary key `fills_pkey`, an index
 *   `fills_user_id_idx` or a sequence `fills_id_seq` do. Here the current
 *   facts are rewritten as if `ALTER TABLE fills RENAME TO trades` had run
 *   (every id, parent, target and edge that names the table), and each child
 *   whose desired twin differs only by name (`fills_pkey` → `trades_pkey`) is
 *   renamed with it: ALTER TABLE … RENAME CONSTRAINT, ALTER INDEX … RENAME,
 *   ALTER SEQUENCE … RENAME;
 * - a column rename. pg-delta renames the column but drops and recreates
 *   every index, constraint and view that uses it (an index rebuild, a
 *   validation scan); PostgreSQL's `ALTER TABLE … RENAME COLUMN` updates them
 *   in place. The facts are rewritten as if it had run (the column's id, its
 *   default, comment and grants; the definitions that name it), the
 *   auto-named children follow (`orders_avg_price_check` →
 *   `orders_average_price_check`), and a view's output column that took the
 *   old name is renamed when the desired view has the new one (ALTER VIEW …
 *   RENAME COLUMN). A rename onto a name the table still has (a swap, a
 *   chain) is not made: renames.ts refuses it;
 * - an enum value rename: ALTER TYPE … RENAME VALUE, where pg-delta would
 *   rebuild the type.
 *
 * pg-delta then plans from the rewritten facts to the desired ones, and the
 * rename statements run first. Definitions that name a renamed object
 * (an index's or a foreign key's table or columns, a view's FROM, a
 * default's sequence)
 * are compared with their desired twin through PostgreSQL's parse trees: equal
 * once the renames are applied, the desired text is what the server prints
 * after the rename; otherwise the current text stays and pg-delta rebuilds the
 * object as it would have anyway.
 */
import { buildFactBase, contentHash, encodeId, type Action, type DependencyEdge, type Fact, type FactBase, type Payload, type StableId } from '@supabase/pg-delta';
import { parseSync, scanSync } from 'libpg-query';
import { sqlParser } from '../sql-parser.js';
import { engineAction } from './online.js';

// definitions are compared as parse trees; the WebAssembly loads once
await sqlParser();

export interface TableRename {
  schema: string;
  from: string;
  to: string;
}

/** A column rename; `table` is the table's name in the target (before any table rename). */
export interface ColumnRename {
  schema: string;
  table: string;
  from: string;
  to: string;
}

export interface EnumValueRename {
  schema: string;
  type: string;
  from: string;
  to: string;
}

export interface RenamedSource {
  /** the current facts as they are once `actions` have run */
  source: FactBase;
  /** the rename statements, in order, to run before pg-delta's plan */
  actions: Action[];
  /** maps an id of the current facts to its id after the renames */
  renamedId(id: StableId): StableId;
}

type Named = { kind: string; schema?: string; table?: string; name?: string; target?: StableId; column?: string };

/**
 * The current facts after the given table, column and enum value renames
 * (each old name must exist in `current` and each new name must not; the
 * caller checks), with the children renamed along with their table or
 * column, and the statements that do it.
 */
export function renameInCurrent(current: FactBase, desired: FactBase, tables: readonly TableRename[], enumValues: readonly EnumValueRename[], columns: readonly ColumnRename[] = []): RenamedSource {
  const tableMap = new Map(tables.map((t) => [`${t.schema}.${t.from}`, t.to]));
  const newTable = (schema: string, table: string) => tableMap.get(`${schema}.${table}`) ?? table;
  // "schema.table" (the table's new name) → old column name → new column name
  const columnMap = new Map<string, Map<string, string>>();
  for (const c of columns) {
    const key = `${c.schema}.${newTable(c.schema, c.table)}`;
    columnMap.set(key, (columnMap.get(key) ?? new Map<string, string>()).set(c.from, c.to));
  }
  const byName = (id: StableId): StableId => renameColumnIn(renameTableIn(id, tableMap), columnMap);
  const actions: Action[] = tables.map((t) =>
    renameAction(`ALTER TABLE ${rel(t.schema, t.from)} RENAME TO ${quoted(t.to)}`, { kind: 'table', schema: t.schema, name: t.from } as StableId, { kind: 'table', schema: t.schema, name: t.to } as StableId),
  );

  // children that follow their table: same kind, same new parent, equal content, one on each side
  const childMap = new Map<string, StableId>();
  // a grant, comment or label follows its target; a column grant its column
  const mapped = (id: StableId): StableId => {
    const renamed = childMap.get(encodeId(id)) ?? byName(id);
    if (!('target' in renamed)) return renamed;
    const target = mapped(renamed.target) as Named;
    const column = (renamed as Named).column;
    const to = column !== undefined && target.kind === 'table' ? columnMap.get(`${target.schema}.${target.name}`)?.get(column) : undefined;
    return { ...renamed, target, ...(to === undefined ? {} : { column: to }) } as StableId;
  };
  const sequenceMap = new Map<string, string>();
  const enumMap = new Map<string, Map<string, string>>();
  const names: NameMap = { tables: tableMap, columns: columnMap, sequences: sequenceMap, enumValues: enumMap };
  const currentFacts = current.facts();
  const desiredFacts = desired.facts();
  // tables whose children may follow a rename: renamed tables, and tables with renamed columns (auto-named `orders_avg_price_check`)
  const parents = [...tables, ...[...new Set(columns.map((c) => `${c.schema}\0${c.table}`))].flatMap((key) => {
    const [schema, table] = key.split('\0') as [string, string];
    return tableMap.has(`${schema}.${table}`) ? [] : [{ schema, from: table, to: table }];
  })];
  actions.push(...columnRenameActions(columns, newTable));
  for (const table of parents) {
    if (!desired.has({ kind: 'table', schema: table.schema, name: table.to } as StableId)) continue;
    for (const kind of ['constraint', 'index', 'sequence'] as const) {
      const gone = currentFacts.filter((f) => f.id.kind === kind && belongsTo(f, table.schema, table.from) && !desired.has(byName(f.id)));
      const fresh = desiredFacts.filter((f) => f.id.kind === kind && belongsTo(f, table.schema, table.to) && !current.has(f.id));
      for (const old of gone) {
        const same = (a: Fact, b: Fact) => samePayload(current, a, desired, b, names);
        const twins = fresh.filter((f) => same(old, f));
        const rivals = gone.filter((g) => twins.length === 1 && same(g, twins[0]!));
        if (twins.length !== 1 || rivals.length !== 1) continue;
        const to = twins[0].id;
        childMap.set(encodeId(old.id), to);
        if (kind === 'sequence') sequenceMap.set(`${(old.id as Named).schema}.${(old.id as Named).name}`, (to as Named).name!);
        actions.push(renameAction(childRenameSql(renameTableIn(old.id, tableMap), to), old.id, to));
      }
    }
  }

  for (const value of enumValues) {
    const type = { kind: 'type', schema: value.schema, name: value.type } as StableId;
    const values = enumMap.get(`${value.schema}.${value.type}`) ?? new Map<string, string>();
    values.set(value.from, value.to);
    enumMap.set(`${value.schema}.${value.type}`, values);
    actions.push({ ...renameAction(`ALTER TYPE ${rel(value.schema, value.type)} RENAME VALUE ${literal(value.from)} TO ${literal(value.to)}`, type, type), destroys: [] });
  }

  const facts = currentFacts.map((fact): Fact => {
    const id = mapped(fact.id);
    const renamed: Fact = { id, ...(fact.parent ? { parent: mapped(fact.parent) } : {}), payload: fact.payload };
    const values = fact.id.kind === 'type' ? enumMap.get(`${(fact.id as Named).schema}.${(fact.id as Named).name}`) : undefined;
    if (values) return { ...renamed, payload: { ...fact.payload, values: (fact.payload.values as string[]).map((v) => values.get(v) ?? v) } };
    const owner = fact.payload.ownedBy as { schema: string; table: string; column: string } | null | undefined;
    if (fact.id.kind === 'sequence' && owner) renamed.payload = { ...fact.payload, ownedBy: renamedOwner(owner, names) };
    // a definition naming a renamed object: the desired text when it is the same definition
    const twin = desired.get(id);
    const hash = renamed.payload === fact.payload ? current.hashOf(fact.id) : contentHash(renamed.payload);
    if (!twin) return renamed;
    if (desired.hashOf(id) === hash) {
      // the same text now names another column (p renamed to q, a new p): marked stale so that it differs and pg-delta rebuilds it
      const stale = staleDefinition(renamed, names);
      return stale === undefined ? renamed : { ...renamed, payload: { ...renamed.payload, [stale]: `${renamed.payload[stale] as string} /* names renamed columns */` } };
    }
    const same = sameModuloRenames(renamed, twin, names);
    if (!same) return renamed;
    // a view's output column named after a renamed column keeps its old name unless renamed too
    const view = id as Named;
    const what = view.kind === 'materializedView' ? 'MATERIALIZED VIEW' : 'VIEW';
    for (const [from, to] of same.viewColumns) actions.push(renameAction(`ALTER ${what} ${rel(view.schema!, view.name!)} RENAME COLUMN ${quoted(from)} TO ${quoted(to)}`, id, id));
    return { ...renamed, payload: twin!.payload };
  });
  const edges: DependencyEdge[] = current.edges.map((edge) => ({ ...edge, from: mapped(edge.from), to: mapped(edge.to) }));
  const referenceOnly = new Set(currentFacts.filter((fact) => current.isReferenceOnly(fact.id)).map((fact) => encodeId(mapped(fact.id))));
  const source = buildFactBase(facts, edges, current.source, referenceOnly);
  source.diagnostics.push(...current.diagnostics);
  return { source, actions, renamedId: mapped };
}

/** A table's id, or the id of anything under the table (columns, constraints, triggers …), after the table renames; not a grant's or comment's target. */
function renameTableIn(id: StableId, tables: ReadonlyMap<string, string>): StableId {
  const parts = id as Named & Record<string, unknown>;
  let result: Record<string, unknown> = parts;
  if (parts.kind === 'table' && parts.schema !== undefined && parts.name !== undefined) {
    const to = tables.get(`${parts.schema}.${parts.name}`);
    if (to !== undefined) result = { ...result, name: to };
  }
  if (typeof parts.table === 'string' && parts.schema !== undefined) {
    const to = tables.get(`${parts.schema}.${parts.table}`);
    if (to !== undefined) result = { ...result, table: to };
  }
  return result as StableId;
}

/** A column's id, or its default's, after the column renames (keyed by the table's new name). */
function renameColumnIn(id: StableId, columns: ReadonlyMap<string, ReadonlyMap<string, string>>): StableId {
  const parts = id as Named;
  if ((parts.kind !== 'column' && parts.kind !== 'default') || parts.table === undefined) return id;
  const to = columns.get(`${parts.schema}.${parts.table}`)?.get(parts.name!);
  return to === undefined ? id : ({ ...parts, name: to } as StableId);
}

/** ALTER TABLE … RENAME COLUMN for each column rename, under the table's new name. */
function columnRenameActions(columns: readonly ColumnRename[], newTable: (schema: string, table: string) => string): Action[] {
  return columns.map(({ schema, table, from, to }) => {
    const column = (name: string) => ({ kind: 'column', schema, table: newTable(schema, table), name }) as StableId;
    return renameAction(`ALTER TABLE ${rel(schema, newTable(schema, table))} RENAME COLUMN ${quoted(from)} TO ${quoted(to)}`, column(from), column(to));
  });
}

/** A sequence's owning column after the renames. */
function renamedOwner(owner: { schema: string; table: string; column: string }, names: NameMap): { schema: string; table: string; column: string } {
  const table = names.tables.get(`${owner.schema}.${owner.table}`) ?? owner.table;
  return { ...owner, table, column: names.columns.get(`${owner.schema}.${table}`)?.get(owner.column) ?? owner.column };
}

/** The table's own sub-objects (constraints), its indexes (parented to it) and the sequences owned by one of its columns. */
function belongsTo(fact: Fact, schema: string, table: string): boolean {
  const id = fact.id as Named;
  if (id.kind === 'constraint') return id.schema === schema && id.table === table;
  if (id.kind === 'index') return (fact.parent as Named | undefined)?.kind === 'table' && fact.parent !== undefined && (fact.parent as Named).schema === schema && (fact.parent as Named).name === table;
  const owner = fact.payload.ownedBy as { schema: string; table: string } | null | undefined;
  return id.kind === 'sequence' && owner?.schema === schema && owner.table === table;
}

function childRenameSql(from: StableId, to: StableId): string {
  const id = from as Required<Pick<Named, 'schema' | 'name'>> & Named;
  const name = quoted((to as Named).name!);
  if (id.kind === 'constraint') return `ALTER TABLE ${rel(id.schema, id.table!)} RENAME CONSTRAINT ${quoted(id.name)} TO ${name}`;
  if (id.kind === 'index') return `ALTER INDEX ${rel(id.schema, id.name)} RENAME TO ${name}`;
  return `ALTER SEQUENCE ${rel(id.schema, id.name)} RENAME TO ${name}`;
}

/** A catalog-only rename: instant, in the plan's transaction, under ACCESS EXCLUSIVE. */
function renameAction(sql: string, from: StableId, to: StableId): Action {
  return engineAction({ sql, verb: 'alter', produces: [to], consumes: [from], destroys: [from], lockClass: 'accessExclusive' });
}

interface NameMap {
  /** "schema.old" → new table name */
  tables: ReadonlyMap<string, string>;
  /** "schema.table" (new table name) → old column name → new column name */
  columns: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** "schema.old" → new sequence name */
  sequences: ReadonlyMap<string, string>;
  /** "schema.type" → old label → new label */
  enumValues: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/** Children match when their content is the same once the renames apply (their own names aside). */
function samePayload(currentBase: FactBase, current: Fact, desiredBase: FactBase, desired: Fact, names: NameMap): boolean {
  if (current.id.kind === 'sequence') {
    const { ownedBy: currentOwner, ...currentRest } = current.payload;
    const { ownedBy: desiredOwner, ...desiredRest } = desired.payload;
    const owner = currentOwner as { schema: string; table: string; column: string } | null;
    return contentHash(currentRest) === contentHash(desiredRest) && (owner ? renamedOwner(owner, names).column : undefined) === (desiredOwner as { column?: string } | null)?.column;
  }
  // under its table's new name, as the definitions' columns are resolved
  const moved: Fact = { ...current, id: renameTableIn(current.id, names.tables), ...(current.parent ? { parent: renameTableIn(current.parent, names.tables) } : {}) };
  return sameModuloRenames(moved, desired, names) !== undefined || (names.columns.size === 0 && currentBase.hashOf(current.id) === desiredBase.hashOf(desired.id));
}

/**
 * The definitions of two facts (DEFINITIONS: an index's or a view's `def`, a
 * default's `expr`, a policy's expressions …) are the same statements once the
 * renames apply, and their other payload fields are equal. For a view, the
 * output columns named after a renamed column it selects keep their old name
 * in PostgreSQL; when the desired view has the new one, `viewColumns` lists
 * the view's own column renames that make them the same.
 */
function sameModuloRenames(current: Fact, desired: Fact, names: NameMap): { viewColumns: [string, string][] } | undefined {
  const fields = DEFINITIONS[current.id.kind];
  if (fields === undefined) return undefined;
  const rest = (payload: Payload) => contentHash(Object.fromEntries(Object.entries(payload).filter(([key]) => !(key in fields))) as Payload);
  if (rest(current.payload) !== rest(desired.payload)) return undefined;
  const viewColumns: [string, string][] = [];
  try {
    for (const [field, wrap] of Object.entries(fields)) {
      const [currentText, desiredText] = [current.payload[field], desired.payload[field]];
      if (typeof currentText !== 'string' || typeof desiredText !== 'string') {
        if (currentText !== desiredText) return undefined;
        continue;
      }
      const outputs: RenamedOutput[] = [];
      const currentStmts = parseSync(wrap(currentText)).stmts;
      const currentTree = normalize(currentStmts, { names, ...scopeOf(current, currentStmts, names), outputs });
      const desiredTree = contentHash({ tree: normalize(parseSync(wrap(desiredText)).stmts) } as Payload);
      if (contentHash({ tree: currentTree } as Payload) === desiredTree) continue;
      const top = ((currentTree as { stmt: { SelectStmt?: { targetList?: { ResTarget: unknown }[] } } }[])[0]?.stmt.SelectStmt?.targetList ?? []).map((t) => t.ResTarget);
      const renamedTop = current.id.kind === 'view' || current.id.kind === 'materializedView' ? outputs.filter((o) => top.includes(o.target)) : [];
      for (const output of renamedTop) output.target.name = output.to;
      if (renamedTop.length === 0 || contentHash({ tree: currentTree } as Payload) !== desiredTree) return undefined;
      viewColumns.push(...renamedTop.map((o): [string, string] => [o.from, o.to]));
    }
  } catch {
    // not parseable as we wrap it: not proven the same
    return undefined;
  }
  return { viewColumns };
}

/** The definition field that names a renamed column: its text no longer says what the server holds. */
function staleDefinition(fact: Fact, names: NameMap): string | undefined {
  const fields = DEFINITIONS[fact.id.kind];
  if (fields === undefined || names.columns.size === 0) return undefined;
  return Object.entries(fields).find(([field, wrap]) => {
    const text = fact.payload[field];
    if (typeof text !== 'string') return false;
    try {
      const stmts = parseSync(wrap(text)).stmts;
      const outputs: RenamedOutput[] = [];
      const renamed = normalize(stmts, { names, ...scopeOf(fact, stmts, names), outputs });
      return contentHash({ tree: renamed } as Payload) !== contentHash({ tree: normalize(parseSync(wrap(text)).stmts) } as Payload);
    } catch {
      return false;
    }
  })?.[0];
}

/** The definition texts of each kind, and how each becomes a whole statement for the parser. */
const DEFINITIONS: Record<string, Record<string, (text: string) => string>> = {
  index: { def: (def) => def },
  trigger: { def: (def) => def },
  constraint: { def: (def) => `ALTER TABLE t ADD CONSTRAINT c ${def}` },
  view: { def: (def) => def },
  materializedView: { def: (def) => def },
  default: { expr: (expr) => `SELECT ${expr}` },
  policy: { usingExpr: (expr) => `SELECT ${expr}`, checkExpr: (expr) => `SELECT ${expr}` },
  column: { generatedExpr: (expr) => `SELECT ${expr}` },
};

/** A view's output column that PostgreSQL names after the column it selects, whose column is renamed. */
interface RenamedOutput {
  target: { name?: string };
  from: string;
  to: string;
}

/** How the column references of one definition resolve to tables (by their new names, "schema.table"). */
interface Scope {
  names: NameMap;
  /** the table of an unqualified column; undefined when it is not certain */
  table?: string;
  /** a qualifier (a table's name or alias, NEW / OLD in a trigger) → its table */
  qualifiers: ReadonlyMap<string, string>;
  outputs: RenamedOutput[];
}

/**
 * The tables a definition's columns belong to: the fact's own table (an
 * index's, a constraint's, a trigger's, a policy's, a generated column's);
 * for a view, its tables by name or alias, and the one table when it reads
 * just one. A view with subqueries, CTEs or functions in FROM has names of
 * its own: its columns are not resolved (not proven the same).
 */
function scopeOf(fact: Fact, stmts: unknown, names: NameMap): Omit<Scope, 'names' | 'outputs'> {
  const id = fact.id as Named;
  const own = id.kind === 'index' ? (fact.parent as Named | undefined) : id.kind === 'default' ? undefined : id;
  const ownTable = own?.kind === 'table' ? `${own.schema}.${own.name}` : own?.table !== undefined ? `${own.schema}.${own.table}` : undefined;
  if (id.kind !== 'view' && id.kind !== 'materializedView') {
    return { table: ownTable, qualifiers: new Map(ownTable === undefined ? [] : id.kind === 'trigger' ? [['new', ownTable], ['old', ownTable]] : []) };
  }
  const relations: { schemaname?: string; relname: string; alias?: { aliasname: string } }[] = [];
  let nested = false;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'RangeVar') relations.push(value as (typeof relations)[number]);
      if (key === 'RangeSubselect' || key === 'CommonTableExpr' || key === 'RangeFunction' || key === 'SubLink') nested = true;
      walk(value);
    }
  };
  walk(stmts);
  if (nested || relations.some((r) => r.schemaname === undefined)) return { qualifiers: new Map() };
  const tableOf = (r: (typeof relations)[number]) => `${r.schemaname}.${names.tables.get(`${r.schemaname}.${r.relname}`) ?? r.relname}`;
  const byName = new Map<string, string | null>();
  for (const r of relations) {
    const name = r.alias?.aliasname ?? r.relname;
    byName.set(name, byName.has(name) ? null : tableOf(r));
  }
  const qualifiers = new Map([...byName].filter((entry): entry is [string, string] => entry[1] !== null));
  return { table: relations.length === 1 ? tableOf(relations[0]!) : undefined, qualifiers };
}

/**
 * A parse tree without positions or an index's own name, a selected column's
 * implicit output name made explicit, and with `scope`, renamed tables,
 * columns and sequences under their new names.
 */
function normalize(node: unknown, scope?: Scope): unknown {
  if (Array.isArray(node)) return node.map((item) => normalize(item, scope));
  if (node === null || typeof node !== 'object') return node;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'location' || key === 'stmt_location' || key === 'stmt_len' || key === 'idxname') continue;
    result[key] = normalize(value, scope);
  }
  // `SELECT avg_price` names its output column avg_price, and keeps that name when the column is renamed
  const target = (node as { ResTarget?: { name?: string; val?: { ColumnRef?: { fields: { String?: { sval: string } }[] } } } }).ResTarget;
  const selected = target?.name === undefined ? target?.val?.ColumnRef?.fields.at(-1)?.String?.sval : undefined;
  if (selected !== undefined) {
    const normalized = result.ResTarget as { name?: string; val: { ColumnRef: { fields: { String: { sval: string } }[] } } };
    normalized.name = selected;
    const now = normalized.val.ColumnRef.fields.at(-1)!.String.sval;
    if (scope && now !== selected) scope.outputs.push({ target: normalized, from: selected, to: now });
  }
  if (!scope) return result;
  const { names } = scope;
  renameColumns(result, scope);
  // a table reference: public.fills
  if (typeof result.relname === 'string' && typeof result.schemaname === 'string') {
    result.relname = names.tables.get(`${result.schemaname}.${result.relname}`) ?? result.relname;
  }
  // a column qualified by its table: fills.id
  const fields = result.fields as { String?: { sval: string } }[] | undefined;
  if ('fields' in result && Array.isArray(fields) && fields.length >= 2) {
    const qualifier = fields[fields.length - 2]?.String;
    const schema = fields.length >= 3 ? fields[fields.length - 3]?.String?.sval : undefined;
    if (qualifier) {
      const to = [...names.tables].find(([from]) => from.endsWith(`.${qualifier.sval}`) && (schema === undefined || from === `${schema}.${qualifier.sval}`))?.[1];
      if (to !== undefined) qualifier.sval = to;
    }
  }
  // a sequence in a default: nextval('public.fills_id_seq'::regclass)
  const typeCast = result.TypeCast as { arg?: { A_Const?: { sval?: { sval: string } } }; typeName?: { names?: { String: { sval: string } }[] } } | undefined;
  const constant = typeCast?.arg?.A_Const?.sval;
  const typeName = typeCast?.typeName?.names?.map((n) => n.String.sval) ?? [];
  if (constant && typeName.at(-1) === 'regclass') constant.sval = renamedRegclass(constant.sval, names.sequences);
  // a renamed enum label: 'sell'::public.side
  if (constant && typeName.length === 2) constant.sval = names.enumValues.get(typeName.join('.'))?.get(constant.sval) ?? constant.sval;
  return result;
}

/** The renamed columns a node names: a column reference, an index column, a key's or a trigger's column list. */
function renameColumns(node: Record<string, unknown>, scope: Scope): void {
  const { names } = scope;
  const renamed = (table: string | undefined, column: string) => (table === undefined ? undefined : names.columns.get(table)?.get(column));
  const list = (value: unknown, table: string | undefined) => {
    for (const item of (value as { String?: { sval: string } }[] | undefined) ?? []) {
      if (item.String) item.String.sval = renamed(table, item.String.sval) ?? item.String.sval;
    }
  };
  // a column reference, before its qualifier is renamed: avg_price, orders.avg_price, public.orders.avg_price
  const fields = node.fields as { String?: { sval: string } }[] | undefined;
  if (Array.isArray(fields) && fields.length >= 1 && fields.length <= 3) {
    const column = fields.at(-1)?.String;
    const qualifier = fields.length >= 2 ? fields.at(-2)?.String?.sval : undefined;
    const schema = fields.length === 3 ? fields[0]?.String?.sval : undefined;
    const table =
      qualifier === undefined ? scope.table : schema !== undefined ? `${schema}.${names.tables.get(`${schema}.${qualifier}`) ?? qualifier}` : scope.qualifiers.get(qualifier);
    if (column) column.sval = renamed(table, column.sval) ?? column.sval;
  }
  const index = node.IndexElem as { name?: string } | undefined;
  if (index?.name !== undefined) index.name = renamed(scope.table, index.name) ?? index.name;
  const constraint = node.Constraint as { keys?: unknown; including?: unknown; fk_attrs?: unknown; pk_attrs?: unknown; pktable?: { schemaname?: string; relname: string } } | undefined;
  if (constraint) {
    for (const own of [constraint.keys, constraint.including, constraint.fk_attrs]) list(own, scope.table);
    // pktable is already under its new name
    const referenced = constraint.pktable?.schemaname === undefined ? undefined : `${constraint.pktable.schemaname}.${constraint.pktable.relname}`;
    list(constraint.pk_attrs, referenced);
  }
  const trigger = node.CreateTrigStmt as { columns?: unknown } | undefined;
  if (trigger) list(trigger.columns, scope.table);
}

/** A regclass literal naming a renamed sequence, written as the server writes it. */
function renamedRegclass(text: string, sequences: ReadonlyMap<string, string>): string {
  type Select = { SelectStmt: { fromClause: { RangeVar: { schemaname?: string; relname: string } }[] } };
  const parts = (parseSync(`SELECT 1 FROM ${text}`).stmts?.[0]?.stmt as Select | undefined)?.SelectStmt.fromClause[0]?.RangeVar;
  const to = parts?.schemaname !== undefined ? sequences.get(`${parts.schemaname}.${parts.relname}`) : undefined;
  return to === undefined ? text : `${quoteIdent(parts!.schemaname!)}.${quoteIdent(to)}`;
}

/** PostgreSQL's quote_ident: bare when lower case, plain characters and not a reserved word. */
export function quoteIdent(name: string): string {
  const plain = name.length > 0 && [...name].every((c, i) => c === '_' || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9'));
  if (!plain) return quoted(name);
  const [token] = scanSync(name).tokens;
  return token?.keywordName === 'NO_KEYWORD' || token.keywordName === 'UNRESERVED_KEYWORD' ? name : quoted(name);
}

function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function rel(schema: string, name: string): string {
  return `${quoted(schema)}.${quoted(name)}`;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
