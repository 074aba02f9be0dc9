/**
 * Puts type breaks under the schema change that most likely caused them, by
 * the Drizzle names the change affects: a dropped column's camelCase property,
 * a dropped table's or enum's exported variable, and, more weakly, the table
 * a column belonged to.
 */

/** One type error: `file` relative to the repository root with forward slashes, `line` 1-based. */
export interface TypeBreak {
  file: string;
  line: number;
  message: string;
}

/** A planned schema change as the engine reports it (a MigrationPlan's `changes` fit as they are). */
export interface ChangeRef {
  sql: string;
  /** objects it removes, e.g. { kind: 'column', name: 'public.orders.legacy_price' } */
  drops: { kind: string; name: string }[];
}

export interface BreakGroup {
  /** the change's SQL, or OTHER_CHANGES */
  change: string;
  breaks: TypeBreak[];
}

export const OTHER_CHANGES = 'other changes';

const STRONG = 3;
const MEDIUM = 2;
const WEAK = 1;

interface Needle {
  pattern: RegExp;
  weight: number;
}

/**
 * Groups breaks under the change that most likely caused them (the strongest
 * match; the earliest change on a tie), in plan order; breaks that match no
 * change go last, under 'other changes'. Changes without breaks are left out.
 */
export function groupBreaks(breaks: TypeBreak[], changes: ChangeRef[]): BreakGroup[] {
  const needles = changes.map(needlesOf);
  const groups = new Map<number, TypeBreak[]>();
  for (const item of breaks) {
    let best = -1;
    let bestScore = 0;
    needles.forEach((list, index) => {
      const score = Math.max(0, ...list.filter((n) => n.pattern.test(item.message)).map((n) => n.weight));
      if (score > bestScore) {
        best = index;
        bestScore = score;
      }
    });
    const bucket = groups.get(best) ?? [];
    bucket.push(item);
    groups.set(best, bucket);
  }
  const result: BreakGroup[] = [];
  changes.forEach((change, index) => {
    const found = groups.get(index);
    if (found) result.push({ change: change.sql.trim(), breaks: found });
  });
  const other = groups.get(-1);
  if (other) result.push({ change: OTHER_CHANGES, breaks: other });
  return result;
}

function needlesOf(change: ChangeRef): Needle[] {
  const needles: Needle[] = [];
  for (const drop of change.drops) {
    const parts = drop.name.split('.');
    switch (drop.kind) {
      case 'column': {
        const [schema, table, column] = parts.length >= 3 ? parts.slice(-3) : ['public', ...parts];
        needles.push(...columnNeedles(schema, table, column, STRONG));
        break;
      }
      case 'table':
      case 'view':
      case 'materializedView':
      case 'type':
      case 'domain': {
        const [schema, name] = parts.length >= 2 ? parts.slice(-2) : ['public', parts[0]];
        // the variable is the dropped object itself; its SQL name in a type may be a property of it (a column, weaker)
        needles.push(identifier(drizzleVariable(schema, name), STRONG), quoted(name, MEDIUM));
        break;
      }
      default:
        break;
    }
  }
  // changes that drop nothing still break code: a new NOT NULL column, a changed type, a rename
  for (const ref of columnsTouched(change.sql)) needles.push(...columnNeedles(ref.schema, ref.table, ref.column, MEDIUM));
  return needles;
}

function columnNeedles(schema: string, table: string, column: string, weight: number): Needle[] {
  return [
    identifier(camelCase(column), weight),
    identifier(column, weight),
    identifier(drizzleVariable(schema, table), WEAK),
    quoted(table, WEAK),
  ];
}

/** `ALTER TABLE [ONLY] [schema.]table ... {ADD|ALTER|DROP|RENAME} [COLUMN] [IF [NOT] EXISTS] column` */
const ALTER_TABLE = /ALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?((?:"[^"]+"|\w+)(?:\s*\.\s*(?:"[^"]+"|\w+))?)\s+([\s\S]*)/i;
const COLUMN_CLAUSE = /\b(?:ADD|ALTER|DROP|RENAME)\s+(?:COLUMN\s+)?(?:IF\s+(?:NOT\s+)?EXISTS\s+)?("[^"]+"|\w+)/gi;
const NOT_COLUMNS = new Set(['constraint', 'column', 'primary', 'foreign', 'unique', 'check', 'to', 'owner', 'index']);

function columnsTouched(sql: string): { schema: string; table: string; column: string }[] {
  const match = ALTER_TABLE.exec(sql);
  if (!match) return [];
  const names = match[1].split('.').map((p) => unquote(p.trim()));
  const [schema, table] = names.length === 2 ? names : ['public', names[0]];
  const found: { schema: string; table: string; column: string }[] = [];
  for (const clause of match[2].matchAll(COLUMN_CLAUSE)) {
    const column = unquote(clause[1]);
    if (!NOT_COLUMNS.has(column.toLowerCase())) found.push({ schema, table, column });
  }
  return found;
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1) : name;
}

/** drizzle-kit's casing: snake_case (and other separators) to camelCase. */
export function camelCase(name: string): string {
  const camel = name.replace(/[_\-\s]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
  return camel.charAt(0).toLowerCase() + camel.slice(1);
}

/** The variable drizzle-kit exports for a table, view or enum: `orders`, or `eventsInAudit` outside public. */
export function drizzleVariable(schema: string, name: string): string {
  const base = camelCase(name);
  if (schema === 'public') return base;
  const suffix = camelCase(schema);
  return `${base}In${suffix.charAt(0).toUpperCase()}${suffix.slice(1)}`;
}

function identifier(name: string, weight: number): Needle {
  return { pattern: new RegExp(`(?<![\\w$])${escapeRegExp(name)}(?![\\w$])`), weight };
}

/** a table's SQL name as TypeScript prints it inside a Drizzle type: name: "orders" */
function quoted(name: string, weight: number): Needle {
  return { pattern: new RegExp(`["']${escapeRegExp(name)}["']`), weight };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
