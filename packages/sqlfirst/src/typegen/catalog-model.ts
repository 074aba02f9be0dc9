/**
 * The database objects the Drizzle files describe, as plain JSON-able data:
 * our own model, filled by the engine (src/engine/catalog.ts), never pg-delta's
 * types. Every SQL text here is as PostgreSQL prints it with `public` on the
 * search path (objects in public unqualified, others qualified), so the model
 * does not depend on the session that read it.
 */

export interface Catalog {
  /** the schemas in scope, sorted */
  schemas: string[];
  enums: CatalogEnum[];
  /** sequences that belong to no column (identity and serial sequences are their column's) */
  sequences: CatalogSequence[];
  tables: CatalogTable[];
  views: CatalogView[];
}

export interface CatalogEnum {
  schema: string;
  name: string;
  /** in declared order */
  values: string[];
}

export interface CatalogSequence {
  schema: string;
  name: string;
  /** integers as decimal text: they may exceed 2^53 */
  start: string;
  increment: string;
  minValue: string;
  maxValue: string;
  cache: string;
  cycle: boolean;
}

/** A column type, e.g. `numeric(20,8)` → { name: 'numeric', modifiers: [20, 8] }. */
export interface CatalogType {
  /** as format_type prints it, e.g. `character varying(100)[]`, `audit.status` */
  sql: string;
  /** the type's schema for a user-defined type; undefined for built-in types */
  schema?: string;
  /** canonical internal name for built-ins (int4, varchar, timestamptz, …), the type name otherwise */
  name: string;
  /** type modifiers in order: length, precision and scale, interval fields (a bit mask) and precision */
  modifiers: number[];
  /** 0 for a scalar; PostgreSQL records one dimension per `[]` it prints */
  dimensions: number;
  /** an enum type (in `Catalog.enums` when its schema is in scope) */
  isEnum: boolean;
  /** a domain, composite or other type Drizzle has no column builder for */
  isOther: boolean;
}

export interface CatalogDefault {
  /** the expression, e.g. `now()`, `'trader'::user_role` */
  expression: string;
  /**
   * For a constant (optionally cast): the constant as written, quotes included,
   * e.g. `'trader'`, `0`, `'{}'`. Undefined for any other expression.
   */
  constant?: string;
}

export interface CatalogIdentity {
  generation: 'always' | 'byDefault';
  /** the sequence name as PostgreSQL prints a regclass: `events_id_seq`, `audit.events_id_seq` */
  sequence: string;
  start: string;
  increment: string;
  minValue: string;
  maxValue: string;
  cache: string;
  cycle: boolean;
}

export interface CatalogColumn {
  name: string;
  type: CatalogType;
  notNull: boolean;
  default?: CatalogDefault;
  identity?: CatalogIdentity;
  /** a `serial`, `bigserial` or `smallserial` column: its default is its own sequence */
  serial?: 'serial' | 'bigserial' | 'smallserial';
  /** a stored generated column's expression */
  generated?: string;
}

export interface CatalogPrimaryKey {
  name: string;
  /** in declared order */
  columns: string[];
}

export interface CatalogUnique {
  name: string;
  /** in declared order */
  columns: string[];
  nullsNotDistinct: boolean;
}

export type ReferentialAction = 'no action' | 'restrict' | 'cascade' | 'set null' | 'set default';

export interface CatalogForeignKey {
  name: string;
  columns: string[];
  referencedSchema: string;
  referencedTable: string;
  referencedColumns: string[];
  onUpdate: ReferentialAction;
  onDelete: ReferentialAction;
}

export interface CatalogCheck {
  name: string;
  /** the condition, without the CHECK keyword and its parentheses */
  expression: string;
}

export interface CatalogIndexKey {
  /** a plain column key; absent for an expression key */
  column?: string;
  /** an expression key's text, e.g. `lower(email)` */
  expression?: string;
  /** the operator class actually used (the type's default included) */
  operatorClass: string;
  descending: boolean;
  nullsFirst: boolean;
}

export interface CatalogIndex {
  name: string;
  unique: boolean;
  /** access method: btree, hash, gin, gist, … */
  method: string;
  keys: CatalogIndexKey[];
  /** the partial index predicate, as pg_get_indexdef prints it (parenthesised) */
  where?: string;
  /** storage parameters, e.g. { fillfactor: '70' } */
  with: Record<string, string>;
}

export interface CatalogPolicy {
  name: string;
  permissive: boolean;
  command: 'all' | 'select' | 'insert' | 'update' | 'delete';
  /** role names, `public` for PUBLIC */
  roles: string[];
  using?: string;
  withCheck?: string;
}

export interface CatalogTable {
  schema: string;
  name: string;
  /** in declared (attnum) order */
  columns: CatalogColumn[];
  primaryKey?: CatalogPrimaryKey;
  uniques: CatalogUnique[];
  foreignKeys: CatalogForeignKey[];
  checks: CatalogCheck[];
  /** standalone indexes (not those behind a primary key or unique constraint) */
  indexes: CatalogIndex[];
  /** row-level security policies */
  policies: CatalogPolicy[];
}

export interface CatalogViewColumn {
  name: string;
  type: CatalogType;
  notNull: boolean;
}

export interface CatalogView {
  schema: string;
  name: string;
  materialized: boolean;
  /** pg_get_viewdef(view, true) with its whitespace collapsed and the final `;` removed */
  definition: string;
  columns: CatalogViewColumn[];
  /** reloptions, e.g. { security_barrier: 'true' } */
  with: Record<string, string>;
}
