/**
 * Which plan actions lose stored data, decided from pg-delta's structured
 * plan (each action's verb, dataLoss, rewriteRisk and consumed, produced and
 * destroyed ids; the plan's deltas), never from its SQL text:
 * - whatever pg-delta marks destructive (a drop, or a drop and re-create);
 * - a column type change that is not on SAFE_TYPE_CHANGES, a short list of
 *   conversions where PostgreSQL turns every value of the old type into one
 *   that converts back equal (src/test/data-loss.test.ts proves each on a
 *   real server);
 * - ALTER TABLE … SET UNLOGGED: PostgreSQL empties an unlogged table after a
 *   crash;
 * - dropping a sequence (DROP SEQUENCE, DROP IDENTITY, serial → int): its
 *   position goes with it, and a sequence created again starts over,
 *   handing out values already in use.
 */
import { encodeId, type Action, type Plan, type StableId } from '@supabase/pg-delta';
import { parseSync } from 'libpg-query';
import { sqlParser } from '../sql-parser.js';

// the PostgreSQL parser reads column type names; its WebAssembly loads once (≈30 ms)
await sqlParser();

export interface DataLoss {
  kind: 'drop' | 'recreate' | 'type-change' | 'unlogged' | 'sequence-position';
  /** why, for the plan report: "real → numeric keeps 6 significant digits" */
  reason: string;
}

/** One entry per action of the plan, in order: how the action loses stored data, or undefined. */
export function dataLossByAction(plan: Plan): Array<DataLoss | undefined> {
  const typeChanges = new Map<string, { from: string; to: string }>();
  const madeUnlogged = new Set<string>();
  const changedAttributes = new Map<string, string[]>();
  const enumValues = new Map<string, { from: string[]; to: string[] }>();
  for (const delta of plan.deltas) {
    if (delta.verb !== 'set') continue;
    const key = encodeId(delta.id);
    changedAttributes.set(key, [...(changedAttributes.get(key) ?? []), delta.attr]);
    if (delta.id.kind === 'column' && delta.attr === 'type') typeChanges.set(key, { from: String(delta.from), to: String(delta.to) });
    if (delta.id.kind === 'table' && delta.attr === 'persistence' && delta.to === 'u') madeUnlogged.add(key);
    if (delta.id.kind === 'type' && delta.attr === 'values') enumValues.set(key, { from: delta.from as string[], to: delta.to as string[] });
  }
  const producedBy = new Map<string, number>();
  plan.actions.forEach((action, index) => action.produces.forEach((id) => producedBy.set(encodeId(id), index)));
  const recreated = (id: StableId, index: number) => (producedBy.get(encodeId(id)) ?? -1) > index;

  return plan.actions.map((action, index) => {
    if (action.dataLoss === 'destructive') return destructiveLoss(action, (id) => recreated(id, index), changedAttributes, enumValues);
    // pg-delta's TYPE statement is the one that rewrites the column; its DROP/SET DEFAULT bookends do not
    if (action.verb === 'alter' && action.rewriteRisk) {
      for (const column of action.consumes.filter((id) => id.kind === 'column')) {
        const change = typeChanges.get(encodeId(column));
        const loss = change && typeChangeLoss(change.from, change.to);
        if (loss) return loss;
      }
      // SET UNLOGGED rewrites the table and neither creates nor removes anything
      const table = action.consumes.find((id) => madeUnlogged.has(encodeId(id)));
      if (table && action.produces.length === 0 && action.destroys.length === 0) {
        return { kind: 'unlogged', reason: `makes ${describe(table)} UNLOGGED: PostgreSQL empties it after a crash and does not replicate it` };
      }
    }
    const sequence = action.destroys.find((id) => id.kind === 'sequence');
    // a rename destroys one sequence and produces another in the same action: the position moves with it
    if (sequence && !action.produces.some((id) => id.kind === 'sequence')) {
      const after = recreated(sequence, index)
        ? 'it is created again from its start value'
        : 'a sequence created again starts over';
      return { kind: 'sequence-position', reason: `drops ${describe(sequence)} and its position: ${after}, handing out values already in use` };
    }
    return undefined;
  });
}

const DATA_BEARING = new Set(['table', 'materializedView', 'column', 'typeAttribute']);

function destructiveLoss(
  action: Action,
  recreated: (id: StableId) => boolean,
  changedAttributes: Map<string, string[]>,
  enumValues: Map<string, { from: string[]; to: string[] }>,
): DataLoss {
  const held = action.destroys.filter((id) => DATA_BEARING.has(id.kind));
  // a table's drop names the table, not each of its columns
  const root = held.find((id) => id.kind !== 'column' && id.kind !== 'typeAttribute') ?? held[0];
  if (!root) {
    // pg-delta rebuilds an enum that loses or reorders values, and converts its columns through text
    const column = action.consumes.find((id) => id.kind === 'column');
    const rebuilt = action.consumes.find((id) => enumValues.has(encodeId(id)));
    if (column && rebuilt) {
      const { from, to } = enumValues.get(encodeId(rebuilt))!;
      const removed = from.filter((value) => !to.includes(value)).map((value) => `'${value}'`);
      const change = removed.length > 0 ? `without ${removed.join(', ')}: rows holding ${removed.length > 1 ? 'them' : 'it'} cannot be converted` : 'with its values reordered';
      return { kind: 'type-change', reason: `converts ${describe(column)} to enum ${qualifiedName(rebuilt)} rebuilt ${change}` };
    }
    return { kind: 'drop', reason: 'destroys stored data (pg-delta marks it destructive)' };
  }
  if (recreated(root)) {
    const attributes = changedAttributes.get(encodeId(root));
    const because = attributes ? ` (${attributes.join(', ')} changes)` : '';
    return { kind: 'recreate', reason: `drops and re-creates ${describe(root)}${because}: ${CONTENTS[root.kind]} are lost` };
  }
  return { kind: 'drop', reason: `drops ${describe(root)} and ${CONTENTS[root.kind]}` };
}

const CONTENTS: Record<string, string> = {
  table: 'its rows',
  materializedView: 'its stored rows',
  column: 'its values',
  typeAttribute: 'its values in every row',
};

const KIND_WORDS: Record<string, string> = { materializedView: 'materialized view', typeAttribute: 'attribute' };

function describe(id: StableId): string {
  return `${KIND_WORDS[id.kind] ?? id.kind} ${qualifiedName(id)}`;
}

function qualifiedName(id: StableId): string {
  const parts = id as { schema?: string; table?: string; type?: string; name?: string };
  return [parts.schema, parts.table ?? parts.type, parts.name].filter(Boolean).join('.');
}

/**
 * A column type as PostgreSQL's parser reads format_type() output:
 * `character varying(20)` → { name: 'varchar', typmods: [20], array: false }.
 */
export interface SqlType {
  /** pg_catalog types by their internal name (int4, float8, timestamptz); others schema-qualified as written */
  name: string;
  typmods: number[];
  array: boolean;
}

interface CastStatement {
  SelectStmt?: { targetList?: Array<{ ResTarget?: { val?: { TypeCast?: { typeName?: TypeNameNode } } } }> };
}

interface TypeNameNode {
  names: Array<{ String: { sval: string } }>;
  typmods?: Array<{ A_Const?: { ival?: { ival?: number } } }>;
  arrayBounds?: unknown[];
}

function parseType(formatted: string): SqlType | undefined {
  let typeName: TypeNameNode | undefined;
  try {
    const { stmts } = parseSync(`SELECT NULL::${formatted}`) as { stmts: Array<{ stmt: CastStatement }> };
    if (stmts.length !== 1) return undefined;
    typeName = stmts[0].stmt.SelectStmt?.targetList?.[0]?.ResTarget?.val?.TypeCast?.typeName;
  } catch {
    return undefined;
  }
  if (!typeName) return undefined;
  const names = typeName.names.map((n) => n.String.sval);
  const typmods: number[] = [];
  for (const typmod of typeName.typmods ?? []) {
    // the parse tree leaves out an integer's value when it is 0
    if (!typmod.A_Const?.ival) return undefined;
    typmods.push(typmod.A_Const.ival.ival ?? 0);
  }
  return {
    name: names[0] === 'pg_catalog' && names.length === 2 ? names[1] : names.join('.'),
    typmods,
    array: (typeName.arrayBounds?.length ?? 0) > 0,
  };
}

const INTEGER_BITS: Record<string, number> = { int2: 16, int4: 32, int8: 64 };
/** decimal digits of the largest value of each integer type */
const INTEGER_DIGITS: Record<string, number> = { int2: 5, int4: 10, int8: 19 };
/** binary digits of each float type's significand */
const FLOAT_SIGNIFICAND_BITS: Record<string, number> = { float4: 24, float8: 53 };
/** significant decimal digits PostgreSQL keeps when it casts a float to numeric */
const FLOAT_TO_NUMERIC_DIGITS: Record<string, number> = { float4: 6, float8: 15 };
const FRACTIONAL_SECONDS = new Set(['timestamp', 'timestamptz', 'time', 'timetz']);
/** PostgreSQL's default fractional-second digits, and the most it stores */
const MAX_FRACTIONAL_DIGITS = 6;

const isInteger = (type: SqlType) => type.name in INTEGER_BITS;
const isFloat = (type: SqlType) => type.name in FLOAT_SIGNIFICAND_BITS;

/** An exact number as numeric(precision, scale); no precision = unconstrained numeric. Integers are numeric(digits, 0). */
function exactNumber(type: SqlType): { precision?: number; scale: number } | undefined {
  if (isInteger(type)) return { precision: INTEGER_DIGITS[type.name], scale: 0 };
  if (type.name !== 'numeric') return undefined;
  if (type.typmods.length === 0) return { scale: 0 };
  return { precision: type.typmods[0], scale: type.typmods[1] ?? 0 };
}

/** characters a string type holds; Infinity when unbounded */
function stringLength(type: SqlType): number {
  return type.typmods[0] ?? Infinity;
}

/**
 * The conversions PostgreSQL performs with every value of the old type coming
 * back equal when cast back (ALTER … TYPE new USING col::new, then col::old).
 * Each is proven on a real server by src/test/data-loss.test.ts, over every
 * pair of its type matrix that these rules accept. Deliberately left out:
 * - timestamp → timestamptz: each value is read in the applying session's
 *   TimeZone, which the plan does not know; in a zone with daylight saving a
 *   time inside the spring-forward gap (2024-03-10 02:30 in New York) comes
 *   back an hour later, and the instants stored differ from server to server;
 * - date → timestamp (dates beyond year 294276 fail), numeric → integer (NaN),
 *   text → character(n) (trailing spaces are dropped), floats or dates →
 *   text (their output depends on session settings: extra_float_digits,
 *   DateStyle, TimeZone).
 */
export const SAFE_TYPE_CHANGES: ReadonlyArray<{ rule: string; holds(from: SqlType, to: SqlType): boolean }> = [
  {
    rule: 'a wider integer',
    holds: (from, to) => isInteger(from) && isInteger(to) && INTEGER_BITS[to.name] >= INTEGER_BITS[from.name],
  },
  {
    rule: 'numeric with room for every digit of the old type',
    holds(from, to) {
      const [old, next] = [exactNumber(from), exactNumber(to)];
      if (to.name !== 'numeric' || !old || !next) return false;
      if (next.precision === undefined) return true;
      if (old.precision === undefined) return false;
      return next.scale >= old.scale && next.precision - next.scale >= old.precision - old.scale;
    },
  },
  {
    rule: 'a float whose significand holds the integer exactly',
    holds: (from, to) => isInteger(from) && isFloat(to) && INTEGER_BITS[from.name] - 1 <= FLOAT_SIGNIFICAND_BITS[to.name],
  },
  {
    // numbers print the same whatever the session settings, and read back exactly
    rule: 'unbounded text holding an exact number',
    holds: (from, to) => exactNumber(from) !== undefined && (to.name === 'text' || (to.name === 'varchar' && to.typmods.length === 0)),
  },
  {
    rule: 'real → double precision',
    holds: (from, to) => from.name === 'float4' && to.name === 'float8',
  },
  {
    rule: 'a string type at least as long (character(n) only to types that keep its trailing spaces insignificant or stored)',
    holds(from, to) {
      const unpadded = (type: SqlType) => type.name === 'varchar' || type.name === 'text';
      const families = (unpadded(from) && unpadded(to)) || (from.name === 'bpchar' && (unpadded(to) || to.name === 'bpchar'));
      return families && stringLength(to) >= stringLength(from);
    },
  },
  {
    rule: 'a bit varying at least as long',
    holds: (from, to) => from.name === 'varbit' && to.name === 'varbit' && stringLength(to) >= stringLength(from),
  },
  {
    rule: 'the same time type with at least as many fractional-second digits',
    holds: (from, to) =>
      FRACTIONAL_SECONDS.has(from.name) &&
      to.name === from.name &&
      (to.typmods[0] ?? MAX_FRACTIONAL_DIGITS) >= (from.typmods[0] ?? MAX_FRACTIONAL_DIGITS),
  },
];

/** The rule of SAFE_TYPE_CHANGES that keeps every value of `from` in `to` (format_type() names), or undefined. */
export function safeTypeChangeRule(from: string, to: string): string | undefined {
  const [old, next] = [parseType(from), parseType(to)];
  // arrays convert element by element
  if (!old || !next || old.array !== next.array) return undefined;
  return SAFE_TYPE_CHANGES.find((change) => change.holds(old, next))?.rule;
}

/** How changing a column from `from` to `to` (format_type() names) loses data, or undefined when every value survives. */
export function typeChangeLoss(from: string, to: string): DataLoss | undefined {
  if (safeTypeChangeRule(from, to)) return undefined;
  return { kind: 'type-change', reason: `${from} → ${to} ${typeChangeHarm(from, to)}` };
}

function typeChangeHarm(fromName: string, toName: string): string {
  const [from, to] = [parseType(fromName), parseType(toName)];
  const generic = 'is not one of the conversions known to keep every value';
  if (!from || !to || from.array !== to.array) return generic;
  if (isFloat(from) && to.name === 'numeric') return `keeps ${FLOAT_TO_NUMERIC_DIGITS[from.name]} significant digits`;
  if (from.name === 'float8' && to.name === 'float4') return 'rounds to about 7 significant digits';
  if (isInteger(to)) return `${isInteger(from) ? '' : 'rounds to whole numbers and '}fails on values outside ${toName}'s range`;
  const [old, next] = [exactNumber(from), exactNumber(to)];
  if (next?.precision !== undefined && (old || isFloat(from))) {
    const inexact = !old || old.precision === undefined;
    const harms: string[] = [];
    if (inexact || old.scale > next.scale) harms.push(`rounds to ${next.scale >= 0 ? `${next.scale} decimal places` : `multiples of 1${'0'.repeat(-next.scale)}`}`);
    if (inexact || old.precision! - old.scale > next.precision - next.scale) harms.push(`fails on values of more than ${next.precision - next.scale} integer digits`);
    return harms.join(' and ');
  }
  if (['varchar', 'bpchar', 'varbit'].includes(to.name) && stringLength(to) < stringLength(from)) {
    return `silently truncates values longer than ${stringLength(to)} ${to.name === 'varbit' ? 'bits' : 'characters'}`;
  }
  if (from.name === 'timestamptz' && to.name === 'timestamp') {
    return "drops the time zone: instants become local times of the applying session's TimeZone, and the two instants of a daylight-saving fall-back hour become one";
  }
  if (from.name === 'timestamp' && to.name === 'timestamptz') {
    return "reads each value in the applying session's TimeZone: a time inside a daylight-saving gap moves by an hour";
  }
  if (FRACTIONAL_SECONDS.has(from.name) && to.name === from.name) {
    return `rounds to ${to.typmods[0] ?? MAX_FRACTIONAL_DIGITS} fractional-second digits`;
  }
  return generic;
}
