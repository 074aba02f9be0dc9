/**
 * The copy of the database package that holds the desired types: its sources
 * mirrored under the cache folder (inside the repository, so imports resolve
 * from the root node_modules), with the generated files replaced. Never
 * writes inside the package itself.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { toRel, type WorkspacePackage } from './workspace.js';

export interface DatabaseCopy {
  pkg: WorkspacePackage;
  /** absolute folder of the copy, mirroring the package's layout */
  root: string;
  /** the package's folder that is copied (its rootDir, else src), absolute */
  sourceDir: string;
}

/** The file in the working tree a path of the copy stands for (others unchanged). */
export function originalPath(copy: DatabaseCopy, file: string): string {
  const normalized = path.resolve(file);
  return normalized.startsWith(copy.root + path.sep) ? path.join(copy.pkg.dir, path.relative(copy.root, normalized)) : normalized;
}

/** The copy's path of a file of the package's copied sources (others unchanged). */
export function copiedPath(copy: DatabaseCopy, file: string): string {
  const normalized = path.resolve(file);
  return normalized.startsWith(copy.sourceDir + path.sep) ? path.join(copy.root, path.relative(copy.pkg.dir, normalized)) : normalized;
}

/**
 * Mirrors `sourceDir` of the database package into `root` (writing only what
 * differs, so the compiler's build info stays valid; removing what the
 * package no longer has), with the generated files set to `generated` (a
 * file given as undefined is left out, as a missing committed file is).
 */
export async function prepareCopy(
  pkg: WorkspacePackage,
  sourceDir: string,
  typesDir: string,
  generated: Record<string, string | undefined>,
  root: string,
): Promise<DatabaseCopy> {
  if (!(typesDir === sourceDir || typesDir.startsWith(sourceDir + path.sep))) {
    throw new SqlfirstError(
      `The Drizzle types folder ${toRel(pkg.dir, typesDir)} is not inside ${toRel(pkg.dir, sourceDir)}, the sources of ${pkg.name}; move it there (or set the package's rootDir) so sqlfirst can type-check against the desired schema.`,
      { step: 'typecheck' },
    );
  }
  const copy: DatabaseCopy = { pkg, root, sourceDir };
  const wanted = new Map<string, string | Buffer>();
  for (const file of await allFiles(sourceDir)) wanted.set(copiedPath(copy, file), await fs.readFile(file));
  for (const [name, text] of Object.entries(generated)) {
    const file = copiedPath(copy, path.join(typesDir, name));
    if (text === undefined) wanted.delete(file);
    else wanted.set(file, text);
  }
  // the copy's module format (type) and subpath imports are the package's; its name and exports are not needed
  const manifest: Record<string, unknown> = { private: true };
  if (pkg.manifest.type) manifest.type = pkg.manifest.type;
  if (pkg.manifest.imports) manifest.imports = pkg.manifest.imports;
  wanted.set(path.join(root, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  for (const [file, content] of wanted) {
    const current = await fs.readFile(file).catch(() => undefined);
    if (current && current.equals(Buffer.from(content))) continue;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
  }
  for (const file of await allFiles(root)) {
    if (!wanted.has(file)) await fs.rm(file, { force: true });
  }
  await linkNodeModules(pkg, root);
  return copy;
}

/** Dependencies installed in the package's own node_modules (not hoisted to the root) resolve from the copy too. */
async function linkNodeModules(pkg: WorkspacePackage, root: string): Promise<void> {
  const own = path.join(pkg.dir, 'node_modules');
  const link = path.join(root, 'node_modules');
  const exists = await fs.stat(own).then((s) => s.isDirectory(), () => false);
  const linked = await fs.readlink(link).catch(() => undefined);
  if (exists && linked === undefined) await fs.symlink(own, link, 'junction');
  if (!exists && linked !== undefined) await fs.rm(link, { force: true });
}

async function allFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') found.push(...(await allFiles(full)));
    } else if (entry.isFile()) {
      found.push(full);
    }
  }
  return found;
}
