/**
 * Schema files as the PostgreSQL parser reads them (libpg-query, the server's
 * own grammar in WebAssembly): statement boundaries, the line each starts on,
 * and what kind of statement it is. Refusing what does not belong in a schema
 * file is decided from the parse tree, never from the text.
 */
import { SqlfirstError } from '../errors.js';
import { firstLine } from '../text.js';
import type { SchemaStatement } from '../engine/load.js';
import { sqlParser, type SqlParser } from '../sql-parser.js';

/** One top-level statement of a schema file. */
export interface Statement extends SchemaStatement {
  /** the parser's node type, e.g. CreateStmt */
  kind: string;
  /** the statement's parse tree (the node under `kind`) */
  node: Tree;
  session: readonly Statement[];
}

/** A parse-tree node: plain JSON from libpg-query. */
type Tree = { readonly [key: string]: unknown };


/**
 * The statements of one schema file. A syntax error throws one sentence naming
 * the file, the line of the error and the statement it is in.
 */
export async function parseStatements(sql: string, file: string): Promise<Statement[]> {
  // the parser refuses an empty input rather than returning no statements
  if (sql.trim() === '') return [];
  const { parseSync, scanSync } = await sqlParser();
  // the parser counts in UTF-8 bytes
  const bytes = Buffer.from(sql, 'utf8');
  const lines = lineStarts(bytes);
  let raw: ReturnType<SqlParser['parseSync']>;
  try {
    raw = parseSync(sql);
  } catch (error) {
    const details = (error as { sqlDetails?: { message: string; cursorPosition: number } }).sqlDetails;
    if (!details) throw error;
    const position = Math.max(0, Math.min(details.cursorPosition, bytes.length));
    const start = failingStatementStart(bytes, position, parseSync, scanSync);
    const text = bytes.subarray(start).toString('utf8').trimStart();
    throw new SqlfirstError(`${file} line ${lineOf(lines, position)}: ${details.message}, in "${firstLine(text, 80)}"; fix the statement (no database was touched).`, {
      cause: error,
      step: 'read schema',
    });
  }
  const statements: Statement[] = [];
  let session: Statement[] = [];
  for (const { stmt, stmt_location: location = 0, stmt_len: length = 0 } of raw.stmts ?? []) {
    if (!stmt) continue;
    // a length of 0 means "to the end of the input" (the last statement, without a semicolon)
    const text = bytes.subarray(location, length ? location + length : bytes.length).toString('utf8').trimEnd();
    const [kind, node] = Object.entries(stmt)[0] as [string, Tree];
    if (kind === 'VariableSetStmt' && LIMIT_SETTINGS.has(String(node.name))) continue;
    const statement: Statement = { file, line: lineOf(lines, location), text, kind, node, session, setsSession: setsSession(kind, node), runsCode: RUNS_CODE.has(kind) };
    statements.push(statement);
    if (statement.setsSession) session = [...session, statement];
  }
  return statements;
}

/**
 * Where the statement holding a syntax error starts: after the last semicolon
 * before the error that ends a complete statement (a semicolon inside a
 * BEGIN ATOMIC body does not).
 */
function failingStatementStart(bytes: Buffer, position: number, parseSync: SqlParser['parseSync'], scanSync: SqlParser['scanSync']): number {
  const prefix = bytes.subarray(0, position).toString('utf8');
  let tokens: { start: number; end: number; text: string }[];
  try {
    tokens = scanSync(prefix).tokens;
  } catch {
    return lineStartBefore(bytes, position);
  }
  for (let i = tokens.length - 1; i >= 0; i--) {
    if (tokens[i].text !== ';') continue;
    try {
      parseSync(bytes.subarray(0, tokens[i].end).toString('utf8'));
    } catch {
      continue;
    }
    return tokens[i + 1]?.start ?? position;
  }
  return tokens[0]?.start ?? position;
}

function lineStartBefore(bytes: Buffer, position: number): number {
  return bytes.lastIndexOf(0x0a, position - 1) + 1;
}

/** Byte offsets at which each line starts. */
function lineStarts(bytes: Buffer): number[] {
  const starts = [0];
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) starts.push(i + 1);
  return starts;
}

/** The 1-based line holding byte `offset`. */
function lineOf(starts: number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= offset) low = middle;
    else high = middle - 1;
  }
  return low + 1;
}

/** Statements that can run arbitrary code in the shadow: what they did is checked right after them. */
const RUNS_CODE = new Set(['DoStmt', 'CallStmt', 'SelectStmt', 'CreateTableAsStmt', 'RefreshMatViewStmt', 'ExecuteStmt', 'ExplainStmt', 'CreateExtensionStmt', 'AlterExtensionStmt']);

/** SET, RESET, DISCARD and SELECT set_config(…): they change the session the statements after them run in. */
function setsSession(kind: string, node: Tree): boolean {
  if (kind === 'VariableSetStmt') return node.is_local !== true && node.name !== 'TRANSACTION';
  if (kind === 'DiscardStmt') return true;
  if (kind !== 'SelectStmt' || node.fromClause !== undefined) return false;
  const targets = (node.targetList as Tree[] | undefined) ?? [];
  return targets.length > 0 && targets.every((target) => functionName(child(child(target, 'ResTarget'), 'val')) === 'set_config');
}

/** Why a statement does not belong in a schema file, or undefined when it does. */
export interface Refusal {
  /** what the statement is, e.g. ALTER DATABASE */
  label: string;
  reason: string;
}

const DATA = 'it changes rows, and a schema file describes tables, not their contents';
const TRANSACTION = 'sqlfirst runs every statement in a transaction of its own';
const SHARED = 'it acts on the database, a role, a tablespace or the server, which are shared by everything on the server and are not part of a schema';
const MAINTENANCE = 'it is maintenance of the server, not a description of the schema';
const LIMITS = "it would switch off sqlfirst's own limits while the schema loads";
const IDENTITY = 'it would run the rest of the schema as another role';

const REFUSED: Record<string, Refusal> = {
  InsertStmt: { label: 'INSERT', reason: DATA },
  UpdateStmt: { label: 'UPDATE', reason: DATA },
  DeleteStmt: { label: 'DELETE', reason: DATA },
  MergeStmt: { label: 'MERGE', reason: DATA },
  TruncateStmt: { label: 'TRUNCATE', reason: DATA },
  CopyStmt: { label: 'COPY', reason: DATA },
  CreatedbStmt: { label: 'CREATE DATABASE', reason: SHARED },
  DropdbStmt: { label: 'DROP DATABASE', reason: SHARED },
  AlterDatabaseStmt: { label: 'ALTER DATABASE', reason: SHARED },
  AlterDatabaseSetStmt: { label: 'ALTER DATABASE', reason: SHARED },
  AlterDatabaseRefreshCollStmt: { label: 'ALTER DATABASE', reason: SHARED },
  CreateRoleStmt: { label: 'CREATE ROLE', reason: SHARED },
  AlterRoleStmt: { label: 'ALTER ROLE', reason: SHARED },
  AlterRoleSetStmt: { label: 'ALTER ROLE', reason: SHARED },
  DropRoleStmt: { label: 'DROP ROLE', reason: SHARED },
  GrantRoleStmt: { label: 'GRANT or REVOKE of a role', reason: SHARED },
  ReassignOwnedStmt: { label: 'REASSIGN OWNED', reason: SHARED },
  DropOwnedStmt: { label: 'DROP OWNED', reason: SHARED },
  AlterSystemStmt: { label: 'ALTER SYSTEM', reason: SHARED },
  CreateTableSpaceStmt: { label: 'CREATE TABLESPACE', reason: SHARED },
  DropTableSpaceStmt: { label: 'DROP TABLESPACE', reason: SHARED },
  AlterTableSpaceOptionsStmt: { label: 'ALTER TABLESPACE', reason: SHARED },
  AlterTableMoveAllStmt: { label: 'ALTER … ALL IN TABLESPACE', reason: SHARED },
  CreateSubscriptionStmt: { label: 'CREATE SUBSCRIPTION', reason: 'it connects to another server' },
  AlterSubscriptionStmt: { label: 'ALTER SUBSCRIPTION', reason: 'it connects to another server' },
  DropSubscriptionStmt: { label: 'DROP SUBSCRIPTION', reason: 'it connects to another server' },
  LoadStmt: { label: 'LOAD', reason: SHARED },
  CheckPointStmt: { label: 'CHECKPOINT', reason: MAINTENANCE },
  ClusterStmt: { label: 'CLUSTER', reason: MAINTENANCE },
  ReindexStmt: { label: 'REINDEX', reason: MAINTENANCE },
  ListenStmt: { label: 'LISTEN', reason: 'it waits for messages, which a schema does not' },
  UnlistenStmt: { label: 'UNLISTEN', reason: 'it waits for messages, which a schema does not' },
  NotifyStmt: { label: 'NOTIFY', reason: 'it sends a message, which a schema does not' },
};

const TRANSACTION_LABELS: Record<string, string> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE SAVEPOINT',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK TO SAVEPOINT',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

/**
 * Timeouts a schema file sets (pg_dump writes `SET statement_timeout = 0;`)
 * are left out, not refused: sqlfirst's own limits apply while the schema
 * loads, enforced from outside the session.
 */
const LIMIT_SETTINGS = new Set(['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'transaction_timeout']);

/** Settings a schema file may not change: who runs the statements, and (inside code, where they cannot be left out) the limits. */
const PROTECTED_SETTINGS: Record<string, string> = {
  role: IDENTITY,
  session_authorization: IDENTITY,
  ...Object.fromEntries([...LIMIT_SETTINGS].map((name) => [name, LIMITS])),
};

/** Objects of COMMENT, SECURITY LABEL, GRANT, RENAME and OWNER TO that live outside the database's schemas. */
const SHARED_OBJECTS: Record<string, string> = {
  OBJECT_DATABASE: 'DATABASE',
  OBJECT_ROLE: 'ROLE',
  OBJECT_TABLESPACE: 'TABLESPACE',
  OBJECT_PARAMETER_ACL: 'PARAMETER',
};

/**
 * Whether `statement` belongs in a schema file. Allowed: everything that
 * creates, alters, drops, comments or grants on objects in the database,
 * session settings other than the protected ones, SELECT (pg_dump sets its
 * search_path with one; rows it writes are caught when it runs), DO and CALL
 * (they cannot be judged without running them: the loader checks what they did).
 */
export function refusal(statement: Pick<Statement, 'kind' | 'node'>): Refusal | undefined {
  const { kind, node } = statement;
  const refused = REFUSED[kind];
  if (refused) return refused;
  if (kind === 'TransactionStmt') return { label: TRANSACTION_LABELS[String(node.kind)] ?? 'transaction control', reason: TRANSACTION };
  if (kind === 'VacuumStmt') return { label: node.is_vacuumcmd ? 'VACUUM' : 'ANALYZE', reason: MAINTENANCE };
  if (kind === 'VariableSetStmt') {
    const name = String(node.name);
    const reason = PROTECTED_SETTINGS[name];
    if (reason) return { label: `${String(node.kind).startsWith('VAR_RESET') ? 'RESET' : 'SET'} ${name === 'session_authorization' ? 'SESSION AUTHORIZATION' : name === 'role' ? 'ROLE' : name}`, reason };
  }
  const shared = sharedObjectAction(kind, node);
  if (shared) return { label: shared, reason: SHARED };
  if (kind === 'AlterTableStmt' && ((node.cmds as Tree[] | undefined) ?? []).some((cmd) => child(cmd, 'AlterTableCmd')?.subtype === 'AT_SetTableSpace')) {
    return { label: 'SET TABLESPACE', reason: SHARED };
  }
  const setting = protectedSetConfig(node);
  if (setting) return { label: `set_config('${setting}')`, reason: PROTECTED_SETTINGS[setting] };
  return undefined;
}

/** COMMENT ON DATABASE, GRANT … ON DATABASE, ALTER DATABASE … RENAME/OWNER TO, SECURITY LABEL ON ROLE, … */
function sharedObjectAction(kind: string, node: Tree): string | undefined {
  const object = (field: string) => SHARED_OBJECTS[String(node[field])];
  switch (kind) {
    case 'CommentStmt':
      return object('objtype') && `COMMENT ON ${object('objtype')}`;
    case 'SecLabelStmt':
      return object('objtype') && `SECURITY LABEL ON ${object('objtype')}`;
    case 'GrantStmt':
      return object('objtype') && `${node.is_grant ? 'GRANT' : 'REVOKE'} … ON ${object('objtype')}`;
    case 'RenameStmt':
      return object('renameType') && `ALTER ${object('renameType')}`;
    case 'AlterOwnerStmt':
      return object('objectType') && `ALTER ${object('objectType')}`;
    default:
      return undefined;
  }
}

/** The protected setting a set_config('name', …) call anywhere in the statement names, if any. */
function protectedSetConfig(tree: unknown): string | undefined {
  if (Array.isArray(tree)) {
    for (const item of tree) {
      const found = protectedSetConfig(item);
      if (found) return found;
    }
    return undefined;
  }
  if (!tree || typeof tree !== 'object') return undefined;
  const call = child(tree as Tree, 'FuncCall');
  if (call && functionName(tree as Tree) === 'set_config') {
    const name = child(child(((call.args as Tree[] | undefined) ?? [])[0], 'A_Const'), 'sval')?.sval;
    if (typeof name === 'string' && PROTECTED_SETTINGS[name.toLowerCase()]) return name.toLowerCase();
  }
  for (const value of Object.values(tree)) {
    const found = protectedSetConfig(value);
    if (found) return found;
  }
  return undefined;
}

/** The unqualified name of a FuncCall node, e.g. set_config for pg_catalog.set_config(…). */
function functionName(tree: Tree | undefined): string | undefined {
  const names = (child(tree, 'FuncCall')?.funcname as Tree[] | undefined) ?? [];
  const last = child(names[names.length - 1], 'String')?.sval;
  return typeof last === 'string' ? last : undefined;
}

function child(tree: Tree | undefined, key: string): Tree | undefined {
  const value = tree?.[key];
  return value && typeof value === 'object' ? (value as Tree) : undefined;
}
