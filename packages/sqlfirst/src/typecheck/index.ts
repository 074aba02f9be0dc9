/**
 * The typecheck stage: before a plan touches the target, type-check every
 * workspace package that uses the database package against the Drizzle types
 * the DESIRED schema generates, without touching the committed files.
 *
 * The desired types go into a copy of the database package's sources under
 * .sqlfirst/typecheck/ (inside the repository, so its imports resolve from the
 * root node_modules); each package is checked with its own tsconfig, its
 * imports of the database package resolved to that copy, incrementally and
 * without emitting, in a worker thread. A run whose inputs are byte-identical
 * to the last one's is skipped and answers the last result, without loading
 * TypeScript at all.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SqlfirstError } from '../errors.js';
import type { TypeBreak } from './group.js';
import { runJob, type CompileJob, type CompileOutput } from './job.js';
import { acquireLock, fingerprint, readState, sourceFiles, STAGE_VERSION, writeState } from './state.js';
import type { WorkerReply } from './worker.js';
import { dependsOn, findDatabasePackage, readWorkspace, toRel } from './workspace.js';

export { groupBreaks, OTHER_CHANGES, type BreakGroup, type ChangeRef, type TypeBreak } from './group.js';

export interface TypeCheckResult {
  /** every type error, sorted by file and line, each once */
  breaks: TypeBreak[];
  /** the packages checked, as folders relative to the repository root (the database package first); empty when the root has no workspace package holding schema.sql */
  packages: string[];
  /** set when nothing changed since the last run: `breaks` and `packages` are that run's */
  skipped?: 'unchanged';
}

/** The desired generated files, by name (what pullTypes returns). */
export interface GeneratedText {
  'schema.ts': string;
  'relations.ts': string;
}

export interface TypeCheckOptions {
  /** the folder of the generated Drizzle files, relative to repoRoot (default: src/schema of the package holding schema.sql) */
  typesDir?: string;
}

/** The stage's folder under the repository root (git-ignored with the rest of .sqlfirst/). */
export const TYPECHECK_DIR = path.join('.sqlfirst', 'typecheck');

/** Root files whose change can change a result without any package's sources changing. */
const ROOT_INPUTS = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml'];

let queue: Promise<unknown> = Promise.resolve();

/**
 * Type-checks the workspace against the desired generated types.
 * `repoRoot`: the monorepo root (holds the package.json with `workspaces`);
 * `generated`: the desired schema.ts and relations.ts text (as pullTypes returns them).
 */
export function typeCheckWorkspace(repoRoot: string, generated: GeneratedText, options: TypeCheckOptions = {}): Promise<TypeCheckResult> {
  // one at a time within a process (the copy is shared); the lock file covers other processes
  const run = queue.then(() => check(path.resolve(repoRoot), generated, options));
  queue = run.catch(() => {});
  return run;
}

async function check(root: string, generatedText: GeneratedText, options: TypeCheckOptions): Promise<TypeCheckResult> {
  const generated: Record<string, string> = { 'schema.ts': generatedText['schema.ts'], 'relations.ts': generatedText['relations.ts'] };
  const packages = await readWorkspace(root);
  const database = await findDatabasePackage(root, packages, options.typesDir);
  // not a workspace with a database package (sqlfirst used on its own): nothing to check
  if (!database) return { breaks: [], packages: [] };
  const typesDir = path.resolve(root, options.typesDir ?? path.join(database.rel, 'src', 'schema'));
  const checked = [database, ...packages.filter((p) => p !== database && dependsOn(p, database.name))];
  // the committed generated files are replaced by `generated`: not inputs
  const generatedFiles = new Set(Object.keys(generated).map((name) => path.join(typesDir, name)));

  const cacheDir = path.join(root, TYPECHECK_DIR);
  fs.mkdirSync(cacheDir, { recursive: true });
  const lock = await acquireLock(path.join(cacheDir, 'lock'));
  try {
    const stateFile = path.join(cacheDir, 'state.json');
    const walked = (await Promise.all(checked.map((p) => sourceFiles(p.dir)))).flat().filter((f) => !generatedFiles.has(f));
    const fixed = ROOT_INPUTS.map((name) => path.join(root, name));
    const salt = JSON.stringify({ typescript: typescriptVersion(), typesDir: toRel(root, typesDir), packages: checked.map((p) => [p.rel, p.name]) });
    const inputs = { root, generated, salt };

    const previous = await readState(stateFile);
    if (previous) {
      const now = await fingerprint({ ...inputs, files: [...walked, ...fixed, ...previous.files.map((f) => path.resolve(root, f))] });
      if (now === previous.fingerprint) return { ...previous.result, skipped: 'unchanged' };
    }

    const output = await compile({ root, generated, typesDir, cacheDir, database, checked });
    const result = { breaks: output.breaks, packages: output.packages };
    // remember the inputs the folder walk cannot see: files outside the checked packages and node_modules
    const inside = (file: string) => checked.some((p) => file.startsWith(p.dir + path.sep));
    const extra = output.files
      .filter((file) => !file.split(/[\\/]/).includes('node_modules') && !inside(file) && !generatedFiles.has(file))
      .map((file) => toRel(root, file))
      .sort();
    const files = [...walked, ...fixed, ...extra.map((f) => path.resolve(root, f))];
    await writeState(stateFile, { version: STAGE_VERSION, fingerprint: await fingerprint({ ...inputs, files }), files: extra, result });
    return result;
  } finally {
    await lock.release();
  }
}

/** Runs the job in a worker thread (in this thread when the worker's module is not there, e.g. running from sources). */
function compile(job: CompileJob): Promise<CompileOutput> {
  const script = new URL('./worker.js', import.meta.url);
  if (script.protocol !== 'file:' || !fs.existsSync(fileURLToPath(script))) return runJob(job);
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData: job });
    let settled = false;
    worker.once('message', (reply: WorkerReply) => {
      settled = true;
      if (reply.ok) resolve(reply.output);
      else reject(new SqlfirstError(reply.message, { step: reply.step ?? 'typecheck', cause: Object.assign(new Error(reply.message), { stack: reply.stack }) }));
    });
    worker.once('error', (error) => {
      settled = true;
      reject(new SqlfirstError(`The type check failed (${error.message}); run again with --verbose for details.`, { step: 'typecheck', cause: error }));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new SqlfirstError(`The type check stopped before it finished (exit code ${code}); run again.`, { step: 'typecheck' }));
    });
  });
}

function typescriptVersion(): string {
  try {
    return (createRequire(import.meta.url)('typescript/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Whether applying `schemaFiles` changes the types the workspace compiles
 * against: they must be the database package's own schema.sql. Another file
 * applied ad hoc has nothing to do with the workspace's code.
 */
export async function typedWorkspace(root: string, schemaFiles: string[], typesDir?: string): Promise<boolean> {
  const base = path.resolve(root);
  const database = await findDatabasePackage(base, await readWorkspace(base));
  if (!database || !schemaFiles.some((file) => path.resolve(file) === path.join(database.dir, 'schema.sql'))) return false;
  // types written somewhere else (a scratch folder) are not what the workspace compiles against
  return typesDir === undefined || path.resolve(base, typesDir).startsWith(database.dir + path.sep);
}
