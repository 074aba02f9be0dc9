/** One top-level SQL statement of a schema file and the line it starts on. */
export interface Statement {
  text: string;
  line: number;
}

/**
 * Splits SQL at top-level semicolons, skipping comments, quoted strings,
 * quoted identifiers and dollar-quoted bodies, so that a failing statement
 * can be named by its line. Not a parser: PostgreSQL stays the judge of SQL.
 */
export function splitStatements(sql: string): Statement[] {
  const statements: Statement[] = [];
  let start = 0;
  let line = 1;
  let startLine = 1;
  let i = 0;
  const flush = (end: number) => {
    const raw = sql.slice(start, end);
    // the statement starts at its first keyword, after blank lines and comments
    const prefix = LEADING_NOISE.exec(raw)?.[0] ?? '';
    const text = raw.slice(prefix.length).trimEnd();
    if (text) statements.push({ text, line: startLine + countNewlines(prefix) });
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '\n') line++;
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      line += countNewlines(sql.slice(i + 2, stop));
      i = stop;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === c && sql[j + 1] !== c)) j += sql[j] === c ? 2 : 1;
      line += countNewlines(sql.slice(i + 1, j));
      i = j + 1;
      continue;
    }
    if (c === '$') {
      const tag = /^\$[A-Za-z_][A-Za-z0-9_]*\$|^\$\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        const stop = end === -1 ? sql.length : end + tag[0].length;
        line += countNewlines(sql.slice(i + 1, stop));
        i = stop;
        continue;
      }
    }
    if (c === ';') {
      flush(i);
      start = i + 1;
      startLine = line;
    }
    i++;
  }
  flush(sql.length);
  return statements;
}

function countNewlines(text: string): number {
  let n = 0;
  for (const ch of text) if (ch === '\n') n++;
  return n;
}

const LEADING_NOISE = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;

/** The statement's first line, shortened for a message. */
export function excerpt(statement: string, max = 80): string {
  const first = statement.replace(LEADING_NOISE, '').split('\n')[0].trim();
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}
