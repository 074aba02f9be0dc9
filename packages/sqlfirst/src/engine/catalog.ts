/**
 * The engine's facts about a database, described as our own catalog model
 * (src/typegen/catalog-model.ts) for the Drizzle generator.
 *
 * Almost everything comes from pg-delta's facts. pg-delta extracts with
 * `search_path = pg_catalog`, so its SQL texts qualify every object of
 * `public`; they are read here with PostgreSQL's own scanner and parser
 * (libpg-query) and printed back with `public` unqualified, as a session
 * whose search_path holds public prints them. Two things pg-delta does not
 * record are read by readCatalogSupplement, in one query per database: the
 * columns of views (and their pretty-printed definitions), and the operator
 * class of every index key (pg_get_indexdef leaves a default one out).
 */
import { parseSync, scanSync, type ScanToken } from 'libpg-query';
import { sqlParser } from '../sql-parser.js';
import type { Fact, FactBase } from '@supabase/pg-delta';
import type {
  Catalog,
  CatalogCheck,
  CatalogColumn,
  CatalogDefault,
  CatalogEnum,
  CatalogForeignKey,
  CatalogIndex,
  CatalogIndexKey,
  CatalogPolicy,
  CatalogPrimaryKey,
  CatalogSequence,
  CatalogTable,
  CatalogType,
  CatalogUnique,
  CatalogView,
  ReferentialAction,
} from '../typegen/catalog-model.js';
import type { Queryable, SchemaState } from './state.js';

/** What pg-delta's facts lack, read from the database that holds the state. */
export interface CatalogSupplement {
  views: SupplementView[];
  /** operator class names of each index's key columns, in order, by `schema.index` */
  operatorClasses: Record<string, string[]>;
}

export interface SupplementView {
  schema: string;
  name: string;
  materialized: boolean;
  /** pg_get_viewdef(view, true) under search_path pg_catalog */
  definition: string;
  columns: { name: string; type: string; notNull: boolean }[];
}

const SUPPLEMENT_QUERY = `
SELECT
  (SELECT coalesce(json_agg(json_build_object(
            'schema', n.nspname, 'name', c.relname, 'materialized', c.relkind = 'm',
            'definition', pg_get_viewdef(c.oid, true),
            'columns', (SELECT coalesce(json_agg(json_build_object(
                                 'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'notNull', a.attnotnull)
                               ORDER BY a.attnum), '[]'::json)
                        FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
          ORDER BY n.nspname, c.relname), '[]'::json)
   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY($1)) AS views,
  (SELECT coalesce(json_object_agg(n.nspname || '.' || ic.relname,
            (SELECT json_agg(oc.opcname ORDER BY k.position)
             FROM unnest(i.indclass::oid[]) WITH ORDINALITY AS k(oid, position)
             JOIN pg_opclass oc ON oc.oid = k.oid)), '{}'::json)
   FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
   WHERE n.nspname = ANY($1)) AS operator_classes`;

/**
 * Reads, in one query, the facts the generator needs that pg-delta does not
 * extract. Run it on the database the state was read from (the shadow), with
 * the same schemas as describeCatalog.
 */
export async function readCatalogSupplement(pool: Queryable, schemas: string[]): Promise<CatalogSupplement> {
  const client = await pool.connect();
  try {
    // the same canonical search_path as pg-delta's extraction, so both are printed alike
    await client.query('BEGIN READ ONLY');
    await client.query("SET LOCAL search_path TO 'pg_catalog'");
    const { rows } = await client.query<{ views: SupplementView[]; operator_classes: Record<string, string[]> }>(SUPPLEMENT_QUERY, [schemas]);
    await client.query('COMMIT');
    return { views: rows[0].views, operatorClasses: rows[0].operator_classes };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Describes the objects of `schemas` in a state; needs the supplement read from the same database. */
export async function describeCatalog(state: SchemaState, schemas: string[], supplement: CatalogSupplement): Promise<Catalog> {
  await sqlParser();
  const inScope = new Set(schemas);
  const facts = (state.facts as FactBase).facts().filter((fact) => inScope.has(schemaOf(fact)));
  const byKind = groupBy(facts, (fact) => fact.id.kind);
  const enums = (byKind.get('type') ?? []).flatMap(describeEnum);
  const enumNames = new Set(enums.map((e) => `${e.schema}.${e.name}`));
  const describeType = (sql: string) => parseType(sql, enumNames);

  const childrenOf = groupBy(facts.filter((fact) => fact.parent), (fact) => key(fact.parent as Named));
  const defaults = new Map((byKind.get('default') ?? []).map((fact) => [key(fact.parent as Named), (fact.payload as { expr: string }).expr]));
  const sequenceFacts = byKind.get('sequence') ?? [];
  const ownedSequences = new Map<string, string>();
  for (const fact of sequenceFacts) {
    const owner = payloadOf<SequencePayload>(fact).ownedBy;
    if (owner) ownedSequences.set(`column:${owner.schema}.${owner.table}.${owner.column}`, regclassName(fact.id as Named));
  }

  // a partition is queried through its partitioned table, which is the one described
  const tableFacts = (byKind.get('table') ?? []).filter((fact) => payloadOf<{ partitionBound: string | null }>(fact).partitionBound === null);
  const tables = sortByName(tableFacts).map((tableFact): CatalogTable => {
    const table = tableFact.id as Named;
    const children = childrenOf.get(key(table)) ?? [];
    const columns = children
      .filter((fact) => fact.id.kind === 'column')
      .sort((a, b) => payloadOf<ColumnPayload>(a)._position - payloadOf<ColumnPayload>(b)._position)
      .map((fact) => describeColumn(fact, defaults.get(key(fact.id as Named)), ownedSequences.get(key(fact.id as Named)), describeType));
    const constraints = children.filter((fact) => fact.id.kind === 'constraint').map((fact) => describeConstraint(fact));
    const position = new Map(columns.map((column, index) => [column.name, index]));
    return {
      schema: table.schema,
      name: table.name,
      columns,
      primaryKey: constraints.flatMap((c) => (c.type === 'primaryKey' ? [c.value] : []))[0],
      uniques: constraints.flatMap((c) => (c.type === 'unique' ? [c.value] : [])).sort(byName),
      // creation order is not in the facts: a key's first column position is the closest stable stand-in
      foreignKeys: constraints
        .flatMap((c) => (c.type === 'foreignKey' ? [c.value] : []))
        .sort((a, b) => (position.get(a.columns[0]) ?? 0) - (position.get(b.columns[0]) ?? 0) || byName(a, b)),
      checks: constraints.flatMap((c) => (c.type === 'check' ? [c.value] : [])).sort(byName),
      indexes: children
        .filter((fact) => fact.id.kind === 'index')
        .map((fact) => describeIndex(fact, supplement.operatorClasses[`${(fact.id as Named).schema}.${(fact.id as Named).name}`] ?? []))
        .sort(byName),
      policies: children.filter((fact) => fact.id.kind === 'policy').map(describePolicy).sort(byName),
    };
  });

  const sequences = sortByName(sequenceFacts)
    .filter((fact) => !payloadOf<SequencePayload>(fact).ownedBy)
    .map((fact): CatalogSequence => {
      const { start, increment, minValue, maxValue, cache, cycle } = payloadOf<SequencePayload>(fact);
      const { schema, name } = fact.id as Named;
      return { schema, name, start, increment, minValue, maxValue, cache, cycle };
    });

  const viewOptions = new Map([...(byKind.get('view') ?? []), ...(byKind.get('materializedView') ?? [])].map((fact) => [key(fact.id as Named), (fact.payload as { reloptions: string[] | null }).reloptions]));
  const views = supplement.views
    .filter((view) => inScope.has(view.schema))
    .map((view): CatalogView => ({
      schema: view.schema,
      name: view.name,
      materialized: view.materialized,
      definition: oneLine(unqualifyPublic(view.definition)),
      columns: view.columns.map((column) => ({ name: column.name, type: describeType(column.type), notNull: column.notNull })),
      with: storageOptions(viewOptions.get(`${view.materialized ? 'materializedView' : 'view'}:${view.schema}.${view.name}`) ?? null),
    }));

  return { schemas: [...inScope].sort(), enums, sequences, tables, views };
}

// ---------------------------------------------------------------------------
// facts

interface Named {
  kind: string;
  schema: string;
  name: string;
  table?: string;
}

interface ColumnPayload {
  _position: number;
  type: string;
  notNull: boolean;
  identity: {
    generation: string;
    sequence: { schema: string; name: string } | null;
    options: { increment: string; start: string; minValue: string; maxValue: string; cache: string; cycle: boolean } | null;
  } | null;
  generatedExpr: string | null;
}

interface SequencePayload {
  start: string;
  increment: string;
  minValue: string;
  maxValue: string;
  cache: string;
  cycle: boolean;
  ownedBy: { schema: string; table: string; column: string } | null;
}

function payloadOf<T>(fact: Fact): T {
  return fact.payload as unknown as T;
}

function schemaOf(fact: Fact): string {
  const id = fact.id as { kind: string; schema?: string; name?: string };
  return id.kind === 'schema' ? (id.name as string) : (id.schema ?? '');
}

function key(id: Named): string {
  return id.table === undefined ? `${id.kind}:${id.schema}.${id.name}` : `${id.kind}:${id.schema}.${id.table}.${id.name}`;
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group) group.push(item);
    else groups.set(keyOf(item), [item]);
  }
  return groups;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: { name: string }, b: { name: string }): number {
  return compareText(a.name, b.name);
}

function sortByName(facts: Fact[]): Fact[] {
  return [...facts].sort((a, b) => compareText((a.id as Named).schema, (b.id as Named).schema) || compareText((a.id as Named).name, (b.id as Named).name));
}

function describeEnum(fact: Fact): CatalogEnum[] {
  const payload = fact.payload as { variant: string; values?: string[] };
  if (payload.variant !== 'enum') return [];
  const { schema, name } = fact.id as Named;
  return [{ schema, name, values: payload.values ?? [] }];
}

function describeColumn(fact: Fact, defaultExpression: string | undefined, ownSequence: string | undefined, describeType: (sql: string) => CatalogType): CatalogColumn {
  const payload = payloadOf<ColumnPayload>(fact);
  const type = describeType(payload.type);
  const column: CatalogColumn = { name: (fact.id as Named).name, type, notNull: payload.notNull };
  if (payload.identity) {
    const { sequence, options, generation } = payload.identity;
    column.identity = {
      generation: generation === 'a' ? 'always' : 'byDefault',
      sequence: sequence ? regclassName(sequence) : '',
      start: options?.start ?? '',
      increment: options?.increment ?? '',
      minValue: options?.minValue ?? '',
      maxValue: options?.maxValue ?? '',
      cache: options?.cache ?? '',
      cycle: options?.cycle ?? false,
    };
  }
  if (payload.generatedExpr !== null) column.generated = unqualifyPublic(payload.generatedExpr);
  if (defaultExpression !== undefined) {
    const serial = ownSequence !== undefined && type.dimensions === 0 ? serialKind(type.name, defaultExpression, ownSequence) : undefined;
    if (serial) column.serial = serial;
    else column.default = describeDefault(defaultExpression);
  }
  return column;
}

const SERIAL_TYPES: Record<string, CatalogColumn['serial']> = { int4: 'serial', int8: 'bigserial', int2: 'smallserial' };

/** A serial column: an integer whose default is `nextval('<its own sequence>'::regclass)`. */
function serialKind(typeName: string, defaultExpression: string, ownSequence: string): CatalogColumn['serial'] {
  const kind = SERIAL_TYPES[typeName];
  if (!kind) return undefined;
  const call = expressionNode(defaultExpression) as { FuncCall?: { funcname: StringNode[]; args?: Node[] } };
  const name = call.FuncCall?.funcname.map((part) => part.String.sval).join('.');
  const argument = call.FuncCall?.args?.[0] as { TypeCast?: { arg: { A_Const?: { sval?: { sval: string } } } } } | undefined;
  const sequence = argument?.TypeCast?.arg.A_Const?.sval?.sval;
  return (name === 'nextval' || name === 'pg_catalog.nextval') && sequence !== undefined && unqualifyPublic(sequence) === unqualifyPublic(ownSequence) ? kind : undefined;
}

function describeDefault(raw: string): CatalogDefault {
  const expression = unqualifyPublic(raw);
  const node = expressionNode(expression) as { TypeCast?: { arg: Node }; A_Const?: unknown };
  const constant = node.A_Const ? node : node.TypeCast && (node.TypeCast.arg as { A_Const?: unknown }).A_Const ? node.TypeCast.arg : undefined;
  if (!constant) return { expression };
  // the constant's own text: its tokens from where it starts to the cast, if any
  const tokens = tokensOf(expression);
  const cast = tokens.findIndex((token) => token.text === '::');
  return { expression, constant: cast === -1 ? expression : textBetween(expression, tokens[0], tokens[cast - 1]) };
}

const POLICY_COMMANDS: Record<string, CatalogPolicy['command']> = { '*': 'all', r: 'select', a: 'insert', w: 'update', d: 'delete' };

function describePolicy(fact: Fact): CatalogPolicy {
  const payload = payloadOf<{ cmd: string; permissive: boolean; usingExpr: string | null; checkExpr: string | null; roles: string[] }>(fact);
  const policy: CatalogPolicy = {
    name: (fact.id as Named).name,
    permissive: payload.permissive,
    command: POLICY_COMMANDS[payload.cmd] ?? 'all',
    roles: payload.roles.map((role) => (role === 'PUBLIC' ? 'public' : role)),
  };
  if (payload.usingExpr !== null) policy.using = unqualifyPublic(payload.usingExpr);
  if (payload.checkExpr !== null) policy.withCheck = unqualifyPublic(payload.checkExpr);
  return policy;
}

// ---------------------------------------------------------------------------
// constraints

type Described =
  | { type: 'primaryKey'; value: CatalogPrimaryKey }
  | { type: 'unique'; value: CatalogUnique }
  | { type: 'foreignKey'; value: CatalogForeignKey }
  | { type: 'check'; value: CatalogCheck }
  | { type: 'other'; value: { name: string } };

interface StringNode {
  String: { sval: string };
}
type Node = Record<string, unknown>;

const ACTIONS: Record<string, ReferentialAction> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' };

function describeConstraint(fact: Fact): Described {
  const name = (fact.id as Named).name;
  const { def } = fact.payload as { def: string };
  const statement = firstStatement<{ AlterTableStmt: { cmds: { AlterTableCmd: { def: { Constraint: Node } } }[] } }>(`ALTER TABLE t ADD CONSTRAINT c ${def}`);
  const constraint = statement.AlterTableStmt.cmds[0].AlterTableCmd.def.Constraint as {
    contype: string;
    keys?: StringNode[];
    nulls_not_distinct?: boolean;
    fk_attrs?: StringNode[];
    pk_attrs?: StringNode[];
    pktable?: { schemaname?: string; relname: string };
    fk_upd_action?: string;
    fk_del_action?: string;
  };
  const names = (list?: StringNode[]) => (list ?? []).map((item) => item.String.sval);
  switch (constraint.contype) {
    case 'CONSTR_PRIMARY':
      return { type: 'primaryKey', value: { name, columns: names(constraint.keys) } };
    case 'CONSTR_UNIQUE':
      return { type: 'unique', value: { name, columns: names(constraint.keys), nullsNotDistinct: constraint.nulls_not_distinct === true } };
    case 'CONSTR_FOREIGN':
      return {
        type: 'foreignKey',
        value: {
          name,
          columns: names(constraint.fk_attrs),
          referencedSchema: constraint.pktable?.schemaname ?? 'public',
          referencedTable: constraint.pktable?.relname ?? '',
          referencedColumns: names(constraint.pk_attrs),
          onUpdate: ACTIONS[constraint.fk_upd_action ?? 'a'],
          onDelete: ACTIONS[constraint.fk_del_action ?? 'a'],
        },
      };
    case 'CONSTR_CHECK':
      return { type: 'check', value: { name, expression: unqualifyPublic(checkCondition(def)) } };
    default:
      // exclusion constraints have no Drizzle form
      return { type: 'other', value: { name } };
  }
}

/** `CHECK ((a > 0))` → `a > 0`: inside CHECK's parentheses, without the pair PostgreSQL adds around a whole condition. */
function checkCondition(def: string): string {
  const tokens = tokensOf(def);
  const open = tokens.findIndex((token) => token.text === '(');
  const close = matchingParenthesis(tokens, open);
  return withoutOuterParentheses(def, tokens.slice(open + 1, close));
}

// ---------------------------------------------------------------------------
// indexes

interface IndexElem {
  name?: string;
  expr?: Node;
  ordering: string;
  nulls_ordering: string;
}

function describeIndex(fact: Fact, operatorClasses: string[]): CatalogIndex {
  const def = unqualifyPublic((fact.payload as { def: string }).def);
  const statement = firstStatement<{ IndexStmt: Node }>(def).IndexStmt as {
    unique?: boolean;
    accessMethod: string;
    indexParams: { IndexElem: IndexElem }[];
    options?: { DefElem: { defname: string; arg: Node } }[];
    whereClause?: Node;
  };
  const tokens = tokensOf(def);
  const elements = indexElementTokens(tokens);
  const keys = statement.indexParams.map(({ IndexElem: element }, index): CatalogIndexKey => {
    const descending = element.ordering === 'SORTBY_DESC';
    const key: CatalogIndexKey = {
      operatorClass: operatorClasses[index] ?? '',
      descending,
      nullsFirst: element.nulls_ordering === 'SORTBY_NULLS_FIRST' || (element.nulls_ordering === 'SORTBY_NULLS_DEFAULT' && descending),
    };
    if (element.name !== undefined) key.column = element.name;
    else key.expression = indexExpression(def, elements[index]);
    return key;
  });
  const index: CatalogIndex = {
    name: (fact.id as Named).name,
    unique: statement.unique === true,
    method: statement.accessMethod,
    keys,
    with: Object.fromEntries((statement.options ?? []).map(({ DefElem }) => [DefElem.defname, constantText(DefElem.arg)])),
  };
  if (statement.whereClause) {
    const where = tokens.findIndex((token, i) => token.text.toLowerCase() === 'where' && i > (elements.at(-1)?.at(-1) ? tokens.indexOf(elements.at(-1)!.at(-1)!) : 0));
    index.where = textBetween(def, tokens[where + 1], tokens[tokens.length - 1]);
  }
  return index;
}

/** The tokens of each element of `USING method (…)`, split at its top-level commas. */
function indexElementTokens(tokens: ScanToken[]): ScanToken[][] {
  const using = tokens.findIndex((token) => token.text.toLowerCase() === 'using');
  const open = using + 2;
  const close = matchingParenthesis(tokens, open);
  const elements: ScanToken[][] = [[]];
  let depth = 0;
  for (const token of tokens.slice(open + 1, close)) {
    if (token.text === '(') depth++;
    if (token.text === ')') depth--;
    if (token.text === ',' && depth === 0) elements.push([]);
    else elements.at(-1)!.push(token);
  }
  return elements;
}

/**
 * An expression key as pg_get_indexdef prints one column: in the whole
 * definition it is a function call or a parenthesised expression, followed by
 * an optional operator class and ordering.
 */
function indexExpression(def: string, element: ScanToken[]): string {
  const open = element.findIndex((token) => token.text === '(');
  const close = matchingParenthesis(element, open);
  if (open === 0) return withoutOuterParentheses(def, element.slice(0, close + 1));
  return textBetween(def, element[0], element[close]);
}

function constantText(node: Node): string {
  const value = Object.values(node)[0] as Record<string, unknown>;
  return String(Object.values(value)[0]);
}

function storageOptions(options: string[] | null): Record<string, string> {
  return Object.fromEntries((options ?? []).map((option) => {
    const at = option.indexOf('=');
    return [option.slice(0, at), option.slice(at + 1)];
  }));
}

// ---------------------------------------------------------------------------
// types

/** A type as format_type prints it, read by the parser: `character varying(100)[]` → varchar, [100], 1 dimension. */
function parseType(sql: string, enumNames: Set<string>): CatalogType {
  const statement = firstStatement<{
    SelectStmt: { targetList: { ResTarget: { val: { TypeCast: { typeName: { names: StringNode[]; typmods?: { A_Const: { ival?: { ival?: number } } }[]; arrayBounds?: unknown[] } } } } }[] };
  }>(`SELECT NULL::${sql}`);
  const typeName = statement.SelectStmt.targetList[0].ResTarget.val.TypeCast.typeName;
  const names = typeName.names.map((part) => part.String.sval);
  // pg-delta prints with search_path = pg_catalog: a user type is always schema-qualified
  const userDefined = names.length === 2 && names[0] !== 'pg_catalog';
  const name = names.at(-1) as string;
  const type: CatalogType = {
    sql: unqualifyPublic(sql),
    name,
    modifiers: (typeName.typmods ?? []).map((modifier) => modifier.A_Const.ival?.ival ?? 0),
    dimensions: typeName.arrayBounds?.length ?? 0,
    isEnum: userDefined && enumNames.has(`${names[0]}.${name}`),
    isOther: userDefined && !enumNames.has(`${names[0]}.${name}`),
  };
  if (userDefined) type.schema = names[0];
  return type;
}

/** A sequence name as a regclass prints with public on the search path: `events_id_seq`, `audit.events_id_seq`. */
function regclassName(id: { schema: string; name: string }): string {
  const name = quoteIdentifier(id.name);
  return id.schema === 'public' ? name : `${quoteIdentifier(id.schema)}.${name}`;
}

/** quote_ident: plain lower-case names that are no keyword (beyond unreserved) stay bare. */
export function quoteIdentifier(name: string): string {
  const plain = /^[a-z_][a-z0-9_$]*$/.test(name);
  const token = plain ? scanSync(name).tokens : [];
  const keyword = token.length === 1 && token[0].keywordKind > 1;
  return plain && !keyword ? name : `"${name.replace(/"/g, '""')}"`;
}

// ---------------------------------------------------------------------------
// SQL text, token by token

function tokensOf(sql: string): ScanToken[] {
  return scanSync(sql).tokens;
}

/** Source text from the start of `first` to the end of `last` (the scanner counts UTF-8 bytes). */
function textBetween(sql: string, first: ScanToken, last: ScanToken): string {
  return Buffer.from(sql).subarray(first.start, last.end).toString();
}

function matchingParenthesis(tokens: ScanToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i].text === '(') depth++;
    if (tokens[i].text === ')' && --depth === 0) return i;
  }
  return tokens.length - 1;
}

/** The text of `tokens`, without one pair of parentheses when that pair encloses all of it. */
function withoutOuterParentheses(sql: string, tokens: ScanToken[]): string {
  const wrapped = tokens.length > 1 && tokens[0].text === '(' && matchingParenthesis(tokens, 0) === tokens.length - 1;
  return wrapped ? textBetween(sql, tokens[1], tokens[tokens.length - 2]) : textBetween(sql, tokens[0], tokens[tokens.length - 1]);
}

/** Types whose constants are object names, printed qualified unless visible: `'public.seq'::regclass`. */
const NAME_CONSTANT_TYPES = new Set(['regclass', 'regproc', 'regprocedure', 'regoper', 'regoperator', 'regtype', 'regconfig', 'regdictionary', 'regcollation']);

/**
 * Removes the `public.` qualifier from names, and from the object-name
 * constants of reg* casts: what PostgreSQL prints for a session whose
 * search_path holds public. Works on tokens, so other string literals and
 * quoted identifiers are left alone.
 */
export function unqualifyPublic(sql: string): string {
  const tokens = tokensOf(sql);
  const bytes = Buffer.from(sql);
  const pieces: Buffer[] = [];
  let from = 0;
  const cut = (start: number, end: number) => {
    pieces.push(bytes.subarray(from, start));
    from = end;
  };
  tokens.forEach((token, i) => {
    const next = tokens[i + 1];
    if (token.text === 'public' && next?.text === '.' && next.start === token.end && tokens[i - 1]?.text !== '.') cut(token.start, next.end);
    const nameConstant = token.text.startsWith("'public.") && next?.text === '::' && NAME_CONSTANT_TYPES.has(tokens[i + 2]?.text ?? '');
    if (nameConstant) cut(token.start + 1, token.start + 1 + 'public.'.length);
  });
  pieces.push(bytes.subarray(from));
  return Buffer.concat(pieces).toString();
}

/** Whitespace between tokens collapsed to one space; literals keep theirs. A final `;` is dropped. */
function oneLine(sql: string): string {
  const tokens = tokensOf(sql).filter((token, i, all) => !(token.text === ';' && i === all.length - 1));
  return tokens.map((token, i) => (i > 0 && token.start > tokens[i - 1].end ? ' ' : '') + textBetween(sql, token, token)).join('');
}

function expressionNode(expression: string): Node {
  const statement = firstStatement<{ SelectStmt: { targetList: { ResTarget: { val: Node } }[] } }>(`SELECT ${expression}`);
  return statement.SelectStmt.targetList[0].ResTarget.val;
}

/** The parse tree of a statement PostgreSQL printed itself, so it always parses. */
function firstStatement<T>(sql: string): T {
  const statement = parseSync(sql).stmts?.[0]?.stmt;
  if (!statement) throw new Error(`PostgreSQL's parser found no statement in ${JSON.stringify(sql)}`);
  return statement as unknown as T;
}
