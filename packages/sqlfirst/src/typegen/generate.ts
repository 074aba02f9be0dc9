/**
 * The Drizzle files (schema.ts, relations.ts) from a Catalog, in the shape
 * `drizzle-kit pull` (0.31) gives them after sqlfirst finishes them: the same
 * imports, names, builders, modes and layout, so the committed files read the
 * same. Where drizzle-kit is wrong (operator classes, constraint column order,
 * defaults it cannot type, escapes) this is correct instead; docs/typegen.md
 * lists every difference.
 */
import type { Catalog, CatalogColumn, CatalogForeignKey, CatalogIndex, CatalogPolicy, CatalogTable, CatalogType, CatalogView, CatalogViewColumn } from './catalog-model.js';
import { customColumnDeclarations, customColumnFor, unmappableTypes, type CustomColumn } from './custom-columns.js';
import type { GeneratedTypes } from './files.js';
import { camelCase, drizzleCamelCase, plural, singular } from './names.js';

export interface GenerateOptions {
  /** the first lines of both files (comments), e.g. where they come from and how to regenerate them */
  header: string;
}

/** schema.ts and relations.ts for a catalog; throws a SqlfirstError for a column type Drizzle cannot express. */
export function generateDrizzleFiles(catalog: Catalog, options: GenerateOptions): GeneratedTypes {
  const header = options.header.endsWith('\n') ? options.header : `${options.header}\n`;
  return {
    'schema.ts': `${header}${new SchemaWriter(catalog).write().trimEnd()}\n`,
    'relations.ts': `${header}${relationsFile(catalog).trimEnd()}\n`,
  };
}

// ---------------------------------------------------------------------------
// names, as drizzle-kit writes them

/** An object key: bare when it is a JavaScript identifier, quoted otherwise. */
function objectKey(value: string): string {
  return /^[a-zA-Z_$][a-zA-Z0-9_$]*$/.test(value) ? value : JSON.stringify(value);
}

/**
 * The TypeScript names a database object has in the generated files: a
 * table's, view's, enum's or sequence's exported variable, and for a column
 * its property and its table's variable. `name` is qualified as the engine
 * names objects: schema.object, or schema.table.column.
 */
export function generatedNames(object: { kind: string; name: string }): string[] {
  const parts = object.name.split('.');
  const variable = (schema: string, name: string) => camelKey(nameIn(name, schema === 'public' ? undefined : schema));
  if (object.kind === 'column' && parts.length === 3) return [camelKey(parts[2]), variable(parts[0], parts[1])];
  if (['table', 'view', 'materializedView', 'type', 'sequence'].includes(object.kind) && parts.length === 2) return [variable(parts[0], parts[1])];
  return [];
}

function camelKey(value: string): string {
  return objectKey(camelCase(value));
}

function capitalise(value: string): string {
  return value.length > 0 ? `${value[0].toUpperCase()}${value.slice(1)}` : value;
}

/** `events` in schema audit → `eventsInAudit`. */
function nameIn(name: string, schema: string | undefined): string {
  return schema && schema !== 'public' ? `${name}In${capitalise(schema)}` : name;
}

/** The column's database name as the builder's first argument, when the key alone does not give it. */
function columnNameArgument(name: string, followedByConfig = false): string {
  if (drizzleCamelCase(name) === name) return '';
  return followedByConfig ? `${JSON.stringify(name)}, ` : JSON.stringify(name);
}

/** SQL inside sql`…`: a template literal, so backslashes, backticks and `${` are escaped. */
function sqlTemplate(text: string): string {
  return `sql\`${text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``;
}

/** A JavaScript string in single quotes. */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** The value of an SQL string constant (`'it''s'` → `it's`); other constants as they are. */
function constantValue(constant: string): string {
  return constant.startsWith("'") && constant.endsWith("'") ? constant.slice(1, -1).replace(/''/g, "'") : constant;
}

// ---------------------------------------------------------------------------
// schema.ts

interface RenderedColumn {
  /** absent when Drizzle has no builder for the type */
  text?: string;
  /** the drizzle-orm/pg-core builder it calls */
  builder?: string;
  custom?: CustomColumn;
}

class SchemaWriter {
  /** variable of each non-public schema */
  private readonly schemaVariables: Map<string, string>;
  private readonly imports: string[] = [];
  private readonly customColumns = new Set<CustomColumn>();
  private readonly unmappable: string[] = [];
  /** `from-to` table name pairs that a foreign key links (drizzle-kit's cycle check uses bare names) */
  private readonly links: Set<string>;

  constructor(private readonly catalog: Catalog) {
    this.schemaVariables = new Map(catalog.schemas.filter((schema) => schema !== 'public').map((schema) => [schema, camelKey(schema)]));
    this.links = new Set(catalog.tables.flatMap((table) => table.foreignKeys.map((fk) => `${table.name}-${fk.referencedTable}`)));
  }

  write(): string {
    const tables = this.catalog.tables.map((table) => this.table(table));
    const views = this.catalog.views.map((view) => this.view(view));
    for (const sequence of this.catalog.sequences) this.imports.push(sequence.schema === 'public' ? 'pgSequence' : 'pgSchema');
    for (const item of this.catalog.enums) this.imports.push(item.schema === 'public' ? 'pgEnum' : 'pgSchema');
    if (this.unmappable.length > 0) throw unmappableTypes(this.unmappable);
    if (this.customColumns.size > 0) this.imports.push('customType');
    // a schema with nothing in it still gets its declaration
    if (this.schemaVariables.size > 0) this.imports.push('pgSchema');

    const lines = [`import { ${[...new Set(['pgTable', ...this.imports])].join(', ')} } from "drizzle-orm/pg-core"`, 'import { sql } from "drizzle-orm"'];
    if (this.customColumns.size > 0) lines.push(...customColumnDeclarations(this.customColumns));
    let text = `${lines.join('\n')}\n\n`;
    text += [...this.schemaVariables].map(([schema, variable]) => `export const ${variable} = pgSchema(${JSON.stringify(schema)});\n`).join('');
    text += this.catalog.enums.map((item) => {
      const schema = this.schemaVariables.get(item.schema);
      const values = item.values.map(quoted).join(', ');
      return `export const ${camelKey(nameIn(item.name, schema))} = ${schema ? `${schema}.enum` : 'pgEnum'}(${JSON.stringify(item.name)}, [${values}])\n`;
    }).join('') + '\n';
    text += this.catalog.sequences.map((sequence) => {
      const schema = this.schemaVariables.get(sequence.schema);
      const options = `startWith: "${sequence.start}", increment: "${sequence.increment}", minValue: "${sequence.minValue}", maxValue: "${sequence.maxValue}", cache: "${sequence.cache}", cycle: ${sequence.cycle}`;
      return `export const ${camelKey(nameIn(sequence.name, schema))} = ${schema ? `${schema}.sequence` : 'pgSequence'}(${JSON.stringify(sequence.name)}, {  ${options} })\n`;
    }).join('');
    text += '\n' + tables.join('\n\n') + '\n' + views.join('\n\n');
    return text;
  }

  private table(table: CatalogTable): string {
    const schema = this.schemaVariables.get(table.schema);
    if (table.foreignKeys.some((fk) => this.links.has(`${fk.referencedTable}-${table.name}`) && fk.referencedTable !== table.name && this.links.has(`${table.name}-${fk.referencedTable}`))) {
      this.imports.push('type AnyPgColumn');
    }
    if (schema) this.imports.push('pgSchema');
    this.imports.push(...table.indexes.map((index) => (index.unique ? 'uniqueIndex' : 'index')));
    if (table.foreignKeys.length > 0) this.imports.push('foreignKey');
    if (table.primaryKey && table.primaryKey.columns.length > 1) this.imports.push('primaryKey');
    if (table.uniques.length > 0) this.imports.push('unique');
    if (table.policies.length > 0) this.imports.push('pgPolicy');
    if (table.checks.length > 0) this.imports.push('check');

    const singlePrimaryKey = table.primaryKey?.columns.length === 1 ? table.primaryKey.columns[0] : undefined;
    let text = `export const ${camelKey(nameIn(table.name, schema))} = ${schema ? `${schema}.table` : 'pgTable'}(${JSON.stringify(table.name)}, {\n`;
    for (const column of table.columns) {
      text += `\t${this.column(table, column, column.name === singlePrimaryKey)},\n`;
    }
    text += '}';
    const extras = [
      ...table.indexes.map((index) => indexCall(table, index)),
      ...table.foreignKeys.map((fk) => this.foreignKeyCall(table, fk)),
      ...(table.primaryKey && table.primaryKey.columns.length > 1
        ? [`primaryKey({ columns: [${table.primaryKey.columns.map((c) => `table.${camelKey(c)}`).join(', ')}], name: ${JSON.stringify(table.primaryKey.name)}})`]
        : []),
      ...table.uniques.map((u) => `unique(${JSON.stringify(u.name)}).on(${u.columns.map((c) => `table.${camelKey(c)}`).join(', ')})${u.nullsNotDistinct ? '.nullsNotDistinct()' : ''}`),
      ...table.policies.map(policyCall),
      ...table.checks.map((check) => `check(${JSON.stringify(check.name)}, ${sqlTemplate(check.expression)})`),
    ];
    if (extras.length > 0) text += `, (table) => [${extras.map((extra) => `\n\t${extra},`).join('')}\n]`;
    return `${text});`;
  }

  private column(relation: { schema: string; name: string }, column: CatalogColumn, primaryKey: boolean): string {
    const rendered = this.builder(relation, column);
    let text = rendered.text + '.array()'.repeat(column.type.dimensions);
    text += defaultCall(column, rendered);
    if (primaryKey) text += '.primaryKey()';
    if (column.notNull && !column.identity) text += '.notNull()';
    if (column.identity) text += identityCall(column.identity);
    if (column.generated !== undefined) text += `.generatedAlwaysAs(${sqlTemplate(column.generated)})`;
    return text;
  }

  /** The column's builder call, e.g. `displayName: varchar("display_name", { length: 100 })`. */
  private builder(relation: { schema: string; name: string }, column: CatalogColumn | CatalogViewColumn): RenderedColumn {
    const rendered = columnBuilder(column);
    if (rendered.builder) this.imports.push(rendered.builder);
    if (rendered.custom) this.customColumns.add(rendered.custom);
    if (rendered.text === undefined) {
      const where = relation.schema === 'public' ? relation.name : `${relation.schema}.${relation.name}`;
      this.unmappable.push(`${where}.${column.name} (${column.type.sql})`);
    }
    return rendered;
  }

  private foreignKeyCall(table: CatalogTable, fk: CatalogForeignKey): string {
    const self = fk.referencedSchema === table.schema && fk.referencedTable === table.name;
    const target = self ? 'table' : camelKey(nameIn(fk.referencedTable, this.schemaVariables.get(fk.referencedSchema)));
    let text = 'foreignKey({\n';
    text += `\t\t\tcolumns: [${fk.columns.map((c) => `table.${camelKey(c)}`).join(', ')}],\n`;
    text += `\t\t\tforeignColumns: [${fk.referencedColumns.map((c) => `${target}.${camelKey(c)}`).join(', ')}],\n`;
    text += `\t\t\tname: ${JSON.stringify(fk.name)}\n`;
    text += '\t\t})';
    if (fk.onUpdate !== 'no action') text += `.onUpdate("${fk.onUpdate}")`;
    if (fk.onDelete !== 'no action') text += `.onDelete("${fk.onDelete}")`;
    return text;
  }

  private view(view: CatalogView): string {
    const schema = this.schemaVariables.get(view.schema);
    this.imports.push(schema ? 'pgSchema' : view.materialized ? 'pgMaterializedView' : 'pgView');
    const kind = view.materialized ? 'materializedView' : 'view';
    const call = schema ? `${schema}.${kind}` : view.materialized ? 'pgMaterializedView' : 'pgView';
    const columns = view.columns.map((column) => {
      const rendered = this.builder(view, column);
      return { custom: rendered.custom, text: `\t${rendered.text}${'.array()'.repeat(column.type.dimensions)}${column.notNull ? '.notNull()' : ''},\n` };
    });
    // drizzle-kit (after sqlfirst's finishing) starts a view's column list on a new line when its first column is a custom one
    const open = columns[0]?.custom ? '{\n' : '{';
    let text = `export const ${camelKey(nameIn(view.name, schema))} = ${call}(${JSON.stringify(view.name)}, ${open}${columns.map((c) => c.text).join('')}})`;
    const options = Object.entries(view.with);
    if (options.length > 0) text += `.with(${JSON.stringify(Object.fromEntries(options.map(([key, value]) => [camelCase(key), optionValue(value)])))})`;
    return `${text}.as(${sqlTemplate(view.definition)});`;
  }
}

function optionValue(value: string): string | number | boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return Number.isNaN(Number(value)) ? value : Number(value);
}

const BIGINT_NOTE = '// You can use { mode: "bigint" } if numbers are exceeding js number limitations\n\t';

/** The builder for a column's type, as drizzle-kit picks it. */
function columnBuilder(column: CatalogColumn | CatalogViewColumn): RenderedColumn {
  const { name, type } = column;
  const key = camelKey(name);
  const plain = (builder: string) => ({ builder, text: `${key}: ${builder}(${columnNameArgument(name)})` });
  const configured = (builder: string, config: string | undefined) =>
    config ? { builder, text: `${key}: ${builder}(${columnNameArgument(name, true)}${config})` } : plain(builder);
  if (type.isEnum) return { text: `${key}: ${camelKey(nameIn(type.name, type.schema))}(${columnNameArgument(name)})` };
  const serial = 'serial' in column ? column.serial : undefined;
  if (serial === 'bigserial') return configured('bigserial', '{ mode: "bigint" }');
  if (serial) return plain(serial);
  if (type.isOther) return {};
  switch (type.name) {
    case 'int4':
      return plain('integer');
    case 'int2':
      return plain('smallint');
    case 'int8': {
      const rendered = configured('bigint', '{ mode: "number" }');
      return { ...rendered, text: BIGINT_NOTE + rendered.text };
    }
    case 'bool':
      return plain('boolean');
    case 'float8':
      return plain('doublePrecision');
    case 'float4':
      return plain('real');
    case 'numeric': {
      const [precision, scale] = type.modifiers;
      if (precision === undefined) return plain('numeric');
      // drizzle-kit splits "20, 8" at the comma and keeps the space: "scale:  8"
      return configured('numeric', `{ precision: ${precision}${scale === undefined ? '' : `, scale:  ${scale}`} }`);
    }
    case 'timestamp':
    case 'timestamptz':
      return configured('timestamp', timeConfig(type, { withTimezone: type.name === 'timestamptz', mode: "'string'" }));
    case 'time':
    case 'timetz':
      return configured('time', timeConfig(type, { withTimezone: type.name === 'timetz' }));
    case 'interval':
      return configured('interval', intervalConfig(type));
    case 'varchar':
      return configured('varchar', type.modifiers.length > 0 ? `{ length: ${type.modifiers[0]} }` : undefined);
    case 'bpchar':
      return configured('char', type.modifiers.length > 0 ? `{ length: ${type.modifiers[0]} }` : undefined);
    case 'char':
      return plain('char');
    case 'date':
    case 'uuid':
    case 'text':
    case 'jsonb':
    case 'json':
    case 'inet':
    case 'cidr':
    case 'macaddr':
    case 'macaddr8':
    case 'point':
    case 'line':
      return plain(type.name);
  }
  const custom = customColumnFor(type.name);
  if (!custom) return {};
  const elementType = type.sql.slice(0, type.sql.length - 2 * type.dimensions);
  return { custom, text: `${key}: ${custom}(${JSON.stringify(name)}, { type: ${JSON.stringify(elementType)} })` };
}

function timeConfig(type: CatalogType, options: { withTimezone: boolean; mode?: string }): string | undefined {
  const entries: string[] = [];
  if (type.modifiers[0]) entries.push(`precision: ${type.modifiers[0]}`);
  if (options.withTimezone) entries.push('withTimezone: true');
  if (options.mode) entries.push(`mode: ${options.mode}`);
  return entries.length > 0 ? `{ ${entries.join(', ')} }` : undefined;
}

const INTERVAL_FIELDS = ['year to month', 'day to hour', 'day to minute', 'day to second', 'hour to minute', 'hour to second', 'minute to second', 'year', 'month', 'day', 'hour', 'minute', 'second'];

/** `interval day to second(3)` → `{ fields: "day to second", precision: 3 }`, read from the type as PostgreSQL prints it. */
function intervalConfig(type: CatalogType): string | undefined {
  const rest = type.sql.slice('interval'.length).replace(/(\[\])+$/, '').trim();
  const entries: string[] = [];
  const fields = INTERVAL_FIELDS.find((candidate) => rest === candidate || rest.startsWith(`${candidate}(`));
  if (fields) entries.push(`fields: "${fields}"`);
  const precision = rest.startsWith('(') || fields ? /\((\d+)\)$/.exec(rest)?.[1] : undefined;
  if (precision !== undefined) entries.push(`precision: ${precision}`);
  return entries.length > 0 ? `{ ${entries.join(', ')} }` : undefined;
}

const NUMBER = /^-?[\d.]+(?:e-?\d+)?$/;
const TIMESTAMP_CONSTANT = /^'\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}(:\d{2})?)?'$/;
const TIME_CONSTANT = /^'\d{2}:\d{2}(:\d{2})?(\.\d+)?'$/;
const DATE_CONSTANT = /^'\d{4}-\d{2}-\d{2}'$/;

/** `.default(…)` as drizzle-kit writes it for the type; an expression it cannot type becomes sql`…`. */
function defaultCall(column: CatalogColumn, rendered: RenderedColumn): string {
  const value = column.default;
  if (!value) return '';
  const { constant, expression } = value;
  const asSql = `.default(${sqlTemplate(constant ?? expression)})`;
  if (column.type.dimensions > 0 || rendered.custom) return `.default(${sqlTemplate(expression)})`;
  if (column.type.isEnum) return constant ? `.default(${quoted(constantValue(constant))})` : asSql;
  switch (rendered.builder) {
    case 'integer':
    case 'smallint':
    case 'bigint':
    case 'doublePrecision':
    case 'real':
      return constant && NUMBER.test(constant) ? `.default(${constant})` : asSql;
    case 'boolean':
      return constant === 'true' || constant === 'false' ? `.default(${constant})` : asSql;
    case 'uuid':
      return expression === 'gen_random_uuid()' ? '.defaultRandom()' : asSql;
    case 'numeric':
      return constant ? `.default(${quoted(constantValue(constant))})` : `.default(${sqlTemplate(expression)})`;
    case 'timestamp':
      if (expression === 'now()') return '.defaultNow()';
      return constant && TIMESTAMP_CONSTANT.test(constant) ? `.default(${constant})` : asSql;
    case 'time':
      if (expression === 'now()') return '.defaultNow()';
      return constant && TIME_CONSTANT.test(constant) ? `.default(${constant})` : asSql;
    case 'date':
      if (expression === 'now()') return '.defaultNow()';
      return constant && DATE_CONSTANT.test(constant) ? `.default(${constant})` : asSql;
    case 'text':
    case 'varchar':
    case 'char':
      return constant ? `.default(${quoted(constantValue(constant))})` : asSql;
    case 'json':
    case 'jsonb':
      return constant ? `.default(${JSON.stringify(JSON.parse(constantValue(constant)))})` : asSql;
    case 'interval':
    case 'inet':
    case 'cidr':
    case 'macaddr':
    case 'macaddr8':
    case 'point':
    case 'line':
      return constant ? `.default(${constant})` : asSql;
    default:
      return asSql;
  }
}

function identityCall(identity: NonNullable<CatalogColumn['identity']>): string {
  let options = `{ name: ${JSON.stringify(identity.sequence)}`;
  for (const [key, value] of [['startWith', identity.start], ['increment', identity.increment], ['minValue', identity.minValue], ['maxValue', identity.maxValue], ['cache', identity.cache]]) {
    if (value) options += `, ${key}: ${value}`;
  }
  if (identity.cycle) options += ', cycle: true';
  options += ' }';
  return identity.generation === 'always' ? `.generatedAlwaysAsIdentity(${options})` : `.generatedByDefaultAsIdentity(${options})`;
}

function policyCall(policy: CatalogPolicy): string {
  let options = `as: "${policy.permissive ? 'permissive' : 'restrictive'}", for: "${policy.command}", to: [${policy.roles.map((role) => JSON.stringify(role)).join(', ')}]`;
  if (policy.using !== undefined) options += `, using: ${sqlTemplate(policy.using)}`;
  // drizzle-kit leaves a space after withCheck
  if (policy.withCheck !== undefined) options += `, withCheck: ${sqlTemplate(policy.withCheck)} `;
  return `pgPolicy(${JSON.stringify(policy.name)}, { ${options} })`;
}

function indexCall(table: CatalogTable, index: CatalogIndex): string {
  // drizzle-kit names an index only when it differs from drizzle's default name
  const defaultName = `${table.name}_${index.keys.map((key) => key.column ?? key.expression).join('_')}_index`;
  let text = `${index.unique ? 'uniqueIndex' : 'index'}(${defaultName === index.name ? '' : JSON.stringify(index.name)})`;
  const keys = index.keys.map((key) => {
    if (key.column === undefined) return sqlTemplate(key.expression ?? '');
    return `table.${camelKey(key.column)}${key.descending ? '.desc()' : '.asc()'}${key.nullsFirst ? '.nullsFirst()' : '.nullsLast()'}${key.operatorClass ? `.op("${key.operatorClass}")` : ''}`;
  });
  text += `.using("${index.method}", ${keys.join(', ')})`;
  if (index.where !== undefined) text += `.where(${sqlTemplate(index.where)})`;
  const options = Object.entries(index.with);
  if (options.length > 0) text += `.with({${options.map(([key, value]) => `${key}: "${value}"`).join(',')}})`;
  return text;
}

// ---------------------------------------------------------------------------
// relations.ts

interface Relation {
  name: string;
  type: 'one' | 'many';
  tableFrom: string;
  columnsFrom: string[];
  tableTo: string;
  columnsTo: string[];
}

function relationsFile(catalog: Catalog): string {
  const imports: string[] = [];
  const byTable = new Map<string, Relation[]>();
  const add = (table: string, relation: Relation) => {
    const list = byTable.get(table);
    if (list) list.push(relation);
    else byTable.set(table, [relation]);
  };
  for (const table of catalog.tables) {
    for (const fk of table.foreignKeys) {
      const tableFrom = camelCase(nameIn(table.name, table.schema));
      const tableTo = camelCase(nameIn(fk.referencedTable, fk.referencedSchema));
      const columnsFrom = fk.columns.map(camelCase);
      const columnsTo = fk.referencedColumns.map(camelCase);
      imports.push(tableTo, tableFrom);
      add(tableFrom, { name: singular(tableTo), type: 'one', tableFrom, columnsFrom, tableTo, columnsTo });
      add(tableTo, { name: plural(tableFrom), type: 'many', tableFrom: tableTo, columnsFrom: columnsTo, tableTo: tableFrom, columnsTo: columnsFrom });
    }
  }
  let text = `import { relations } from "drizzle-orm/relations";\nimport { ${[...new Set(imports)].join(', ')} } from "./schema.js";\n\n`;
  text += [...byTable].map(([table, relations]) => relationsStatement(table, relations)).join('\n\n');
  return text;
}

function relationsStatement(table: string, relations: Relation[]): string {
  const hasOne = relations.some((r) => r.type === 'one');
  const hasMany = relations.some((r) => r.type === 'many');
  const fields = relations.map((relation, index) => {
    const others = relations.filter((_, i) => i !== index);
    // drizzle-kit names a relation by the first column of its key
    const relationName = others.some((r) => r.tableTo === relation.tableTo)
      ? relation.type === 'one'
        ? `${relation.tableFrom}_${relation.columnsFrom[0]}_${relation.tableTo}_${relation.columnsTo[0]}`
        : `${relation.tableTo}_${relation.columnsTo[0]}_${relation.tableFrom}_${relation.columnsFrom[0]}`
      : undefined;
    const name = others.some((r) => r.name === relation.name) ? `${relation.name}_${relation.type === 'one' ? relation.columnsFrom[0] : relation.columnsTo[0]}` : relation.name;
    if (relation.type === 'one') {
      const fieldList = relation.columnsFrom.map((c) => `${relation.tableFrom}.${c}`).join(', ');
      const referenceList = relation.columnsTo.map((c) => `${relation.tableTo}.${c}`).join(', ');
      return `\t${name}: one(${relation.tableTo}, {\n\t\tfields: [${fieldList}],\n\t\treferences: [${referenceList}]${relationName ? `,\n\t\trelationName: "${relationName}"` : ''}\n\t}),`;
    }
    return `\t${name}: many(${relation.tableTo}${relationName ? `, {\n\t\trelationName: "${relationName}"\n\t}` : ''}),`;
  });
  const helpers = [hasOne ? 'one' : '', hasMany ? 'many' : ''].filter(Boolean).join(', ');
  return `export const ${table}Relations = relations(${table}, ({${helpers}}) => ({\n${fields.join('\n')}\n}));`;
}
