import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlfirstError } from '../errors.js';
import type { Catalog, CatalogColumn, CatalogTable, CatalogType } from './catalog-model.js';
import { generateDrizzleFiles } from './generate.js';
import { camelCase, plural, singular } from './names.js';

const HEADER = '// header line one\n// header line two\n';

function type(name: string, extra: Partial<CatalogType> = {}): CatalogType {
  return { sql: name, name, modifiers: [], dimensions: 0, isEnum: false, isOther: false, ...extra };
}

function column(name: string, columnType: CatalogType, extra: Partial<CatalogColumn> = {}): CatalogColumn {
  return { name, type: columnType, notNull: false, ...extra };
}

function table(name: string, columns: CatalogColumn[], extra: Partial<CatalogTable> = {}): CatalogTable {
  return { schema: 'public', name, columns, uniques: [], foreignKeys: [], checks: [], indexes: [], policies: [], ...extra };
}

function catalog(tables: CatalogTable[], extra: Partial<Catalog> = {}): Catalog {
  return { schemas: ['public'], enums: [], sequences: [], tables, views: [], ...extra };
}

const users = table(
  'users',
  [
    column('id', type('int4'), {
      notNull: true,
      identity: { generation: 'always', sequence: 'users_id_seq', start: '1', increment: '1', minValue: '1', maxValue: '2147483647', cache: '1', cycle: false },
    }),
    column('display_name', type('varchar', { sql: 'character varying(100)', modifiers: [100] }), { notNull: true }),
    column('role', type('user_role', { schema: 'public', isEnum: true }), { notNull: true, default: { expression: "'trader'::user_role", constant: "'trader'" } }),
    column('balance', type('numeric', { sql: 'numeric(20,8)', modifiers: [20, 8] }), { default: { expression: '0', constant: '0' } }),
    column('created_at', type('timestamptz', { sql: 'timestamp with time zone' }), { notNull: true, default: { expression: 'now()' } }),
    column('tags', type('text', { sql: 'text[]', dimensions: 1 })),
  ],
  {
    primaryKey: { name: 'users_pkey', columns: ['id'] },
    uniques: [{ name: 'users_name_role_key', columns: ['role', 'display_name'], nullsNotDistinct: false }],
    checks: [{ name: 'users_name_check', expression: "display_name ~ '^\\S+$'::text AND display_name <> '`'" }],
    indexes: [
      {
        name: 'users_created_idx',
        unique: false,
        method: 'btree',
        keys: [{ column: 'created_at', operatorClass: 'timestamptz_ops', descending: true, nullsFirst: true }],
        where: '(balance > (0)::numeric)',
        with: {},
      },
    ],
  },
);

describe('generateDrizzleFiles', () => {
  it('writes a table as drizzle-kit pull does, with the header given', () => {
    const files = generateDrizzleFiles(catalog([users], { enums: [{ schema: 'public', name: 'user_role', values: ['trader', 'admin'] }] }), { header: HEADER });
    assert.equal(
      files['schema.ts'],
      [
        '// header line one',
        '// header line two',
        'import { pgTable, index, unique, check, integer, varchar, numeric, timestamp, text, pgEnum } from "drizzle-orm/pg-core"',
        'import { sql } from "drizzle-orm"',
        '',
        "export const userRole = pgEnum(\"user_role\", ['trader', 'admin'])",
        '',
        '',
        'export const users = pgTable("users", {',
        '\tid: integer().primaryKey().generatedAlwaysAsIdentity({ name: "users_id_seq", startWith: 1, increment: 1, minValue: 1, maxValue: 2147483647, cache: 1 }),',
        '\tdisplayName: varchar("display_name", { length: 100 }).notNull(),',
        "\trole: userRole().default('trader').notNull(),",
        "\tbalance: numeric({ precision: 20, scale:  8 }).default('0'),",
        "\tcreatedAt: timestamp(\"created_at\", { withTimezone: true, mode: 'string' }).defaultNow().notNull(),",
        '\ttags: text().array(),',
        '}, (table) => [',
        '\tindex("users_created_idx").using("btree", table.createdAt.desc().nullsFirst().op("timestamptz_ops")).where(sql`(balance > (0)::numeric)`),',
        // the declared column order, not the catalog's
        '\tunique("users_name_role_key").on(table.role, table.displayName),',
        // a template literal: the backslash and the backtick are escaped
        "\tcheck(\"users_name_check\", sql`display_name ~ '^\\\\S+$'::text AND display_name <> '\\`'`),",
        ']);',
        '',
      ].join('\n'),
    );
    assert.ok(files['relations.ts'].startsWith(HEADER));
  });

  it('names relations as drizzle-kit does, telling apart two keys to the same table', () => {
    const assets = table('assets', [column('id', type('int4'), { notNull: true })], { primaryKey: { name: 'assets_pkey', columns: ['id'] } });
    const fk = (name: string, col: string) => ({ name, columns: [col], referencedSchema: 'public', referencedTable: 'assets', referencedColumns: ['id'], onUpdate: 'no action' as const, onDelete: 'restrict' as const });
    const instruments = table('instruments', [column('base_asset_id', type('int4')), column('quote_asset_id', type('int4'))], {
      foreignKeys: [fk('instruments_base_fkey', 'base_asset_id'), fk('instruments_quote_fkey', 'quote_asset_id')],
    });
    const files = generateDrizzleFiles(catalog([assets, instruments]), { header: HEADER });
    assert.match(files['schema.ts'], /foreignKey\(\{\n\t\t\tcolumns: \[table\.baseAssetId\],\n\t\t\tforeignColumns: \[assets\.id\],\n\t\t\tname: "instruments_base_fkey"\n\t\t\}\)\.onDelete\("restrict"\),/);
    const relations = files['relations.ts'];
    assert.match(relations, /import \{ assets, instruments \} from "\.\/schema\.js";/);
    assert.match(relations, /asset_baseAssetId: one\(assets, \{\n\t\tfields: \[instruments\.baseAssetId\],\n\t\treferences: \[assets\.id\],\n\t\trelationName: "instruments_baseAssetId_assets_id"\n\t\}\),/);
    assert.match(relations, /instruments_quoteAssetId: many\(instruments, \{\n\t\trelationName: "instruments_quoteAssetId_assets_id"\n\t\}\),/);
  });

  it('types bytea and ranges as custom columns, and keeps their defaults', () => {
    const files = generateDrizzleFiles(
      catalog([table('blobs', [column('data', type('bytea'), { notNull: true }), column('during', type('tstzrange'), { default: { expression: "'empty'::tstzrange", constant: "'empty'" } })])]),
      { header: HEADER },
    );
    const schema = files['schema.ts'];
    assert.match(schema, /^import \{ pgTable, customType \} from "drizzle-orm\/pg-core"$/m);
    assert.match(schema, /^const sqlfirstBuffer = customType<\{ data: Buffer;/m);
    assert.match(schema, /\tdata: sqlfirstBuffer\("data", \{ type: "bytea" \}\)\.notNull\(\),/);
    assert.match(schema, /\tduring: sqlfirstString\("during", \{ type: "tstzrange" \}\)\.default\(sql`'empty'::tstzrange`\),/);
  });

  it('refuses a type Drizzle cannot express, naming every such column', () => {
    const pair = type('pair', { schema: 'extra', sql: 'extra.pair', isOther: true });
    const things = { ...table('things', [column('both_parts', pair), column('id', type('int4'))]), schema: 'extra' };
    assert.throws(
      () => generateDrizzleFiles(catalog([things], { schemas: ['extra'] }), { header: HEADER }),
      (error: unknown) => error instanceof SqlfirstError && /^Drizzle has no column type for the PostgreSQL type of extra\.things\.both_parts \(extra\.pair\); /.test(error.message),
    );
  });

  it('declares a schema that holds nothing and imports pgSchema for it', () => {
    const files = generateDrizzleFiles(catalog([], { schemas: ['audit', 'public'] }), { header: HEADER });
    assert.match(files['schema.ts'], /^import \{ pgTable, pgSchema \} from "drizzle-orm\/pg-core"$/m);
    assert.match(files['schema.ts'], /^export const audit = pgSchema\("audit"\);$/m);
  });

  it('writes a view with its columns and its definition', () => {
    const view = { schema: 'public', name: 'open_orders', materialized: false, definition: 'SELECT o.id FROM orders o', columns: [{ name: 'id', type: type('uuid'), notNull: false }], with: {} };
    const files = generateDrizzleFiles(catalog([], { views: [view] }), { header: HEADER });
    assert.match(files['schema.ts'], /^export const openOrders = pgView\("open_orders", \{\tid: uuid\(\),\n\}\)\.as\(sql`SELECT o\.id FROM orders o`\);$/m);
  });
});

describe('names as drizzle-kit writes them', () => {
  it('camel-cases and inflects like the camelcase and pluralize packages', () => {
    assert.equal(camelCase('user_api_keys'), 'userApiKeys');
    assert.equal(camelCase('eventsInAudit'), 'eventsInAudit');
    assert.equal(plural('eventsInAudit'), 'eventsInAudits');
    assert.equal(singular('userApiKeys'), 'userApiKey');
    assert.equal(singular('strategies'), 'strategy');
    assert.equal(plural('person'), 'people');
    assert.equal(singular('news'), 'news');
  });
});
