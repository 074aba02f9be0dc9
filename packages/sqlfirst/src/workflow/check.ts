/**
 * The CI gate (`sqlfirst check`, `npm run db:check`). It changes nothing and
 * fails, with the list, when
 *  - the committed Drizzle types differ from what schema.sql produces,
 *  - a Drizzle migration (folder, journal, script, migrator call, config) exists anywhere,
 *  - with an explicit --env or --url: the live database has drifted from schema.sql.
 * Without a configured database the types come from the embedded server.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import type { Reporter } from '../report/index.js';
import type { GeneratedTypes } from '../typegen/index.js';
import { loadDesired, openTarget, planAgainst, type TargetSpec } from './session.js';
import { repositoryRoot } from '../config/repository.js';
import { generateTypes, TYPES_DIR } from './types.js';

export interface CheckRequest extends TargetSpec {
  /** compare the live database with schema.sql (the CLI sets it for an explicit --env or --url) */
  drift?: boolean;
  /** where the committed types live, relative to the repository root */
  typesDir?: string;
  /** the repository to scan; default: the one holding the current directory */
  root?: string;
}

export type ArtifactKind = 'migrations folder' | 'migration journal' | 'package script' | 'migrator call' | 'drizzle config';

/** One trace of Drizzle migrations in the repository. */
export interface MigrationArtifact {
  kind: ArtifactKind;
  /** relative to the repository root, with forward slashes (a folder ends in /) */
  path: string;
  line?: number;
  /** what was found, in words */
  detail: string;
}

/** Runs every check and returns 0, or throws one SqlfirstError listing every finding. */
export async function runCheck(request: CheckRequest, reporter: Reporter): Promise<number> {
  reporter.header('sqlfirst check', { Environment: request.envName, Config: request.configPath });
  const root = path.resolve(request.root ?? repositoryRoot());
  const findings: string[] = [];

  const artifacts = await reporter.step('scan migrations', () => findMigrationArtifacts(root), (found) =>
    found.length ? `${found.length} Drizzle migration artifact(s)` : 'no Drizzle migrations',
  );
  for (const artifact of artifacts) {
    findings.push(`Drizzle migration: ${artifact.path}${artifact.line ? `:${artifact.line}` : ''} ${artifact.detail} (remove it: schema.sql and sqlfirst are the only way schema changes)`);
  }

  const open = await openTarget(request, reporter);
  let drifted = 0;
  try {
    const outDir = path.resolve(root, request.typesDir ?? TYPES_DIR);
    let stale: string[] = [];
    // the shadow holds exactly schema.sql: pull the types from it, as `sqlfirst types` does, and only compare
    const desired = await loadDesired(request, open, reporter, async (shadow, state) => {
      const files = await generateTypes(request, shadow, state, reporter);
      stale = await reporter.step('compare types', () => compareCommitted(outDir, files), (names) =>
        names.length ? `${names.join(', ')} out of date` : 'schema.ts, relations.ts up to date',
      );
    });
    for (const name of stale) {
      findings.push(`Drizzle types out of date: ${display(root, path.join(outDir, name))} differs from what schema.sql produces (run npm run db:sync or npx sqlfirst types, and commit the result)`);
    }

    if (request.drift) {
      const { plan, skipped } = await planAgainst(desired, open, request, reporter, 'drift');
      drifted = plan.changes.length;
      for (const change of plan.changes) {
        findings.push(`drift: ${firstLine(change.sql)}${change.dataLoss ? ' (loses data)' : ''}`);
      }
      for (const { change, rule } of skipped) {
        reporter.warn(`The database differs from schema.sql where the ${rule} policy keeps it so (not a failure): ${firstLine(change.sql)}`);
      }
    }
  } finally {
    await open.close();
  }

  reporter.result.findings = findings;
  if (findings.length > 0) {
    const target = request.envName ? `--env ${request.envName}` : '--url URL';
    const advice = drifted
      ? `fix each and run the check again (a drift statement is what sqlfirst apply ${target} would run to make the database match schema.sql; sqlfirst plan ${target} shows them in full)`
      : 'fix each and run the check again';
    throw new SqlfirstError(
      `${findings.length} problem${findings.length === 1 ? '' : 's'} found; ${advice}:\n${findings.map((f) => `  ${f}`).join('\n')}`,
      { step: 'check' },
    );
  }
  const parts = ['the Drizzle types match schema.sql', 'no Drizzle migration exists'];
  if (request.drift) parts.push('the database matches schema.sql');
  reporter.success(`check passed: ${parts.join(', ')}.`);
  return 0;
}


async function compareCommitted(outDir: string, files: GeneratedTypes): Promise<string[]> {
  const { compareTypes } = await import('../typegen/index.js');
  return compareTypes(outDir, files);
}

/** Folders never scanned: installed packages, build output, git's own data, the embedded database. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.sqlfirst']);
const SOURCE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const DRIZZLE_CONFIG = /^drizzle\.config\.(?:[cm]?[jt]s|json)$/;
const MIGRATING_COMMAND = /\bdrizzle-kit(?:@\S+)?\s+(generate|push|migrate)\b/;
// a module specifier such as drizzle-orm/node-postgres/migrator, in an import, export or require
const MIGRATOR_MODULE = /['"`](drizzle-orm\/[\w.-]+\/migrator)['"`]/g;
// `out: './drizzle'` or `migrations: { ... }` (quoted keys too, as in JSON)
const CONFIG_SETTING = /(?:^|[\s{,])["']?(out|migrations)["']?\s*:/;
const LARGEST_SCANNED_FILE = 2 * 1024 * 1024;

/**
 * Every trace of Drizzle migrations under `root`: a migrations/ folder, a
 * meta/_journal.json, a package.json script running drizzle-kit generate, push
 * or migrate, a migrate() call from drizzle-orm's migrator, and a drizzle.config.*
 * that sets `out` or `migrations`. Skips node_modules, dist, .git and .sqlfirst.
 */
export async function findMigrationArtifacts(root: string): Promise<MigrationArtifact[]> {
  const found: MigrationArtifact[] = [];
  await walk(path.resolve(root), path.resolve(root), found);
  return found.sort((a, b) => a.path.localeCompare(b.path) || (a.line ?? 0) - (b.line ?? 0));
}

async function walk(root: string, dir: string, found: MigrationArtifact[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return; // unreadable: not ours to judge
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      if (entry.name === 'migrations') {
        found.push({ kind: 'migrations folder', path: `${display(root, full)}/`, detail: 'is a migrations folder' });
        continue;
      }
      await walk(root, full, found);
    } else if (entry.isFile()) {
      await inspectFile(root, full, entry.name, found);
    }
  }
}

async function inspectFile(root: string, file: string, name: string, found: MigrationArtifact[]): Promise<void> {
  const where = display(root, file);
  if (name === '_journal.json' && path.basename(path.dirname(file)) === 'meta') {
    found.push({ kind: 'migration journal', path: where, detail: 'is a drizzle-kit migration journal' });
    return;
  }
  const isPackage = name === 'package.json';
  const isConfig = DRIZZLE_CONFIG.test(name);
  const isSource = SOURCE_FILE.test(name) && !name.endsWith('.d.ts');
  if (!isPackage && !isConfig && !isSource) return;
  const text = await readSmallFile(file);
  if (text === undefined) return;
  if (isPackage) inspectPackage(where, text, found);
  if (isConfig) inspectConfig(where, text, found);
  if (isSource) inspectSource(where, text, found);
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

function inspectConfig(where: string, text: string, found: MigrationArtifact[]): void {
  text.split('\n').forEach((line, index) => {
    const match = CONFIG_SETTING.exec(stripLineComment(line));
    if (match) found.push({ kind: 'drizzle config', path: where, line: index + 1, detail: `sets ${match[1]} (where drizzle-kit keeps migrations)` });
  });
}

function inspectSource(where: string, text: string, found: MigrationArtifact[]): void {
  const modules = [...text.matchAll(MIGRATOR_MODULE)].map((m) => m[1]);
  if (modules.length === 0) return;
  const module = modules[0];
  // migrate, or the name it was imported as ({ migrate as run })
  const names = new Set(['migrate', ...[...text.matchAll(/\bmigrate\s+as\s+([\w$]+)/g)].map((m) => m[1])]);
  const call = new RegExp(`(?:^|[^\\w$])(${[...names].map(escapeRegExp).join('|')})\\s*\\(`);
  let calls = 0;
  text.split('\n').forEach((line, index) => {
    if (call.test(stripLineComment(line))) {
      calls++;
      found.push({ kind: 'migrator call', path: where, line: index + 1, detail: `calls migrate() from ${module}` });
    }
  });
  if (calls === 0) found.push({ kind: 'migrator call', path: where, line: lineOf(text, module), detail: `imports ${module}` });
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

function stripLineComment(line: string): string {
  return line.replace(/^\s*\/\/.*$/, '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function display(root: string, file: string): string {
  return (path.relative(root, file) || '.').split(path.sep).join('/');
}

function firstLine(sql: string): string {
  const line = sql.split('\n')[0];
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}
