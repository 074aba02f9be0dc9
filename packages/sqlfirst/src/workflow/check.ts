/**
 * The CI gate (`sqlfirst check`, `npm run db:check`). It changes nothing and
 * fails, with the list, when
 *  - the committed Drizzle types differ from what schema.sql produces (each shown as a unified diff),
 *  - a Drizzle migration (journal, numbered migration files, script, migrator call, config) exists anywhere,
 *  - with an explicit --env or --url: the live database has drifted from schema.sql.
 * Without a configured database the types come from the embedded server.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { planChanges } from '../engine/index.js';
import { isSqlfirstError, SqlfirstError } from '../errors.js';
import { policySkips } from '../policy/index.js';
import { commandFor } from '../report/invocation.js';
import { firstLine, plural } from '../text.js';
import { needed, runSteps, step, type RunContext } from './run.js';
import { connect, loadDesired, readSchema, readTarget, typesFolder } from './steps.js';

export type ArtifactKind = 'migrations folder' | 'migration files' | 'migration journal' | 'package script' | 'migrator call' | 'drizzle config';

/** One trace of Drizzle migrations in the repository. */
export interface MigrationArtifact {
  kind: ArtifactKind;
  /** relative to the repository root, with forward slashes (a folder ends in /) */
  path: string;
  line?: number;
  /** what was found, in words */
  detail: string;
}

/** What the check found, gathered step by step. */
interface Findings {
  problems: string[];
}

/** lines of a stale file's diff shown without --verbose */
const DIFF_LINES_SHOWN = 20;

/** Runs every check; the outcome lists every problem (exit 1) or says all passed. With --env or --url the database's drift is checked too. */
export async function runCheck(run: RunContext, { drift }: { drift: boolean }) {
  const found: Findings = { problems: [] };
  try {
    return await runSteps(run, [scanMigrations(found), readSchema, connect, loadDesired, compareTypes(found), ...(drift ? [readTarget, checkDrift(found)] : []), checkOutcome(found, drift)]);
  } catch (error) {
    // a gate's failure is one sentence; --verbose adds the causes, never a stack trace
    if (isSqlfirstError(error)) throw error;
    const reason = firstLine(error instanceof Error ? error.message : String(error)).replace(/[.\s]+$/, '');
    throw new SqlfirstError(`The check could not finish (${reason}); nothing was changed, fix the cause and run it again.`, { cause: error, step: run.reporter.failingStep || 'check' });
  }
}

const scanMigrations = (found: Findings) =>
  step('scan migrations', async (run) => {
    const artifacts = await findMigrationArtifacts(run.project.root, path.dirname(run.project.schema));
    for (const artifact of artifacts) {
      found.problems.push(`Drizzle migration: ${artifact.path}${artifact.line ? `:${artifact.line}` : ''} ${artifact.detail} (remove it: schema.sql and sqlfirst are the only way schema changes)`);
    }
    return { detail: artifacts.length ? `${plural(artifacts.length, 'Drizzle migration artifact')}` : 'no Drizzle migrations' };
  });

/** The committed types against the ones schema.sql produces, written nowhere; each difference is shown as a unified diff. */
const compareTypes = (found: Findings) =>
  step('compare types', async (run) => {
    const { compareTypes: differing } = await import('../typegen/index.js');
    const outDir = typesFolder(run);
    const generated = needed(run.types, 'the generated types');
    const stale = await differing(outDir, generated);
    const regenerate = commandFor(['types']);
    for (const name of stale) {
      const file = display(run.project.root, path.join(outDir, name));
      const committed = await fs.readFile(path.join(outDir, name), 'utf8').catch(() => undefined);
      const diff = unifiedDiff(committed ?? '', generated[name as keyof typeof generated], `${file} (committed)`, `${file} (from schema.sql)`);
      showDiff(run, diff);
      const what = committed === undefined ? 'is missing' : `differs from what schema.sql produces (${changeCount(diff)}, diff above)`;
      found.problems.push(`Drizzle types out of date: ${file} ${what}; run ${regenerate} and commit the result`);
    }
    return { detail: stale.length ? `${stale.join(', ')} out of date` : 'schema.ts, relations.ts up to date' };
  });

/** The first lines of a diff and how many more there are; --verbose shows it whole. */
function showDiff(run: RunContext, diff: string[]): void {
  const shown = run.reporter.verbose ? diff : diff.slice(0, DIFF_LINES_SHOWN);
  for (const line of shown) run.reporter.line(line);
  const rest = diff.length - shown.length;
  if (rest > 0) run.reporter.line(`… ${plural(rest, 'more line')} of difference (--verbose shows them all)`);
}

/** "3 lines added, 1 removed" */
function changeCount(diff: string[]): string {
  const body = diff.slice(2);
  const added = body.filter((line) => line.startsWith('+')).length;
  const removed = body.filter((line) => line.startsWith('-')).length;
  return `${plural(added, 'line')} added, ${removed} removed`;
}

/** What apply would run against the live database: anything is drift. What the policy keeps is reported, not failed. */
const checkDrift = (found: Findings) =>
  step('drift', async (run) => {
    const open = needed(run.target, 'the target');
    const options = { schemas: run.request.schemas, applyingRole: open.target.user };
    const first = planChanges(needed(run.current, 'the target state'), needed(run.desired, 'the desired state'), options);
    const kept = policySkips(first, run.request.policy);
    const plan = kept.length ? planChanges(needed(run.current, 'the target state'), needed(run.desired, 'the desired state'), { ...options, keep: kept.map((k) => k.object) }) : first;
    for (const change of plan.changes) found.problems.push(`drift: ${firstLine(change.sql)}${change.dataLoss ? ' (loses data)' : ''}`);
    for (const { object, rule } of kept) run.reporter.warn(`The database keeps ${object.kind} ${object.name}, which schema.sql lacks, by the ${rule} policy (not a failure).`);
    return { detail: plan.changes.length ? `${plural(plan.changes.length, 'statement')} of drift` : 'none' };
  });

const checkOutcome = (found: Findings, drift: boolean) =>
  step('done', async (run) => {
    const { problems } = found;
    if (problems.length === 0) {
      const parts = ['the Drizzle types match schema.sql', 'no Drizzle migration exists', ...(drift ? ['the database matches schema.sql'] : [])];
      run.outcome = { exitCode: 0, tone: 'success', message: `check passed: ${parts.join(', ')}.`, problems };
      return;
    }
    const target = run.request.envName ? ['--env', run.request.envName] : ['--url', 'URL'];
    const advice = problems.some((p) => p.startsWith('drift: '))
      ? `fix each and run the check again (a drift statement is what ${commandFor(['apply', ...target])} would run to make the database match schema.sql; ${commandFor(['plan', ...target])} shows them in full)`
      : 'fix each and run the check again';
    run.outcome = { exitCode: 1, tone: 'failed', message: `${plural(problems.length, 'problem')} found; ${advice}:\n${problems.map((p) => `  ${p}`).join('\n')}`, problems };
  });

/**
 * `before` → `after` as the lines of a unified diff (3 lines of context), headed
 * `--- from` and `+++ to`; empty when they are equal.
 */
export function unifiedDiff(before: string, after: string, from: string, to: string, context = 3): string[] {
  const edits = lineEdits(splitLines(before), splitLines(after));
  const changed = edits.flatMap((edit, index) => (edit.op === ' ' ? [] : [index]));
  if (changed.length === 0) return [];
  const lines = [`--- ${from}`, `+++ ${to}`];
  // hunks: changes closer than twice the context share one
  let start = 0;
  while (start < changed.length) {
    let end = start;
    while (end + 1 < changed.length && changed[end + 1] - changed[end] <= 2 * context) end++;
    const first = Math.max(0, changed[start] - context);
    const last = Math.min(edits.length - 1, changed[end] + context);
    const hunk = edits.slice(first, last + 1);
    const oldCount = hunk.filter((e) => e.op !== '+').length;
    const newCount = hunk.filter((e) => e.op !== '-').length;
    // a side with no lines is numbered by the line before the hunk, as diff -u does
    const oldStart = edits[first].oldLine + (oldCount ? 1 : 0);
    const newStart = edits[first].newLine + (newCount ? 1 : 0);
    lines.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`, ...hunk.map((e) => `${e.op}${e.text}`));
    start = end + 1;
  }
  return lines;
}

interface Edit {
  op: ' ' | '-' | '+';
  text: string;
  /** lines of each side before this one */
  oldLine: number;
  newLine: number;
}

/** beyond this many cells the differing middle is shown as removed, then added */
const LARGEST_DIFF_TABLE = 4_000_000;

/** The shortest edit from `a` to `b`: a longest common subsequence of the part between the common start and end. */
function lineEdits(a: string[], b: string[]): Edit[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const middleA = a.slice(head, a.length - tail);
  const middleB = b.slice(head, b.length - tail);
  const ops: [Edit['op'], string][] = [
    ...a.slice(0, head).map((text): [Edit['op'], string] => [' ', text]),
    ...(middleA.length * middleB.length <= LARGEST_DIFF_TABLE ? commonSubsequence(middleA, middleB) : [...middleA.map((t): [Edit['op'], string] => ['-', t]), ...middleB.map((t): [Edit['op'], string] => ['+', t])]),
    ...a.slice(a.length - tail).map((text): [Edit['op'], string] => [' ', text]),
  ];
  let oldLine = 0;
  let newLine = 0;
  return ops.map(([op, text]) => {
    const edit = { op, text, oldLine, newLine };
    if (op !== '+') oldLine++;
    if (op !== '-') newLine++;
    return edit;
  });
}

function commonSubsequence(a: string[], b: string[]): [Edit['op'], string][] {
  const width = b.length + 1;
  // longest[i * width + j]: the longest common subsequence of a[i..] and b[j..]
  const longest = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      longest[i * width + j] = a[i] === b[j] ? longest[(i + 1) * width + j + 1] + 1 : Math.max(longest[(i + 1) * width + j], longest[i * width + j + 1]);
    }
  }
  const ops: [Edit['op'], string][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      ops.push([' ', a[i++]]);
      j++;
    } else if (longest[(i + 1) * width + j] >= longest[i * width + j + 1]) ops.push(['-', a[i++]]);
    else ops.push(['+', b[j++]]);
  }
  while (i < a.length) ops.push(['-', a[i++]]);
  while (j < b.length) ops.push(['+', b[j++]]);
  return ops;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Folders never scanned: installed packages, build output, git's own data, the embedded database. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.sqlfirst']);
const SOURCE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const DRIZZLE_CONFIG = /^drizzle\.config\.(?:[cm]?[jt]s|json)$/;
const MIGRATING_COMMAND = /\bdrizzle-kit(?:@\S+)?\s+(generate|push|migrate)\b/;
/** drizzle-kit names its migrations 0000_<words>.sql */
const DRIZZLE_MIGRATION_FILE = /^\d{4}_[\w-]+\.sql$/;
/** the folder drizzle-kit writes migrations into when a config sets no `out` */
const DRIZZLE_DEFAULT_OUT = 'drizzle';
const LARGEST_SCANNED_FILE = 2 * 1024 * 1024;

/**
 * Every trace of Drizzle migrations under `root`: a meta/_journal.json,
 * numbered migration files (0000_name.sql) beside a drizzle-kit meta/ folder or
 * in a drizzle/ folder, a migrations/ folder in the database package
 * (`databaseDir`), a package.json script running drizzle-kit generate, push or
 * migrate, a migrate() call from drizzle-orm's migrator, and a drizzle.config.*
 * that sets `out` or `migrations`. Other tools' migrations/ folders (Supabase,
 * Prisma, …) are not Drizzle's. Skips node_modules, dist, .git and .sqlfirst.
 */
export async function findMigrationArtifacts(root: string, databaseDir?: string): Promise<MigrationArtifact[]> {
  const found: MigrationArtifact[] = [];
  const base = path.resolve(root);
  await walk({ root: base, databaseMigrations: databaseDir ? path.join(path.resolve(databaseDir), 'migrations') : undefined, found }, base);
  return found.sort((a, b) => a.path.localeCompare(b.path) || (a.line ?? 0) - (b.line ?? 0));
}

interface Scan {
  root: string;
  databaseMigrations?: string;
  found: MigrationArtifact[];
}

async function walk(scan: Scan, dir: string): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return; // unreadable: not ours to judge
  }
  const migrationFiles = entries.filter((entry) => entry.isFile() && DRIZZLE_MIGRATION_FILE.test(entry.name)).map((entry) => entry.name);
  if (migrationFiles.length && (path.basename(dir) === DRIZZLE_DEFAULT_OUT || (await holdsDrizzleMeta(dir)))) {
    const names = migrationFiles.sort();
    const listed = names.length > 3 ? `${names.slice(0, 3).join(', ')}, …` : names.join(', ');
    scan.found.push({ kind: 'migration files', path: `${display(scan.root, dir)}/`, detail: `holds ${plural(names.length, 'drizzle-kit migration file')} (${listed})` });
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      if (full === scan.databaseMigrations) {
        scan.found.push({ kind: 'migrations folder', path: `${display(scan.root, full)}/`, detail: 'is a migrations folder in the database package' });
        continue;
      }
      await walk(scan, full);
    } else if (entry.isFile()) {
      await inspectFile(scan, full, entry.name);
    }
  }
}

/** Whether `dir` has drizzle-kit's meta/ folder: a _journal.json or NNNN_snapshot.json in it. */
async function holdsDrizzleMeta(dir: string): Promise<boolean> {
  const names = await fs.readdir(path.join(dir, 'meta')).catch(() => [] as string[]);
  return names.some((name) => name === '_journal.json' || /^\d{4}_snapshot\.json$/.test(name));
}

async function inspectFile(scan: Scan, file: string, name: string): Promise<void> {
  const where = display(scan.root, file);
  if (name === '_journal.json' && path.basename(path.dirname(file)) === 'meta') {
    scan.found.push({ kind: 'migration journal', path: where, detail: 'is a drizzle-kit migration journal' });
    return;
  }
  const isPackage = name === 'package.json';
  const isConfig = DRIZZLE_CONFIG.test(name);
  const isSource = SOURCE_FILE.test(name) && !name.endsWith('.d.ts');
  if (!isPackage && !isConfig && !isSource) return;
  const text = await readSmallFile(file);
  if (text === undefined) return;
  if (isPackage) inspectPackage(where, text, scan.found);
  if (isConfig) inspectConfig(where, text, scan.found);
  if (isSource) inspectSource(where, text, scan.found);
}

function inspectPackage(where: string, text: string, found: MigrationArtifact[]): void {
  let scripts: unknown;
  try {
    scripts = (JSON.parse(text) as { scripts?: unknown }).scripts;
  } catch {
    return;
  }
  if (!scripts || typeof scripts !== 'object') return;
  for (const [name, command] of Object.entries(scripts as Record<string, unknown>)) {
    const match = typeof command === 'string' ? MIGRATING_COMMAND.exec(command) : null;
    if (match) found.push({ kind: 'package script', path: where, line: lineOf(text, `"${name}"`), detail: `has script "${name}" running drizzle-kit ${match[1]}` });
  }
}

/** `out:` or `migrations:` as a key (quoted or not), outside comments and strings. */
function inspectConfig(where: string, text: string, found: MigrationArtifact[]): void {
  const tokens = tokenize(text);
  tokens.forEach((token, index) => {
    const key = token.kind === 'word' || token.kind === 'string' ? token.text : undefined;
    if ((key === 'out' || key === 'migrations') && tokens[index + 1]?.text === ':' && (tokens[index - 1]?.text === '{' || tokens[index - 1]?.text === ',')) {
      found.push({ kind: 'drizzle config', path: where, line: token.line, detail: `sets ${key} (where drizzle-kit keeps migrations)` });
    }
  });
}

/** A module drizzle-orm runs migrations with: drizzle-orm/<driver>/migrator. */
function isMigratorModule(specifier: string): boolean {
  const parts = specifier.split('/');
  return parts.length === 3 && parts[0] === 'drizzle-orm' && parts[2] === 'migrator';
}

/**
 * The module specifiers of imports, re-exports, require() and import() that
 * name drizzle-orm's migrator, the names `migrate` is bound to, and the calls
 * to them; read from the source's tokens, so comments and strings never count.
 */
function inspectSource(where: string, text: string, found: MigrationArtifact[]): void {
  const tokens = tokenize(text);
  const calls: Token[] = [];
  for (let index = 0; index < tokens.length; index++) {
    const specifier = tokens[index];
    if (specifier.kind !== 'string' || !isMigratorModule(specifier.text) || !isModuleReference(tokens, index)) continue;
    const { names, namespaces } = boundNames(tokens, index);
    const before = calls.length;
    tokens.forEach((token, at) => {
      // a call of a bound name; not a method of something else, not a declaration
      if (token.kind === 'word' && names.has(token.text) && tokens[at + 1]?.text === '(' && tokens[at - 1]?.text !== '.' && tokens[at - 1]?.text !== 'function') calls.push(token);
    });
    for (let at = 0; at + 3 < tokens.length; at++) {
      if (namespaces.has(tokens[at].text) && tokens[at + 1].text === '.' && tokens[at + 2].text === 'migrate' && tokens[at + 3].text === '(') calls.push(tokens[at + 2]);
    }
    const added = calls.slice(before);
    for (const call of added) found.push({ kind: 'migrator call', path: where, line: call.line, detail: `calls migrate() from ${specifier.text}` });
    if (added.length === 0) found.push({ kind: 'migrator call', path: where, line: specifier.line, detail: `imports ${specifier.text}` });
  }
}

/** `from '…'`, `import '…'`, `require('…')` or `import('…')`. */
function isModuleReference(tokens: Token[], index: number): boolean {
  const previous = tokens[index - 1];
  if (previous?.kind === 'word' && (previous.text === 'from' || previous.text === 'import')) return true;
  return previous?.text === '(' && tokens[index - 2]?.kind === 'word' && (tokens[index - 2].text === 'require' || tokens[index - 2].text === 'import');
}

/**
 * The local names `migrate` gets from the reference at `index`:
 * `import { migrate as run } from`, `const { migrate: run } = require(…)`,
 * and namespaces (`import * as m from`, `const m = require(…)`).
 */
function boundNames(tokens: Token[], index: number): { names: Set<string>; namespaces: Set<string> } {
  const names = new Set<string>();
  const namespaces = new Set<string>();
  // the tokens of this statement before the specifier, back to its start (before `import(` for a dynamic import)
  const dynamicImport = tokens[index - 1]?.text === '(' && tokens[index - 2]?.text === 'import';
  let start = dynamicImport ? index - 2 : index;
  while (start > 0 && tokens[start - 1].text !== ';' && !(tokens[start - 1].kind === 'word' && ['import', 'export', 'const', 'let', 'var'].includes(tokens[start - 1].text))) start--;
  const clause = tokens.slice(start, dynamicImport ? index - 2 : index);
  clause.forEach((token, at) => {
    if (token.kind !== 'word') return;
    if (token.text === 'migrate') {
      const alias = clause[at + 1]?.text === 'as' || clause[at + 1]?.text === ':' ? clause[at + 2] : undefined;
      names.add(alias?.kind === 'word' ? alias.text : 'migrate');
    }
    if (token.text === 'as' && clause[at - 1]?.text === '*' && clause[at + 1]?.kind === 'word') namespaces.add(clause[at + 1].text);
  });
  // const m = require('…') / await import('…')
  const first = clause[0];
  if (first?.kind === 'word' && clause[1]?.text === '=') namespaces.add(first.text);
  return { names, namespaces };
}

interface Token {
  kind: 'word' | 'string' | 'punct';
  text: string;
  line: number;
}

/**
 * JavaScript/TypeScript source as words, string literals and punctuation, with
 * comments left out: enough to tell an import from a comment or a string that
 * mentions one. (Regular-expression literals are read as punctuation and words.)
 */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let at = 0;
  while (at < source.length) {
    const char = source[at];
    if (char === '\n') {
      line++;
      at++;
    } else if (char === ' ' || char === '\t' || char === '\r') {
      at++;
    } else if (char === '/' && source[at + 1] === '/') {
      while (at < source.length && source[at] !== '\n') at++;
    } else if (char === '/' && source[at + 1] === '*') {
      const end = source.indexOf('*/', at + 2);
      const stop = end < 0 ? source.length : end + 2;
      line += countNewlines(source, at, stop);
      at = stop;
    } else if (char === '"' || char === "'" || char === '`') {
      const startLine = line;
      let text = '';
      at++;
      while (at < source.length && source[at] !== char) {
        if (source[at] === '\\') {
          text += source[at + 1] ?? '';
          at += 2;
          continue;
        }
        if (source[at] === '\n') {
          if (char !== '`') break; // an unterminated string ends with its line
          line++;
        }
        text += source[at++];
      }
      at++;
      tokens.push({ kind: 'string', text, line: startLine });
    } else if (isWordChar(char)) {
      const start = at;
      while (at < source.length && isWordChar(source[at])) at++;
      tokens.push({ kind: 'word', text: source.slice(start, at), line });
    } else {
      tokens.push({ kind: 'punct', text: char, line });
      at++;
    }
  }
  return tokens;
}

function isWordChar(char: string): boolean {
  return (char >= 'a' && char <= 'z') || (char >= 'A' && char <= 'Z') || (char >= '0' && char <= '9') || char === '_' || char === '$';
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = from; at < to; at++) if (text[at] === '\n') count++;
  return count;
}

async function readSmallFile(file: string): Promise<string | undefined> {
  try {
    const stat = await fs.stat(file);
    if (stat.size > LARGEST_SCANNED_FILE) return undefined;
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

function lineOf(text: string, needle: string): number | undefined {
  const at = text.indexOf(needle);
  return at < 0 ? undefined : text.slice(0, at).split('\n').length;
}

function display(root: string, file: string): string {
  return (path.relative(root, file) || '.').split(path.sep).join('/');
}
