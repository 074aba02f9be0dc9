/** The hashes sqlfirst records and compares; one definition each. */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** sha256 over parts, each length-prefixed so that no two different lists hash alike. */
export function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : part;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/**
 * The schema files' identity: each file's path relative to the repository
 * root (forward slashes, so the same on Windows) and its bytes. The same
 * from any working folder. A file that cannot be read gives undefined.
 */
export async function schemaFilesHash(files: string[], root: string): Promise<string | undefined> {
  try {
    const parts: (string | Buffer)[] = [];
    for (const file of files) parts.push(path.relative(root, path.resolve(file)).split(path.sep).join('/'), await fs.readFile(file));
    return sha256(...parts);
  } catch {
    return undefined;
  }
}
