/**
 * The one way sqlfirst finds the repository it works in: the nearest folder,
 * from `from` upwards, whose package.json declares "workspaces"; else the
 * nearest one holding .git; else `from` itself. `.sqlfirst/`, the default
 * atlas.hcl and the default schema file are found from here, so every
 * command works from any subfolder of the repository.
 */
import fs from 'node:fs';
import path from 'node:path';

export function repositoryRoot(from: string = process.cwd()): string {
  const start = path.resolve(from);
  return nearestAncestor(start, (dir) => hasWorkspaces(path.join(dir, 'package.json'))) ?? nearestAncestor(start, (dir) => fs.existsSync(path.join(dir, '.git'))) ?? start;
}

function nearestAncestor(start: string, test: (dir: string) => boolean): string | undefined {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (test(dir)) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function hasWorkspaces(packageJson: string): boolean {
  try {
    return 'workspaces' in (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as object);
  } catch {
    return false;
  }
}
