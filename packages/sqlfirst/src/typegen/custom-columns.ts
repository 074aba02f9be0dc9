import { SqlfirstError } from '../errors.js';

/**
 * PostgreSQL types Drizzle has no column builder for become custom columns
 * whose TypeScript type is what node-postgres returns for them: a Buffer for
 * bytea, the text form for the rest (it parses none of them). Each column
 * keeps its SQL type in its config.
 */
export const CUSTOM_COLUMNS = {
  sqlfirstBuffer: 'Buffer',
  sqlfirstString: 'string',
} as const;
export type CustomColumn = keyof typeof CUSTOM_COLUMNS;

const AS_BUFFER = new Set(['bytea']);
const AS_STRING = new Set([
  ...['int4', 'int8', 'num', 'ts', 'tstz', 'date'].flatMap((kind) => [`${kind}range`, `${kind}multirange`]),
  'tsvector',
  'tsquery',
  'xml',
  'money',
  'bit',
  'varbit',
]);

/** The custom column for a built-in type, by its internal name (bytea, tstzrange, varbit, …). */
export function customColumnFor(typeName: string): CustomColumn | undefined {
  if (AS_BUFFER.has(typeName)) return 'sqlfirstBuffer';
  if (AS_STRING.has(typeName)) return 'sqlfirstString';
  return undefined;
}

/** The declarations of the custom columns used, to follow the imports. */
export function customColumnDeclarations(used: Set<CustomColumn>): string[] {
  const declarations = (Object.keys(CUSTOM_COLUMNS) as CustomColumn[])
    .filter((name) => used.has(name))
    .map((name) => {
      const data = CUSTOM_COLUMNS[name];
      return `const ${name} = customType<{ data: ${data}; driverData: ${data}; config: { type: string }; configRequired: true }>({ dataType: (config) => config.type });`;
    });
  return ['', '// PostgreSQL types drizzle-kit cannot map, typed as node-postgres returns them (sqlfirst)', ...declarations];
}

/** The error for columns of types with no Drizzle form, each given as `table.column (type)`. */
export function unmappableTypes(columns: string[]): SqlfirstError {
  return new SqlfirstError(
    `Drizzle has no column type for the PostgreSQL type of ${columns.join(', ')}; use a type Drizzle supports in schema.sql (for a domain or composite type, its underlying types) and run the sync again.`,
    { step: 'types' },
  );
}
