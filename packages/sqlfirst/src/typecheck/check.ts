/**
 * One type check of the workspace against one version of the generated
 * types: the copy of the database package with those types, one generated
 * tsconfig per group of packages with equal options, and one native compiler
 * run per group (no emit), its diagnostics mapped back to the
 * working tree.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { runCompiler, type NativeCompiler } from './compiler.js';
import { copiedPath, originalPath, prepareCopy, type DatabaseCopy } from './copy.js';
import { parseCompilerOutput, type CompilerOutput } from './diagnostics.js';
import type { TypeBreak } from './group.js';
import { optionsKey, writeGeneratedConfig, type PackageConfig } from './tsconfig.js';
import { toRel, type WorkspacePackage } from './workspace.js';
import type { WarmCompilers } from './warm.js';

export interface CheckJob {
  root: string;
  compiler: NativeCompiler;
  /** the generated files by name; undefined leaves one out */
  generated: Record<string, string | undefined>;
  /** absolute folder of the generated files */
  typesDir: string;
  /** this check's own folder under .sqlfirst/typecheck (copy, configs, build info) */
  workDir: string;
  database: WorkspacePackage;
  /** the tsconfig of each checked package that has one (the database package's among them) */
  configs: PackageConfig[];
  /** the root's package.json and lockfiles, absolute: they shape every program */
  rootInputs: string[];
  /** compilers kept up between checks (the dev loop); without them each check starts its own */
  warm?: WarmCompilers;
  signal: AbortSignal;
  onCompilerStart?: (pid: number) => void;
}

export interface CheckOutput {
  breaks: TypeBreak[];
  /** the packages checked (those with a tsconfig.json), relative folders */
  packages: string[];
  /** every file the compiler read and every tsconfig it extended, absolute working-tree paths */
  files: string[];
}

/** One compiler run of a check: a group of packages with equal options, its generated config and what shapes its program. */
interface GroupRun {
  group: PackageConfig[];
  /** the generated config */
  file: string;
  /** files that shape the program without being in it: the tsconfig chain, package.json files, the lockfiles */
  inputs: string[];
}

/**
 * The copy of the database package with `job.generated`, and the generated
 * config of each group of packages with equal options (they share one run:
 * the database's types are read and checked once).
 */
async function prepareRuns(job: Omit<CheckJob, 'signal'>): Promise<{ copy: DatabaseCopy; runs: GroupRun[] }> {
  const { database, configs } = job;
  const databaseConfig = configs.find((c) => c.pkg === database);
  const rootDir = databaseConfig?.options.rootDir;
  const sourceDir = typeof rootDir === 'string' ? path.resolve(database.dir, rootDir) : path.join(database.dir, 'src');
  const copy = await prepareCopy(database, sourceDir, job.typesDir, job.generated, path.join(job.workDir, 'database'));
  // only the database package's users import it by name
  const entry = configs.some((c) => c.pkg !== database) ? await copyEntry(copy) : undefined;
  const groups = new Map<string, PackageConfig[]>();
  for (const config of configs) {
    const key = optionsKey(config);
    groups.set(key, [...(groups.get(key) ?? []), config]);
  }
  const runs = await Promise.all(
    [...groups.values()].map(async (group) => {
      const id = createHash('sha256').update(group.map((c) => c.pkg.rel).join('\0')).digest('hex').slice(0, 12);
      const file = path.join(job.workDir, `tsconfig.${id}.json`);
      const files = group.flatMap((c) => (c.pkg === database ? c.files.map((f) => copiedPath(copy, f)) : c.files));
      await writeGeneratedConfig({ base: group[0], files, database: entry === undefined ? undefined : { name: database.name, entry }, file });
      const inputs = [...group.flatMap((c) => [...c.chain, path.join(c.pkg.dir, 'package.json')]), ...job.rootInputs];
      return { group, file, inputs };
    }),
  );
  await removeStale(job.workDir, new Set(runs.map((run) => run.file)));
  return { copy, runs };
}

/** Starts opening the check's projects in the warm compilers (with `job.generated`, e.g. the committed types) before the check needs them. */
export async function warmUpCheck(job: Omit<CheckJob, 'signal'> & { warm: WarmCompilers }): Promise<void> {
  const { runs } = await prepareRuns(job);
  for (const run of runs) job.warm.open(job.compiler, run.file, run.inputs, { cwd: job.root, onStart: job.onCompilerStart });
}

export async function runCheck(job: CheckJob): Promise<CheckOutput> {
  const { root, compiler, signal } = job;
  const { copy, runs: planned } = await prepareRuns(job);
  const runs = planned.map(async ({ group, file, inputs }) => {
    const output = job.warm ? await job.warm.check(compiler, file, inputs, { cwd: root, signal, onStart: job.onCompilerStart }) : await compileOnce(job, file, group);
    return { group, file, output };
  });
  const settled = await Promise.allSettled(runs);
  // every compiler has ended (killed on abort) before this check answers
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;

  const found = new Map<string, TypeBreak>();
  const read = new Set<string>();
  const lines = new Map<string, Promise<string[] | undefined>>();
  const sourceLine = async (file: string, line: number) => {
    if (!lines.has(file)) lines.set(file, fs.readFile(file, 'utf8').then((text) => text.split(/\r?\n/), () => undefined));
    return (await lines.get(file))?.[line - 1]?.trim() || undefined;
  };
  for (const { value } of settled as PromiseFulfilledResult<Awaited<(typeof runs)[number]>>[]) {
    const { group, file, output } = value;
    for (const diagnostic of output.diagnostics) {
      const printed = diagnostic.file === undefined ? undefined : path.resolve(root, diagnostic.file);
      // a diagnostic without a place (options, config) belongs to the run's config: shown at the first package's
      const at = printed === undefined || printed === file ? group[0].configFile : originalPath(copy, printed);
      const item: TypeBreak = {
        file: toRel(root, at),
        line: printed === undefined ? 1 : diagnostic.line,
        column: printed === undefined ? 1 : diagnostic.column,
        code: diagnostic.code,
        message: diagnostic.message,
      };
      const source = printed && (await sourceLine(printed, diagnostic.line));
      if (source) item.source = source;
      found.set(`${item.file}:${item.line}:${item.column}:${item.code}:${item.message}`, item);
    }
    for (const listed of output.files) read.add(originalPath(copy, path.resolve(root, listed)));
    for (const config of group) for (const link of config.chain) read.add(link);
  }
  const breaks = [...found.values()].sort(compareBreaks);
  return { breaks, packages: job.configs.map((c) => c.pkg.rel), files: [...read] };
}

/** One compiler process for the group's generated config, run to its end. */
async function compileOnce(job: CheckJob, file: string, group: PackageConfig[]): Promise<CompilerOutput> {
  // one checker: each checker derives the Drizzle table types on its own, so more of them repeat the
  // heaviest work (measured: 0.25 s of checking with one, 0.7 s with the default four on 2 cores)
  const run = await runCompiler(job.compiler, ['-p', file, '--pretty', 'false', '--listFiles', '--checkers', '1'], { cwd: job.root, signal: job.signal, onStart: job.onCompilerStart });
  const output = parseCompilerOutput(run.stdout);
  if (run.code !== 0 && output.diagnostics.length === 0) {
    const said = (run.stderr || run.stdout).trim().split('\n')[0] || `exit code ${run.code ?? 'none (killed)'}`;
    throw new SqlfirstError(`TypeScript stopped while checking ${group.map((c) => c.pkg.rel).join(', ')} (${said}); run it again with --verbose, or pass --no-typecheck.`, { step: 'typecheck' });
  }
  return output;
}

/** What consumers' imports of the database package resolve to: the copy of its source entry (index.ts in its sources). */
async function copyEntry(copy: DatabaseCopy): Promise<string> {
  const exists = (file: string) => fs.stat(file).then((s) => s.isFile(), () => false);
  const candidates = ['index.ts', 'index.mts', 'index.tsx'].map((name) => path.join(copy.root, path.relative(copy.pkg.dir, copy.sourceDir), name));
  for (const candidate of candidates) if (await exists(candidate)) return candidate;
  throw new SqlfirstError(
    `${copy.pkg.name} has no ${toRel(copy.pkg.dir, path.join(copy.sourceDir, 'index.ts'))}, the entry its users' imports are checked against; add one that exports the package's API, or pass --no-typecheck.`,
    { step: 'typecheck' },
  );
}

/** Configs of groups that no longer exist (and build info of earlier versions) are left from an earlier workspace: removed. */
async function removeStale(workDir: string, wanted: Set<string>): Promise<void> {
  for (const name of await fs.readdir(workDir)) {
    const file = path.join(workDir, name);
    if (/^tsconfig\.[0-9a-f]+\.(?:json|tsbuildinfo)$/.test(name) && !wanted.has(file)) await fs.rm(file, { force: true });
  }
}

export function compareBreaks(a: TypeBreak, b: TypeBreak): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code - b.code || a.message.localeCompare(b.message);
}
