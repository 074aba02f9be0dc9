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
import { planChanges } from '../engine/index.js';
import { policySkips } from '../policy/index.js';
import { escapeRegExp, firstLine, plural } from '../text.js';
import { needed, runSteps, step, type RunContext } from './run.js';
import { connect, loadDesired, readSchema, readTarget, typesFolder } from './steps.js';

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

/** What the check found, gathered step by step. */
interface Findings {
  problems: string[];
}

/** Runs every check; the outcome lists every problem (exit 1) or says all passed. With --env or --url the database's drift is checked too. */
export function runCheck(run: RunContext, { drift }: { drift: boolean }) {
  const found: Findings = { problems: [] };
  return runSteps(run, [scanMigrations(found), readSchema, connect, loadDesired, compareTypes(found), ...(drift ? [readTarget, checkDrift(found)] : []), checkOutcome(found, drift)]);
}

const scanMigrations = (found: Findings) =>
  step('scan migrations', async (run) => {
    const artifacts = await findMigrationArtifacts(run.project.root);
    for (const artifact of artifacts) {
      found.problems.push(`Drizzle migration: ${artifact.path}${artifact.line ? `:${artifact.line}` : ''} ${artifact.detail} (remove it: schema.sql and sqlfirst are the only way schema changes)`);
    }
    return { detail: artifacts.length ? `${plural(artifacts.length, 'Drizzle migration artifact')}` : 'no Drizzle migrations' };
  });

/** The committed types against the ones schema.sql produces, written nowhere. */
const compareTypes = (found: Findings) =>
  step('compare types', async (run) => {
    const { compareTypes: differing } = await import('../typegen/index.js');
    const outDir = typesFolder(run);
    const stale = await differing(outDir, needed(run.types, 'the generated types'));
    for (const name of stale) {
      found.problems.push(`Drizzle types out of date: ${display(run.project.root, path.join(outDir, name))} differs from what schema.sql produces (run npm run db:sync or npx sqlfirst types, and commit the result)`);
    }
    return { detail: stale.length ? `${stale.join(', ')} out of date` : 'schema.ts, relations.ts up to date' };
  });

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
    const target = run.request.envName ? `--env ${run.request.envName}` : '--url URL';
    const advice = problems.some((p) => p.startsWith('drift: '))
      ? `fix each and run the check again (a drift statement is what sqlfirst apply ${target} would run to make the database match schema.sql; sqlfirst plan ${target} shows them in full)`
      : 'fix each and run the check again';
    run.outcome = { exitCode: 1, tone: 'failed', message: `${plural(problems.length, 'problem')} found; ${advice}:\n${problems.map((p) => `  ${p}`).join('\n')}`, problems };
  });

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

function display(root: string, file: string): string {
  return (path.relative(root, file) || '.').split(path.sep).join('/');
}

