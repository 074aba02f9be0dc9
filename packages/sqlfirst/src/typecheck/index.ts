/**
 * The typecheck stage: before a plan touches the target, type-check every
 * workspace package that uses the database package against the Drizzle types
 * the DESIRED schema generates, without touching the committed files.
 *
 * The desired types go into a copy of the database package's sources under
 * .sqlfirst/typecheck/desired/ (inside the repository, so its imports resolve
 * from the root node_modules); each package is checked by the native
 * TypeScript compiler (typescript@7) run as a child process on a generated
 * tsconfig that extends the package's own, resolves its imports of the
 * database package to that copy and emits nothing. The same check against the committed types
 * (.sqlfirst/typecheck/baseline/) tells the breaks the change causes from
 * the ones already there. A check whose inputs are byte-identical to its last
 * run's is skipped and answers that run's result without starting a compiler.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { compareBreaks, runCheck, warmUpCheck } from './check.js';
import { nativeCompiler, type NativeCompiler } from './compiler.js';
import { readPackageConfig, type PackageConfig } from './tsconfig.js';
import type { WarmCompilers } from './warm.js';
import type { TypeBreak } from './group.js';
import { acquireLock, fingerprint, readCheckRecord, sourceFiles, STAGE_VERSION, writeCheckRecord, type StoredResult } from './state.js';
import { dependsOn, findDatabasePackage, readWorkspace, toRel, type WorkspacePackage } from './workspace.js';

export { groupBreaks, OTHER_CHANGES, type BreakGroup, type ChangeRef, type TypeBreak } from './group.js';

export interface TypeCheckResult {
  /** the type errors the desired types cause: not there with the committed types (all of them without a baseline); sorted by file, line and column */
  breaks: TypeBreak[];
  /** the type errors there with the committed types too, as the desired check reports them (empty without a baseline) */
  preexisting: TypeBreak[];
  /** the packages checked, as folders relative to the repository root (the database package first); empty when the root has no workspace package holding schema.sql */
  packages: string[];
  /** set when nothing changed since the last runs: no compiler ran, the results are theirs */
  skipped?: 'unchanged';
}

/** The desired generated files, by name (what generateTypes returns). */
export interface GeneratedText {
  'schema.ts': string;
  'relations.ts': string;
}

export interface TypeCheckOptions {
  /** the folder of the generated Drizzle files, relative to repoRoot (default: src/schema of the package holding schema.sql) */
  typesDir?: string;
  /** also check against the committed types (the working tree's), to tell new breaks from pre-existing ones (default true) */
  baseline?: boolean;
  /** aborting it (Ctrl-C) kills the compilers; the promise then rejects with a SqlfirstError once they are gone */
  signal?: AbortSignal;
  /** the longest the whole check may take, in milliseconds (default 120 000); then the compilers are killed and it rejects */
  timeoutMs?: number;
  /** told the process id of each compiler as it starts (progress display) */
  onCompilerStart?: (pid: number) => void;
  /** compilers kept up between checks (the dev loop); without them each check starts its own */
  warm?: WarmCompilers;
  /** the workspace read ahead by prepareTypeCheck (else it is read now) */
  prepared?: Promise<PreparedWorkspace | undefined>;
}

/** The workspace as a check sees it before the desired types exist: the packages to check and their resolved tsconfigs. */
export interface PreparedWorkspace {
  compiler: NativeCompiler;
  /** absolute folder of the generated files */
  typesDir: string;
  database: WorkspacePackage;
  /** the database package first, then its users */
  checked: WorkspacePackage[];
  /** the tsconfig of each checked package that has one */
  configs: PackageConfig[];
}

/**
 * Reads what a check needs that does not depend on the desired types (the
 * packages, each one's tsconfig as the compiler resolves it); undefined when
 * no workspace package holds the types folder. Started while the shadow
 * loads, it lets the check start its compiler as soon as the types exist.
 */
export function prepareTypeCheck(repoRoot: string, options: { typesDir?: string; signal?: AbortSignal } = {}): Promise<PreparedWorkspace | undefined> {
  const prepared = prepare(path.resolve(repoRoot), options.typesDir, options.signal ?? new AbortController().signal);
  // awaited by the check; a failure before then must not be an unhandled rejection
  prepared.catch(() => {});
  return prepared;
}

async function prepare(root: string, typesDir: string | undefined, signal: AbortSignal): Promise<PreparedWorkspace | undefined> {
  const packages = await readWorkspace(root);
  const database = findDatabasePackage(root, packages, typesDir);
  // not a workspace with a database package (sqlfirst used on its own): nothing to check
  if (!database) return undefined;
  const compiler = await nativeCompiler();
  const checked = [database, ...packages.filter((p) => p !== database && dependsOn(p, database.name))];
  const configs = (await Promise.all(checked.map((pkg) => readPackageConfig(compiler, pkg, signal)))).filter((c): c is PackageConfig => c !== undefined);
  return { compiler, typesDir: path.resolve(root, typesDir ?? path.join(database.rel, 'src', 'schema')), database, checked, configs };
}

/** The stage's folder under the repository root (git-ignored with the rest of .sqlfirst/). */
export const TYPECHECK_DIR = path.join('.sqlfirst', 'typecheck');

export const DEFAULT_TIMEOUT_MS = 120_000;

/** Root files whose change can change a result without any package's sources changing. */
const ROOT_INPUTS = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml'];

const GENERATED_NAMES = ['schema.ts', 'relations.ts'] as const;

/** Checks in this process run one at a time (they share the cache folder); the lock files cover other processes. */
let queue: Promise<void> = Promise.resolve();

/**
 * Type-checks the workspace against the desired generated types.
 * `repoRoot`: the monorepo root (holds the package.json with `workspaces`);
 * `generated`: the desired schema.ts and relations.ts text (as generateTypes returns them).
 *
 * Safe to start early and await later: the work runs in child processes, and
 * a failure before the promise is awaited is not an unhandled rejection.
 */
export function typeCheckWorkspace(repoRoot: string, generated: GeneratedText, options: TypeCheckOptions = {}): Promise<TypeCheckResult> {
  const run = guarded(options, async (signal) => {
    const previous = queue;
    let done!: () => void;
    queue = Promise.all([previous, new Promise<void>((resolve) => (done = resolve))]).then(() => undefined);
    try {
      await untilAborted(previous, signal);
      return await check(path.resolve(repoRoot), generated, options, signal);
    } finally {
      done();
    }
  });
  run.catch(() => {});
  return run;
}

/** Runs `work` under one signal that the caller's signal and the timeout both abort, each with its own sentence. */
async function guarded<T>(options: TypeCheckOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new SqlfirstError(
        `The type check did not finish within ${formatSeconds(timeoutMs)}; run it again, or pass --no-typecheck.`,
        { step: 'typecheck' },
      ),
    );
  }, timeoutMs);
  const cancel = () => controller.abort(new SqlfirstError('The type check was cancelled before it finished; run it again to see the breaks.', { step: 'typecheck', cause: options.signal?.reason }));
  if (options.signal?.aborted) cancel();
  else options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    return await work(controller.signal);
  } catch (error) {
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', cancel);
  }
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

/** Waits for `promise` (its outcome does not matter), or rejects as soon as `signal` aborts. */
function untilAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      () => resolve(),
      () => resolve(),
    ).finally(() => signal.removeEventListener('abort', abort));
  });
}

interface Context extends PreparedWorkspace {
  root: string;
  rootInputs: string[];
  signal: AbortSignal;
  onCompilerStart?: (pid: number) => void;
  warm?: WarmCompilers;
}

/**
 * Starts the compiler of the desired check on the workspace with the
 * committed types, while the shadow loads: the check that follows finds the
 * program parsed and bound, and only reads the new types. Best effort: what
 * fails here is met again, and reported, by the check.
 */
export async function warmUpTypeCheck(repoRoot: string, prepared: Promise<PreparedWorkspace | undefined>, warm: WarmCompilers, signal: AbortSignal): Promise<void> {
  const root = path.resolve(repoRoot);
  const workspace = await prepared;
  if (!workspace) return;
  const workDir = path.join(root, TYPECHECK_DIR, 'desired');
  await fs.mkdir(workDir, { recursive: true });
  const generated = await committedTypes(workspace.typesDir);
  const lock = await acquireLock(path.join(workDir, 'lock'), signal);
  try {
    await warmUpCheck({ ...workspace, root, rootInputs: rootInputsOf(root), generated, workDir, warm });
  } finally {
    await lock.release();
  }
}

async function committedTypes(typesDir: string): Promise<Record<string, string | undefined>> {
  const committed: Record<string, string | undefined> = {};
  for (const name of GENERATED_NAMES) committed[name] = await fs.readFile(path.join(typesDir, name), 'utf8').catch(() => undefined);
  return committed;
}

function rootInputsOf(root: string): string[] {
  return ROOT_INPUTS.map((name) => path.join(root, name));
}

async function check(root: string, desiredText: GeneratedText, options: TypeCheckOptions, signal: AbortSignal): Promise<TypeCheckResult> {
  const workspace = await (options.prepared ?? prepare(root, options.typesDir, signal));
  if (!workspace) return { breaks: [], preexisting: [], packages: [] };
  const context: Context = { ...workspace, root, rootInputs: rootInputsOf(root), signal, onCompilerStart: options.onCompilerStart, warm: options.warm };
  const desired: Record<string, string | undefined> = { 'schema.ts': desiredText['schema.ts'], 'relations.ts': desiredText['relations.ts'] };
  if (options.baseline === false) {
    const result = await checkCached(context, 'desired', desired);
    return { breaks: result.breaks, preexisting: [], packages: result.packages, ...(result.skipped && { skipped: 'unchanged' as const }) };
  }
  const committed = await committedTypes(context.typesDir);
  // the desired types are the committed ones: every break is already there
  if (GENERATED_NAMES.every((name) => committed[name] === desired[name])) {
    const result = await checkCached(context, 'baseline', committed);
    return { breaks: [], preexisting: result.breaks, packages: result.packages, ...(result.skipped && { skipped: 'unchanged' as const }) };
  }
  const settled = await Promise.allSettled([checkCached(context, 'desired', desired), checkCached(context, 'baseline', committed)]);
  // both compilers have ended before either failure is reported
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
  const [now, before] = settled.map((s) => (s as PromiseFulfilledResult<CachedResult>).value);
  const there = new Set(before.breaks.map(place));
  return {
    breaks: now.breaks.filter((b) => !there.has(place(b))),
    preexisting: now.breaks.filter((b) => there.has(place(b))),
    packages: now.packages,
    ...(now.skipped && before.skipped && { skipped: 'unchanged' as const }),
  };
}

/** A break is the same one in both checks when it is the same error at the same place (the message may print the types differently). */
function place(item: TypeBreak): string {
  return `${item.file}:${item.line}:${item.column}:${item.code}`;
}

interface CachedResult extends StoredResult {
  skipped: boolean;
}

/** One check (`desired` or `baseline`) in its own folder, skipped when its inputs are those of its last run. */
async function checkCached(context: Context, variant: 'desired' | 'baseline', generated: Record<string, string | undefined>): Promise<CachedResult> {
  const { root, typesDir, checked } = context;
  const workDir = path.join(root, TYPECHECK_DIR, variant);
  await fs.mkdir(workDir, { recursive: true });
  const lock = await acquireLock(path.join(workDir, 'lock'), context.signal);
  try {
    // the committed generated files are replaced by `generated`: not inputs
    const generatedFiles = new Set(GENERATED_NAMES.map((name) => path.join(typesDir, name)));
    const walked = (await Promise.all(checked.map((p) => sourceFiles(p.dir)))).flat().filter((f) => !generatedFiles.has(f));
    const fixed = context.rootInputs;
    const salt = JSON.stringify({ typescript: context.compiler.version, typesDir: toRel(root, typesDir), packages: checked.map((p) => [p.rel, p.name]) });
    const inputs = { root, generated, salt };
    const stateFile = path.join(workDir, 'state.json');

    // the baseline after a sync is the last desired check (sync wrote those types): either record answers
    const records = variant === 'baseline' ? [stateFile, path.join(root, TYPECHECK_DIR, 'desired', 'state.json')] : [stateFile];
    for (const record of records) {
      const previous = await readCheckRecord(record);
      if (!previous) continue;
      const now = await fingerprint({ ...inputs, files: [...walked, ...fixed, ...previous.files.map((f) => path.resolve(root, f))] });
      if (now === previous.fingerprint) return { ...previous.result, skipped: true };
    }

    const output = await runCheck({ ...context, generated, workDir });
    const result: StoredResult = { breaks: output.breaks.sort(compareBreaks), packages: output.packages };
    // remember the inputs the folder walk cannot see: files outside the checked packages and node_modules
    const inside = (file: string) => checked.some((p) => file.startsWith(p.dir + path.sep));
    const extra = output.files
      .filter((file) => !file.split(/[\\/]/).includes('node_modules') && !inside(file) && !generatedFiles.has(file))
      .map((file) => toRel(root, file))
      .sort();
    const files = [...walked, ...fixed, ...extra.map((f) => path.resolve(root, f))];
    await writeCheckRecord(stateFile, { version: STAGE_VERSION, fingerprint: await fingerprint({ ...inputs, files }), files: extra, result });
    return { ...result, skipped: false };
  } finally {
    await lock.release();
  }
}
