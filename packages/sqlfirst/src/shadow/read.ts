/**
 * Reading the schema files: decoded, parsed with PostgreSQL's parser and
 * checked before anything connects (kept apart from the shadow itself, so a
 * run that stops at the fast path never loads the engine).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { parseStatements, refusal, type Statement } from './statements.js';
import { firstLine } from '../text.js';

export interface SchemaFile {
  /** as shown to people, relative to the working folder */
  name: string;
  sql: string;
  /** its statements, as the PostgreSQL parser reads them */
  statements: Statement[];
}

export interface ReadOptions {
  /** the folder names are shown relative to */
  cwd?: string;
  /** accept a file with no schema statements (an empty schema drops everything, so it must be asked for) */
  allowEmpty?: boolean;
}

/**
 * Reads and parses the schema files, refusing what cannot be a schema. Touches
 * no database: every check here runs before anything connects.
 */
export async function readSchemaFiles(paths: string[], options: ReadOptions = {}): Promise<SchemaFile[]> {
  const { cwd = process.cwd(), allowEmpty = false } = options;
  if (paths.length === 0) throw new SqlfirstError('No schema file was given; pass --to file://schema.sql or set src in atlas.hcl.');
  const files: SchemaFile[] = [];
  for (const file of paths) {
    const name = path.relative(cwd, file) || file;
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const message =
        code === 'ENOENT'
          ? `The schema file ${name} does not exist; check the path given by --to or by src in atlas.hcl.`
          : code === 'EISDIR'
            ? `The schema file ${name} is a folder; pass the .sql file itself (or name the folder in src of atlas.hcl, which reads its .sql files).`
            : `The schema file ${name} could not be read (${code}); check its permissions.`;
      throw new SqlfirstError(message, { cause: error, step: 'read schema' });
    }
    // a byte-order mark is not SQL: PostgreSQL would call it a syntax error
    const sql = decodeSchemaText(bytes, name).replace(/^\uFEFF/, '');
    const statements = await parseStatements(sql, name);
    if (!allowEmpty && statements.every((statement) => statement.setsSession)) {
      throw new SqlfirstError(`The schema file ${name} has no SQL statements that describe a schema; an empty schema would drop everything, so write the schema or pass the right file (or --allow-empty if dropping everything is meant).`, { step: 'read schema' });
    }
    for (const statement of statements) refuseNonSchemaStatement(statement);
    files.push({ name, sql, statements });
  }
  return files;
}

/** The file's text, or one sentence saying why it is not UTF-8 SQL (with the line of the first bad byte). */
function decodeSchemaText(bytes: Buffer, name: string): string {
  const refuse = (message: string, cause?: unknown) => new SqlfirstError(`The schema file ${name} ${message}`, { cause, step: 'read schema' });
  // PowerShell 5's > and Out-File write UTF-16 with a byte-order mark
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw refuse('is UTF-16 text (as Windows PowerShell 5 writes with > or Out-File); save it as UTF-8.');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    const lenient = new TextDecoder('utf-8').decode(bytes);
    throw refuse(`is not valid UTF-8 text (the first invalid byte is on line ${lineAt(lenient, lenient.indexOf('\uFFFD'))}); save it as UTF-8.`, error);
  }
  const nul = text.indexOf('\0');
  if (nul !== -1) throw refuse(`holds a NUL byte on line ${lineAt(text, nul)}, which PostgreSQL cannot read; remove it (or save the file as UTF-8 text if it is in another encoding).`);
  return text;
}

function lineAt(text: string, index: number): number {
  return text.slice(0, Math.max(index, 0)).split('\n').length;
}

function refuseNonSchemaStatement(statement: Statement): void {
  const refused = refusal(statement);
  if (!refused) return;
  throw new SqlfirstError(
    `${statement.file} line ${statement.line}: ${refused.label} does not belong in a schema file (${refused.reason}); remove "${firstLine(statement.text, 60)}".`,
    { step: 'read schema' },
  );
}
