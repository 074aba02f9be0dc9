/** The monorepo's workspace packages, read from the root package.json without loading TypeScript. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { escapeRegExp } from '../text.js';

export interface WorkspacePackage {
  /** absolute folder */
  dir: string;
  /** folder relative to the repository root, forward slashes, e.g. packages/database */
  rel: string;
  name: string;
  manifest: PackageManifest;
}

export interface PackageManifest {
  name?: string;
  type?: string;
  imports?: unknown;
  workspaces?: string[] | { packages?: string[] };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export async function readManifest(file: string): Promise<PackageManifest | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as PackageManifest;
  } catch (error) {
    throw new SqlfirstError(`${file} is not valid JSON (${(error as Error).message}); fix it so the workspace packages can be found.`, { cause: error, step: 'typecheck' });
  }
}

/** The packages the root package.json's `workspaces` names, in that order (globs such as packages/* expand alphabetically); none without a package.json. */
export async function readWorkspace(root: string): Promise<WorkspacePackage[]> {
  const manifest = await readManifest(path.join(root, 'package.json'));
  if (!manifest) return [];
  const patterns = Array.isArray(manifest.workspaces) ? manifest.workspaces : (manifest.workspaces?.packages ?? []);
  const packages: WorkspacePackage[] = [];
  const seen = new Set<string>();
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    for (const dir of await expand(root, negated ? pattern.slice(1) : pattern)) {
      if (negated) {
        seen.add(dir);
        const at = packages.findIndex((p) => p.dir === dir);
        if (at >= 0) packages.splice(at, 1);
        continue;
      }
      if (seen.has(dir)) continue;
      const pkg = await readManifest(path.join(dir, 'package.json'));
      if (!pkg) continue;
      seen.add(dir);
      packages.push({ dir, rel: toRel(root, dir), name: pkg.name ?? toRel(root, dir), manifest: pkg });
    }
  }
  return packages;
}

/** Expands one workspace pattern: literal segments, `*` within a segment, and `**` for any depth (node_modules never). */
async function expand(root: string, pattern: string): Promise<string[]> {
  const segments = pattern.split('/').filter((s) => s !== '' && s !== '.');
  let dirs = [root];
  for (const segment of segments) {
    const next: string[] = [];
    for (const dir of dirs) {
      if (segment === '**') {
        next.push(dir, ...(await descendants(dir)));
      } else if (segment.includes('*')) {
        const matcher = new RegExp(`^${segment.split('*').map(escapeRegExp).join('[^/]*')}$`);
        for (const entry of await subdirectories(dir)) if (matcher.test(entry)) next.push(path.join(dir, entry));
      } else {
        next.push(path.join(dir, segment));
      }
    }
    dirs = next;
  }
  return [...new Set(dirs)];
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

async function descendants(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await subdirectories(dir)) {
    const child = path.join(dir, name);
    found.push(child, ...(await descendants(child)));
  }
  return found;
}


export function dependsOn(pkg: WorkspacePackage, name: string): boolean {
  const m = pkg.manifest;
  return [m.dependencies, m.devDependencies, m.peerDependencies, m.optionalDependencies].some((deps) => deps !== undefined && name in deps);
}

/** `file` relative to `root` with forward slashes. */
export function toRel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/**
 * The package the generated types belong to: the workspace package holding
 * `typesDir` (the project's types folder); undefined when there is none, or
 * when the folder is in no workspace package (the types are then not what any
 * package compiles against).
 */
export function findDatabasePackage(root: string, packages: WorkspacePackage[], typesDir: string | undefined): WorkspacePackage | undefined {
  if (!typesDir) return undefined;
  const absolute = path.resolve(root, typesDir);
  return packages.filter((p) => absolute === p.dir || absolute.startsWith(p.dir + path.sep)).sort((a, b) => b.dir.length - a.dir.length)[0];
}
