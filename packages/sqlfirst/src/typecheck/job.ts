/**
 * The expensive half of the stage, run in a worker thread so the compiler
 * neither blocks the caller's event loop nor loads into its process: mirror
 * the database package with the desired types, then type-check every
 * package, sharing one program among packages with equal options.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { checkOptions, checkPackages, optionsKey, parseConfig, prepareCopy, type CheckTarget } from './compile.js';
import type { TypeBreak } from './group.js';
import type { WorkspacePackage } from './workspace.js';

/** Everything a run needs, as plain data (it crosses into a worker). */
export interface CompileJob {
  root: string;
  generated: Record<string, string>;
  /** absolute folder of the generated files */
  typesDir: string;
  /** .sqlfirst/typecheck, absolute */
  cacheDir: string;
  database: WorkspacePackage;
  /** the database package first, then its consumers */
  checked: WorkspacePackage[];
}

export interface CompileOutput {
  breaks: TypeBreak[];
  /** the packages checked (those with a tsconfig.json), relative folders */
  packages: string[];
  /** every file the programs read, absolute working-tree paths */
  files: string[];
}

export async function runJob(job: CompileJob): Promise<CompileOutput> {
  const { root, cacheDir, database, checked } = job;
  const ts = (await import('typescript')).default;
  const configs = new Map(checked.map((p) => [p.dir, parseConfig(ts, p.dir)]));
  const copy = await prepareCopy(database, configs.get(database.dir), job.typesDir, job.generated, path.join(cacheDir, 'database'));

  const targets: CheckTarget[] = [];
  for (const pkg of checked) {
    const config = configs.get(pkg.dir);
    if (config) targets.push({ pkg, config, useCopy: pkg.dir === database.dir });
  }
  // packages with equal options share one program: the database's types are parsed and checked once
  const groups = new Map<string, CheckTarget[]>();
  for (const target of targets) {
    const key = optionsKey(checkOptions(copy, target.config));
    groups.set(key, [...(groups.get(key) ?? []), target]);
  }
  const found = new Map<string, TypeBreak>();
  const read = new Set<string>();
  const buildInfos = new Set<string>();
  for (const group of groups.values()) {
    const id = createHash('sha256').update(group.map((t) => t.pkg.rel).join('\0')).digest('hex').slice(0, 12);
    const buildInfo = path.join(cacheDir, `program-${id}.tsbuildinfo`);
    buildInfos.add(buildInfo);
    const outcome = checkPackages(ts, root, copy, group, buildInfo);
    for (const item of outcome.breaks) found.set(`${item.file}:${item.line}:${item.message}`, item);
    for (const file of outcome.files) read.add(file);
  }
  for (const name of await fs.readdir(cacheDir)) {
    const file = path.join(cacheDir, name);
    if (name.endsWith('.tsbuildinfo') && !buildInfos.has(file)) await fs.rm(file, { force: true });
  }
  const breaks = [...found.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.message.localeCompare(b.message));
  return { breaks, packages: targets.map((t) => t.pkg.rel), files: [...read] };
}
