/**
 * PostgreSQL's own parser (npm libpg-query: the server's grammar compiled to
 * WebAssembly), loaded once, on first use, by whichever stage needs it first.
 */
export type SqlParser = typeof import('libpg-query');

let parser: Promise<SqlParser> | undefined;

export function sqlParser(): Promise<SqlParser> {
  parser ??= import('libpg-query').then(async (module) => {
    await module.loadModule();
    return module;
  });
  return parser;
}
