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
 * - an enum value rename: ALTER TYPE … RENAME VALUE, where pg-delta would
 *   rebuild the type.
 *
 * pg-delta then plans from the rewritten facts to the desired ones, and the
 * rename statements run first. Definitions that name a renamed object
 * (an index's or a foreign key's table, a view's FROM, a default's sequence)
 * are compared with their desired twin through PostgreSQL's parse trees: equal
 * once the renames are applied, the desired text is what the server prints
 * after the rename; otherwise the current text stays and pg-delta rebuilds the
 * object as it would have anyway.
 */
import { buildFactBase, contentHash, encodeId, type Action, type DependencyEdge, type Fact, type FactBase, type Payload, type StableId } from '@supabase/pg-delta';
import { parseSync, scanSync } from 'libpg-query';
import { sqlParser } from '../sql-parser.js';

// definitions are compared as parse trees; the WebAssembly loads once
await sqlParser();

export interface TableRename {
  schema: string;
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

type Named = { kind: string; schema?: string; table?: string; name?: string; target?: StableId };

/**
 * The current facts after the given table and enum value renames (each must
 * exist in `current`; the caller checks), with the children renamed along
 * with their table, and the statements that do it.
 */
export function renameInCurrent(current: FactBase, desired: FactBase, tables: readonly TableRename[], enumValues: readonly EnumValueRename[]): RenamedSource {
  const tableMap = new Map(tables.map((t) => [`${t.schema}.${t.from}`, t.to]));
  const byTable = (id: StableId): StableId => renameTableIn(id, tableMap);
  const actions: Action[] = tables.map((t) =>
    renameAction(`ALTER TABLE ${rel(t.schema, t.from)} RENAME TO ${quoted(t.to)}`, { kind: 'table', schema: t.schema, name: t.from } as StableId, { kind: 'table', schema: t.schema, name: t.to } as StableId),
  );

  // children that follow their table: same kind, same new parent, equal content, one on each side
  const childMap = new Map<string, StableId>();
  // a grant, comment or label follows its target
  const mapped = (id: StableId): StableId => {
    const renamed = childMap.get(encodeId(id)) ?? byTable(id);
    return 'target' in renamed ? ({ ...renamed, target: mapped(renamed.target) } as StableId) : renamed;
  };
  const sequenceMap = new Map<string, string>();
  const enumMap = new Map<string, Map<string, string>>();
  const names: NameMap = { tables: tableMap, sequences: sequenceMap, enumValues: enumMap };
  const currentFacts = current.facts();
  const desiredFacts = desired.facts();
  for (const table of tables) {
    const newTable = { kind: 'table', schema: table.schema, name: table.to } as StableId;
    if (!desired.has(newTable)) continue;
    for (const kind of ['constraint', 'index', 'sequence'] as const) {
      const gone = currentFacts.filter((f) => f.id.kind === kind && belongsTo(f, table.schema, table.from) && !desired.has(byTable(f.id)));
      const fresh = desiredFacts.filter((f) => f.id.kind === kind && belongsTo(f, table.schema, table.to) && !current.has(f.id));
      for (const old of gone) {
        const same = (a: Fact, b: Fact) => samePayload(current, a, desired, b, names);
        const twins = fresh.filter((f) => same(old, f));
        const rivals = gone.filter((g) => twins.length === 1 && same(g, twins[0]!));
        if (twins.length !== 1 || rivals.length !== 1) continue;
        const to = twins[0].id;
        childMap.set(encodeId(old.id), to);
        if (kind === 'sequence') sequenceMap.set(`${(old.id as Named).schema}.${(old.id as Named).name}`, (to as Named).name!);
        actions.push(renameAction(childRenameSql(byTable(old.id), to), old.id, to));
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
    if (fact.id.kind === 'sequence' && owner) renamed.payload = { ...fact.payload, ownedBy: { ...owner, table: tableMap.get(`${owner.schema}.${owner.table}`) ?? owner.table } };
    // a definition naming a renamed object: the desired text when it is the same definition
    const twin = desired.get(id);
    const hash = renamed.payload === fact.payload ? current.hashOf(fact.id) : contentHash(renamed.payload);
    if (twin && desired.hashOf(id) !== hash && sameModuloRenames(renamed, twin, names)) return { ...renamed, payload: twin.payload };
    return renamed;
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
  return {
    sql,
    verb: 'alter',
    produces: [to],
    consumes: [from],
    destroys: [from],
    releases: [],
    transactionality: 'transactional',
    lockClass: 'accessExclusive',
    newSegmentBefore: false,
    dataLoss: 'none',
    rewriteRisk: false,
  };
}

interface NameMap {
  /** "schema.old" → new table name */
  tables: ReadonlyMap<string, string>;
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
    return contentHash(currentRest) === contentHash(desiredRest) && (currentOwner as { column?: string } | null)?.column === (desiredOwner as { column?: string } | null)?.column;
  }
  return currentBase.hashOf(current.id) === desiredBase.hashOf(desired.id) || sameModuloRenames(current, desired, names);
}

/** The definitions (`def`, a default's `expr`) of two facts are the same statement once the renames apply; other payload fields must be equal. */
function sameModuloRenames(current: Fact, desired: Fact, names: NameMap): boolean {
  const field = typeof current.payload.def === 'string' ? 'def' : typeof current.payload.expr === 'string' ? 'expr' : undefined;
  if (field === undefined || typeof desired.payload[field] !== 'string') return false;
  const { [field]: currentText, ...currentRest } = current.payload;
  const { [field]: desiredText, ...desiredRest } = desired.payload;
  if (contentHash(currentRest) !== contentHash(desiredRest)) return false;
  const wrap = WRAPPERS[current.id.kind];
  if (wrap === undefined) return false;
  try {
    const tree = (text: string, renames?: NameMap) => contentHash({ tree: normalize(parseSync(wrap(text)).stmts, renames) } as Payload);
    return tree(currentText as string, names) === tree(desiredText as string);
  } catch {
    // not parseable as we wrap it: not proven the same
    return false;
  }
}

/** How each kind's definition text becomes a whole statement for the parser. */
const WRAPPERS: Record<string, (text: string) => string> = {
  index: (def) => def,
  trigger: (def) => def,
  constraint: (def) => `ALTER TABLE t ADD CONSTRAINT c ${def}`,
  view: (def) => def,
  materializedView: (def) => def,
  default: (expr) => `SELECT ${expr}`,
};

/** A parse tree without positions or an index's own name, with renamed tables and sequences under their new names. */
function normalize(node: unknown, renames?: NameMap): unknown {
  if (Array.isArray(node)) return node.map((item) => normalize(item, renames));
  if (node === null || typeof node !== 'object') return node;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'location' || key === 'stmt_location' || key === 'stmt_len' || key === 'idxname') continue;
    result[key] = normalize(value, renames);
  }
  if (!renames) return result;
  // a table reference: public.fills
  if (typeof result.relname === 'string' && typeof result.schemaname === 'string') {
    result.relname = renames.tables.get(`${result.schemaname}.${result.relname}`) ?? result.relname;
  }
  // a column qualified by its table: fills.id
  const fields = result.fields as { String?: { sval: string } }[] | undefined;
  if ('fields' in result && Array.isArray(fields) && fields.length >= 2) {
    const qualifier = fields[fields.length - 2]?.String;
    const schema = fields.length >= 3 ? fields[fields.length - 3]?.String?.sval : undefined;
    if (qualifier) {
      const to = [...renames.tables].find(([from]) => from.endsWith(`.${qualifier.sval}`) && (schema === undefined || from === `${schema}.${qualifier.sval}`))?.[1];
      if (to !== undefined) qualifier.sval = to;
    }
  }
  // a sequence in a default: nextval('public.fills_id_seq'::regclass)
  const typeCast = result.TypeCast as { arg?: { A_Const?: { sval?: { sval: string } } }; typeName?: { names?: { String: { sval: string } }[] } } | undefined;
  const constant = typeCast?.arg?.A_Const?.sval;
  const typeName = typeCast?.typeName?.names?.map((n) => n.String.sval) ?? [];
  if (constant && typeName.at(-1) === 'regclass') constant.sval = renamedRegclass(constant.sval, renames.sequences);
  // a renamed enum label: 'sell'::public.side
  if (constant && typeName.length === 2) constant.sval = renames.enumValues.get(typeName.join('.'))?.get(constant.sval) ?? constant.sval;
  return result;
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
