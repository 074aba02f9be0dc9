/**
 * Renames without data loss. A rename is declared in schema.sql on the
 * renamed object's line, sqldef's convention:
 *
 *   CREATE TABLE trades ( -- @renamed from=fills
 *     average_price numeric(20,8), -- @renamed from=avg_price
 *
 *   CREATE TYPE side AS ENUM ('buy', 'sell_short' -- @renamed from=sell
 *
 * The directives are found with the PostgreSQL scanner (comments with their
 * positions) and attached, through the parse tree, to the statement and the
 * element they follow (after an enum's value, the value). Table and enum
 * value renames are made by sqlfirst (renamed-source.ts: a table's
 * constraints, indexes and sequences are renamed with it); the others become
 * pg-delta accepted renames (stable ids of the desired objects and of their
 * old names), which pg-delta applies only when the old and new objects are
 * structurally the same. A directive whose old name is not in the target is
 * reported and ignored, so a second run is a no-op with the directive still
 * in the file; so is one whose new name is there too (a swap, a chain), which
 * a second run could not tell from a rename still to make.
 */
import { encodeId, type FactBase, type StableId } from '@supabase/pg-delta';
import type { MigrationPlan } from './plan.js';
import { renameInCurrent } from './renamed-source.js';
import type { SchemaState } from './state.js';
import { sqlParser } from '../sql-parser.js';

/** A confirmed rename, in the engine's ids. */
export interface Rename {
  kind: string;
  /** schema-qualified, e.g. public.orders.avg_price */
  from: string;
  to: string;
  /** "public.orders.avg_price → public.orders.average_price" */
  text: string;
  /** for an enum value, both the enum type */
  readonly ids: { readonly from: StableId; readonly to: StableId };
  /** an enum value's old and new label */
  readonly value?: { readonly from: string; readonly to: string };
}

/** A `-- @renamed from=old` comment attached to the object it follows. */
export interface RenameDirective {
  file: string;
  line: number;
  /** the engine's kind of the renamed object */
  kind: 'table' | 'column' | 'constraint' | 'index' | 'view' | 'materializedView' | 'type' | 'enumValue';
  /** the object's new name as written (an enum value's type); schema undefined when unqualified */
  schema?: string;
  /** the table, for columns and constraints */
  table?: string;
  name: string;
  /** an enum value's new label */
  value?: string;
  from: string;
}

export interface SchemaFile {
  path: string;
  sql: string;
}

type Tree = { readonly [key: string]: unknown };

const DIRECTIVE = '@renamed';

/**
 * The rename directives of schema files, and notes about directives that
 * cannot be attached to a renameable object (printed by the caller).
 */
export async function readRenameDirectives(files: SchemaFile[]): Promise<{ directives: RenameDirective[]; notes: string[] }> {
  const { parseSync, scanSync } = await sqlParser();
  const directives: RenameDirective[] = [];
  const notes: string[] = [];
  for (const file of files) {
    if (file.sql.trim() === '') continue;
    // positions are UTF-8 byte offsets
    const bytes = Buffer.from(file.sql, 'utf8');
    const lineOf = (offset: number) => bytes.subarray(0, offset).toString('utf8').split('\n').length;
    const tokens = scanSync(file.sql).tokens;
    const statements = (parseSync(file.sql) as { stmts: { stmt: Tree; stmt_location?: number }[] }).stmts;
    for (const [position, token] of tokens.entries()) {
      if (token.tokenName !== 'SQL_COMMENT' && token.tokenName !== 'C_COMMENT') continue;
      const from = directiveFrom(token.text);
      if (from === undefined) continue;
      const where = `${file.path} line ${lineOf(token.start)}`;
      const previous = tokens.slice(0, position).reverse().find((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
      if (!previous || lineOf(previous.start) !== lineOf(token.start)) {
        notes.push(`${where}: a @renamed directive must end the line of the object it renames; ignored.`);
        continue;
      }
      if (from === '') {
        notes.push(`${where}: @renamed needs from=<old name>; ignored.`);
        continue;
      }
      const statement = statements.filter((s) => (s.stmt_location ?? 0) <= previous.start).at(-1);
      // enum values carry no positions in the parse tree: the string constants before the comment count them
      const strings = tokens.slice(0, position).filter((t) => t.tokenName === 'SCONST' && t.start >= (statement?.stmt_location ?? 0)).length;
      const target = statement && attach(statement.stmt, token.start, strings);
      if (!target) {
        notes.push(`${where}: @renamed from=${from} does not follow a table, column, constraint, index, view, type or enum value; ignored.`);
        continue;
      }
      directives.push({ file: file.path, line: lineOf(token.start), from, ...target });
    }
  }
  return { directives, notes };
}

/** The old name of `-- @renamed from=old` (or from="Old Name"), '' when from= is missing, undefined when the comment is no directive. */
export function directiveFrom(comment: string): string | undefined {
  const body = (comment.startsWith('--') ? comment.slice(2) : comment.slice(2, -2)).trim();
  if (body !== DIRECTIVE && !body.startsWith(`${DIRECTIVE} `)) return undefined;
  const rest = body.slice(DIRECTIVE.length).trim();
  if (!rest.startsWith('from=')) return '';
  const value = rest.slice('from='.length);
  if (!value.startsWith('"')) return value.split(' ')[0];
  // a quoted identifier: "" stands for one "
  let name = '';
  for (let i = 1; i < value.length; i += 1) {
    if (value[i] !== '"') name += value[i];
    else if (value[i + 1] === '"') name += value[i++];
    else return name;
  }
  return '';
}

/** The object a directive at `offset` renames: the element it follows inside the statement, else the statement's object. */
function attach(statement: Tree, offset: number, strings: number): Omit<RenameDirective, 'file' | 'line' | 'from'> | undefined {
  const [kind, node] = Object.entries(statement)[0] as [string, Tree];
  const relation = (value: unknown) => value as { schemaname?: string; relname: string };
  if (kind === 'CreateStmt') {
    const table = relation(node.relation);
    const elements = ((node.tableElts as Tree[] | undefined) ?? []).filter((element) => location(element) < offset);
    const element = elements.at(-1);
    if (!element) return { kind: 'table', schema: table.schemaname, name: table.relname };
    if ('ColumnDef' in element) return { kind: 'column', schema: table.schemaname, table: table.relname, name: (element.ColumnDef as { colname: string }).colname };
    const conname = (element.Constraint as { conname?: string } | undefined)?.conname;
    return conname ? { kind: 'constraint', schema: table.schemaname, table: table.relname, name: conname } : undefined;
  }
  if (kind === 'AlterTableStmt') {
    const table = relation(node.relation);
    const commands = (node.cmds as { AlterTableCmd: { subtype: string; def?: Tree } }[]).map((c) => c.AlterTableCmd);
    const added = commands.filter((c) => c.subtype === 'AT_AddConstraint' && location(c.def ?? {}) < offset).at(-1);
    const conname = (added?.def?.Constraint as { conname?: string } | undefined)?.conname;
    return conname ? { kind: 'constraint', schema: table.schemaname, table: table.relname, name: conname } : undefined;
  }
  if (kind === 'IndexStmt' && typeof node.idxname === 'string') return { kind: 'index', schema: relation(node.relation).schemaname, name: node.idxname };
  if (kind === 'ViewStmt') return { kind: 'view', schema: relation(node.view).schemaname, name: relation(node.view).relname };
  if (kind === 'CreateTableAsStmt' && node.objtype === 'OBJECT_MATVIEW') {
    const into = relation((node.into as { rel: unknown }).rel);
    return { kind: 'materializedView', schema: into.schemaname, name: into.relname };
  }
  if (kind === 'CreateEnumStmt') {
    const names = (node.typeName as { String: { sval: string } }[]).map((n) => n.String.sval);
    const schema = names.length > 1 ? names[0] : undefined;
    // after a value it renames the value (the enum's string constants are its values, in order)
    const value = strings > 0 ? (node.vals as { String: { sval: string } }[] | undefined)?.[strings - 1]?.String.sval : undefined;
    if (value !== undefined) return { kind: 'enumValue', schema, name: names.at(-1)!, value };
    return { kind: 'type', schema, name: names.at(-1)! };
  }
  return undefined;
}

function location(element: Tree): number {
  const node = Object.values(element)[0] as { location?: number } | undefined;
  return node?.location ?? -1;
}

/**
 * The directives as pg-delta renames: the new object must be in the desired
 * state, the old one in the target. A directive whose old name the target
 * lacks (already renamed, or a typo) is reported and ignored.
 */
export function resolveRenames(directives: RenameDirective[], current: SchemaState, desired: SchemaState): { renames: Rename[]; notes: string[] } {
  const currentFacts = current.facts as FactBase;
  const desiredFacts = desired.facts as FactBase;
  const renames: Rename[] = [];
  const notes: string[] = [];
  const tableRenames = new Map<string, string>();
  const ordered = [...directives].sort((a, b) => Number(b.kind === 'table') - Number(a.kind === 'table'));
  for (const directive of ordered) {
    const where = `${directive.file} line ${directive.line}`;
    if (directive.kind === 'enumValue') {
      const resolved = resolveEnumValue(directive, currentFacts, desiredFacts);
      if (typeof resolved === 'string') notes.push(`${where}: @renamed from=${directive.from}: ${resolved}; ignored.`);
      else renames.push(resolved);
      continue;
    }
    const schema = directive.schema ?? schemaOf(desiredFacts, directive) ?? 'public';
    const to = stableId(directive.kind, schema, directive.table, directive.name);
    if (!desiredFacts.has(to)) {
      notes.push(`${where}: @renamed from=${directive.from}: ${nameOf(to)} is not in the desired schema; ignored.`);
      continue;
    }
    const oldTable = directive.table === undefined ? undefined : (tableRenames.get(`${schema}.${directive.table}`) ?? directive.table);
    const from = stableId(directive.kind, schema, oldTable, directive.from);
    if (!currentFacts.has(from)) {
      // already renamed (the directive can go once every database has it), or a typo
      notes.push(`${where}: @renamed from=${directive.from}: ${nameOf(from)} does not exist in the target; ignored.`);
      continue;
    }
    const taken = stableId(directive.kind, schema, oldTable, directive.name);
    if (currentFacts.has(taken)) {
      // after a swap or a chain both names exist: a second run could not tell it from one to make again
      notes.push(`${where}: @renamed from=${directive.from}: ${nameOf(taken)} already exists in the target (a swap or a chain of renames); rename through a name neither side uses, one run per step; ignored.`);
      continue;
    }
    if (directive.kind === 'table') tableRenames.set(`${schema}.${directive.name}`, directive.from);
    renames.push(rename(directive.kind, from, to));
  }
  return { renames, notes };
}

/** An enum value rename, or why it cannot be one: the new label in the desired enum, the old one (and not the new) in the target's. */
function resolveEnumValue(directive: RenameDirective, current: FactBase, desired: FactBase): Rename | string {
  const schema = directive.schema ?? schemaOf(desired, { ...directive, kind: 'type' }) ?? 'public';
  const type = stableId('type', schema, undefined, directive.name);
  const label = (value: string) => `${nameOf(type)} value '${value}'`;
  const desiredValues = desired.get(type)?.payload.values as string[] | undefined;
  if (!desiredValues?.includes(directive.value!)) return `${label(directive.value!)} is not in the desired schema`;
  const currentValues = current.get(type)?.payload.values as string[] | undefined;
  if (!currentValues?.includes(directive.from) || currentValues.includes(directive.value!)) return `${label(directive.from)} does not exist in the target`;
  return enumValueRename(type, directive.from, directive.value!);
}

function enumValueRename(type: StableId, from: string, to: string): Rename {
  const text = `${nameOf(type)} value '${from}' → '${to}'`;
  return { kind: 'enumValue', from: `${nameOf(type)}.${from}`, to: `${nameOf(type)}.${to}`, text, ids: { from: type, to: type }, value: { from, to } };
}

/** The schema of an unqualified name: the one desired object of that kind and name, public first. */
function schemaOf(facts: FactBase, directive: RenameDirective): string | undefined {
  const schemas = facts
    .facts()
    .map((fact) => fact.id as { kind: string; schema?: string; table?: string; name?: string })
    .filter((id) => id.kind === directive.kind && id.name === directive.name && id.table === directive.table && id.schema !== undefined)
    .map((id) => id.schema!);
  return schemas.includes('public') ? 'public' : schemas.length === 1 ? schemas[0] : undefined;
}

function stableId(kind: Exclude<RenameDirective['kind'], 'enumValue'>, schema: string, table: string | undefined, name: string): StableId {
  return (table === undefined ? { kind, schema, name } : { kind, schema, table, name }) as StableId;
}

function nameOf(id: StableId): string {
  const parts = id as { schema?: string; table?: string; name?: string };
  return [parts.schema, parts.table, parts.name].filter(Boolean).join('.');
}

function rename(kind: string, from: StableId, to: StableId): Rename {
  return { kind, from: nameOf(from), to: nameOf(to), text: `${nameOf(from)} → ${nameOf(to)}`, ids: { from, to } };
}

/**
 * Renames found but not applied (not confirmed), for the CLI to ask about on
 * a terminal and pass back, when accepted, in PlanOptions.renames:
 * pg-delta's unambiguous structural matches; a table pg-delta only nearly
 * matches (its constraints, indexes or sequences carry its name) that is the
 * same once renamed with its children, given the states the plan was made
 * from; an enum whose one label changed in place.
 */
export function renameCandidates(plan: MigrationPlan, current?: SchemaState, desired?: SchemaState): Rename[] {
  const applied = new Set((plan.engine.acceptedRenames ?? []).map((r) => `${encodeId(r.from)}>${encodeId(r.to)}`));
  const engine = plan.engine.renameCandidates
    .filter((candidate) => candidate.status === 'unambiguous' && !applied.has(`${encodeId(candidate.from)}>${encodeId(candidate.to)}`))
    .map((candidate) => rename(candidate.kind, candidate.from, candidate.to));
  const tables = current && desired ? tableCandidates(plan, current.facts as FactBase, desired.facts as FactBase) : [];
  return [...engine, ...tables, ...enumValueCandidates(plan)];
}

/** Near-miss table candidates that sqlfirst's rename (renamed-source.ts) makes equal, one to one. */
function tableCandidates(plan: MigrationPlan, current: FactBase, desired: FactBase): Rename[] {
  const nearMisses = plan.engine.renameCandidates.filter((c) => c.status === 'nearMiss' && c.kind === 'table' && current.has(c.from) && desired.has(c.to));
  const matching = nearMisses.filter((candidate) => {
    const from = candidate.from as { schema: string; name: string };
    const to = candidate.to as { schema: string; name: string };
    // the same columns, before renaming anything
    if (from.schema !== to.schema || columnsOf(current, candidate.from) !== columnsOf(desired, candidate.to)) return false;
    const { source } = renameInCurrent(current, desired, [{ schema: from.schema, from: from.name, to: to.name }], []);
    return source.structuralRollupOf(candidate.to) === desired.structuralRollupOf(candidate.to);
  });
  const count = (key: (c: (typeof matching)[number]) => string, c: (typeof matching)[number]) => matching.filter((other) => key(other) === key(c)).length;
  return matching.filter((c) => count((o) => encodeId(o.from), c) === 1 && count((o) => encodeId(o.to), c) === 1).map((c) => rename('table', c.from, c.to));
}

function columnsOf(facts: FactBase, table: StableId): string {
  const columns = facts.childrenOf(table).filter((child) => child.id.kind === 'column');
  return columns.map((column) => `${(column.id as { name: string }).name}=${facts.hashOf(column.id)}`).sort().join(',');
}

/** An enum whose values differ at exactly one position, by a label new to it: that label renamed. */
function enumValueCandidates(plan: MigrationPlan): Rename[] {
  return plan.engine.deltas.flatMap((delta) => {
    if (delta.verb !== 'set' || delta.id.kind !== 'type' || delta.attr !== 'values') return [];
    const [from, to] = [delta.from as string[] | null, delta.to as string[] | null];
    if (!from || !to || from.length !== to.length) return [];
    const changed = from.flatMap((value, i) => (value === to[i] ? [] : [i]));
    if (changed.length !== 1) return [];
    const [oldLabel, newLabel] = [from[changed[0]!]!, to[changed[0]!]!];
    return from.includes(newLabel) || to.includes(oldLabel) ? [] : [enumValueRename(delta.id, oldLabel, newLabel)];
  });
}

/** Notes for confirmed renames the plan does not apply (the objects differ beyond their names): they stay drop + create. */
export function unappliedRenames(plan: MigrationPlan, accepted: readonly Rename[]): string[] {
  const engineApplied = new Set((plan.engine.acceptedRenames ?? []).map((r) => `${encodeId(r.from)}>${encodeId(r.to)}`));
  const applied = (r: Rename) => (plan.appliedRenames ? plan.appliedRenames.includes(r.text) : engineApplied.has(`${encodeId(r.ids.from)}>${encodeId(r.ids.to)}`));
  const candidates = new Map(plan.engine.renameCandidates.map((c) => [`${encodeId(c.from)}>${encodeId(c.to)}`, c]));
  return accepted
    .filter((r) => !applied(r))
    .map((r) => {
      const candidate = candidates.get(`${encodeId(r.ids.from)}>${encodeId(r.ids.to)}`);
      const why = candidate?.reason ?? (candidate ? `the engine sees it as ${candidate.status}` : 'the old and new objects differ beyond their names');
      return `${r.text} is not applied as a rename (${why}): rename it alone first, then change it in a second run.`;
    });
}
