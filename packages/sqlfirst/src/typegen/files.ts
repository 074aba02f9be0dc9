import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';

/** The two files sqlfirst keeps from a pull, by name. */
export interface GeneratedTypes {
  'schema.ts': string;
  'relations.ts': string;
}

function entries(files: GeneratedTypes): [string, string][] {
  return Object.entries(files) as [string, string][];
}

/** Names of files in outDir whose content differs from `files` (missing counts as different). */
export async function compareTypes(outDir: string, files: GeneratedTypes): Promise<string[]> {
  const differing: string[] = [];
  for (const [name, content] of entries(files)) {
    const current = await fs.readFile(path.join(outDir, name), 'utf8').catch(() => undefined);
    if (current !== content) differing.push(name);
  }
  return differing;
}

/**
 * Writes the files into outDir, only those whose content changed; returns the
 * names written. Each file is written beside its target and renamed over it, so
 * a reader never sees half a file. Deletes nothing else.
 */
export async function writeTypes(outDir: string, files: GeneratedTypes): Promise<string[]> {
  const changed = await compareTypes(outDir, files);
  if (changed.length === 0) return [];
  const staged: [temporary: string, final: string][] = [];
  try {
    await fs.mkdir(outDir, { recursive: true });
    for (const name of changed) {
      const final = path.join(outDir, name);
      const temporary = path.join(outDir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
      staged.push([temporary, final]);
      await fs.writeFile(temporary, files[name as keyof GeneratedTypes]);
    }
    // rename only once every file is staged, so a failure leaves the old pair whole
    for (const [temporary, final] of staged) await fs.rename(temporary, final);
    return changed;
  } catch (error) {
    throw new SqlfirstError(`Could not write the Drizzle types into ${outDir} (${(error as Error).message}); check that the folder is writable.`, {
      cause: error,
      step: 'types',
    });
  } finally {
    await Promise.all(staged.map(([temporary]) => fs.rm(temporary, { force: true })));
  }
}
