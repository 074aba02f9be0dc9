/**
 * A checked package's tsconfig.json as the compiler resolves it (`--showConfig`:
 * options, and the files its include/exclude select), the chain of configs it
 * extends, and the generated config each check runs: it extends the package's
 * own, emits nothing, keeps build info in the cache folder, and points the
 * database package's imports at the copy holding the desired types.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { runCompiler, type NativeCompiler } from './compiler.js';
import type { WorkspacePackage } from './workspace.js';

export interface PackageConfig {
  pkg: WorkspacePackage;
  /** absolute path of the package's tsconfig.json */
  configFile: string;
  /** the resolved compiler options, as --showConfig prints them */
  options: Record<string, unknown>;
  /** the files its include/files/exclude select, absolute */
  files: string[];
  /** the config file and every file it extends, absolute */
  chain: string[];
  /** the package's `paths` made absolute (they are relative to the config declaring them), if any */
  paths?: Record<string, string[]>;
}

/** The package's tsconfig.json read by the compiler itself; undefined when the package has none (not a TypeScript package). */
export async function readPackageConfig(compiler: NativeCompiler, pkg: WorkspacePackage, signal: AbortSignal): Promise<PackageConfig | undefined> {
  const configFile = path.join(pkg.dir, 'tsconfig.json');
  if (!(await fs.stat(configFile).then((s) => s.isFile(), () => false))) return undefined;
  const run = await runCompiler(compiler, ['--showConfig', '--pretty', 'false', '-p', configFile], { cwd: pkg.dir, signal });
  let shown: { compilerOptions?: Record<string, unknown>; files?: string[] };
  try {
    if (run.code !== 0) throw new Error((run.stdout + run.stderr).trim().split('\n')[0]);
    shown = JSON.parse(run.stdout) as typeof shown;
  } catch (error) {
    throw new SqlfirstError(`TypeScript cannot read ${pkg.rel}/tsconfig.json (${(error as Error).message}); fix that tsconfig.json, or pass --no-typecheck.`, { step: 'typecheck', cause: error });
  }
  const chain = await configChain(configFile);
  const declaring = chain.find((link) => link.compilerOptions?.paths !== undefined);
  const paths = declaring && absolutePaths(declaring.compilerOptions!.paths as Record<string, string[]>, path.dirname(declaring.file));
  return {
    pkg,
    configFile,
    options: shown.compilerOptions ?? {},
    files: (shown.files ?? []).map((file) => path.resolve(pkg.dir, file)),
    chain: chain.map((link) => link.file),
    paths,
  };
}

function absolutePaths(paths: Record<string, string[]>, base: string): Record<string, string[]> {
  return Object.fromEntries(Object.entries(paths).map(([pattern, targets]) => [pattern, targets.map((target) => path.resolve(base, target))]));
}

interface ChainLink {
  file: string;
  compilerOptions?: Record<string, unknown>;
}

/** The config and the configs it extends, the one that wins first (the file itself, then its `extends` from last to first, depth first). */
async function configChain(file: string, seen = new Set<string>()): Promise<ChainLink[]> {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  let json: { extends?: string | string[]; compilerOptions?: Record<string, unknown> };
  try {
    json = JSON.parse(stripJsonComments(text)) as typeof json;
  } catch {
    // the compiler reports a broken config itself, in the check
    return [{ file }];
  }
  const bases = json.extends === undefined ? [] : Array.isArray(json.extends) ? json.extends : [json.extends];
  const links: ChainLink[] = [{ file, compilerOptions: json.compilerOptions }];
  for (const base of [...bases].reverse()) {
    const resolved = resolveExtends(base, path.dirname(file));
    if (resolved) links.push(...(await configChain(resolved, seen)));
  }
  return links;
}

/** Where an `extends` entry points: a path relative to the config, or a package's config file. */
function resolveExtends(specifier: string, dir: string): string | undefined {
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
    const file = path.resolve(dir, specifier);
    return file.endsWith('.json') ? file : `${file}.json`;
  }
  const require = createRequire(path.join(dir, 'tsconfig.json'));
  for (const candidate of [specifier, `${specifier}.json`, `${specifier}/tsconfig.json`]) {
    try {
      return require.resolve(candidate);
    } catch {
      // try the next form
    }
  }
  return undefined;
}

/** tsconfig files are JSON with comments and trailing commas: both go, strings stay as they are. */
export function stripJsonComments(text: string): string {
  const withoutComments = scan(text, (c, i) => {
    if (c !== '/') return undefined;
    if (text[i + 1] === '/') return endOr(text.indexOf('\n', i), text.length);
    if (text[i + 1] === '*') return endOr(text.indexOf('*/', i + 2), text.length - 2) + 2;
    return undefined;
  });
  return dropTrailingCommas(withoutComments);
}

function endOr(index: number, fallback: number): number {
  return index < 0 ? fallback : index;
}

function dropTrailingCommas(text: string): string {
  return scan(text, (c, i) => {
    if (c !== ',') return undefined;
    let next = i + 1;
    while (/\s/.test(text[next] ?? '')) next++;
    return text[next] === '}' || text[next] === ']' ? i + 1 : undefined;
  });
}

/** Copies `text`, strings whole; where `skip` answers an index (outside a string), the text up to that index is dropped. */
function scan(text: string, skip: (c: string, i: number) => number | undefined): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      out += text.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    const to = skip(text[i], i);
    if (to === undefined) out += text[i++];
    else i = to;
  }
  return out;
}

/** Options a no-emit check must not carry over from a build config (`null` unsets an inherited option). */
const NO_EMIT_OVERRIDES: Record<string, unknown> = {
  noEmit: true,
  noEmitOnError: false,
  composite: false,
  declaration: false,
  declarationMap: false,
  emitDeclarationOnly: false,
  sourceMap: false,
  inlineSourceMap: false,
  inlineSources: false,
  outDir: null,
  rootDir: null,
  declarationDir: null,
  // measured on the Livermore workspace: after a schema change an incremental check re-derives the
  // signatures of everything that imports the types, and took 1.5 s where a full check takes 0.6 s
  incremental: false,
  tsBuildInfoFile: null,
};

/** Options whose values are paths, printed relative to the package's config: made absolute to compare packages. */
const PATH_OPTIONS = ['typeRoots', 'rootDirs'];

/** Packages whose key is equal can share one compiler run: same options once emit settings are set aside and paths made absolute. */
export function optionsKey(config: PackageConfig): string {
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config.options)) {
    if (name in NO_EMIT_OVERRIDES || name === 'paths') continue;
    options[name] = PATH_OPTIONS.includes(name) && Array.isArray(value) ? value.map((v) => path.resolve(config.pkg.dir, String(v))) : value;
  }
  options.paths = config.paths ?? null;
  return JSON.stringify(options, Object.keys(options).sort());
}

export interface GeneratedConfig {
  /** the config that extends the first package's own */
  base: PackageConfig;
  /** every file to check, absolute (the database package's already mapped into the copy) */
  files: string[];
  /** the database package's name and the copy's entry its imports resolve to (undefined: nothing imports it by name) */
  database?: { name: string; entry: string };
  /** where the config goes */
  file: string;
}

/** Writes the config of one compiler run. */
export async function writeGeneratedConfig(config: GeneratedConfig): Promise<void> {
  const dir = path.dirname(config.file);
  const relative = (file: string) => {
    const rel = path.relative(dir, file).split(path.sep).join('/');
    return rel.startsWith('.') || path.isAbsolute(rel) ? rel : `./${rel}`;
  };
  const paths: Record<string, string[]> = {};
  for (const [pattern, targets] of Object.entries(config.base.paths ?? {})) paths[pattern] = targets.map(relative);
  if (config.database) paths[config.database.name] = [relative(config.database.entry)];
  const text = `${JSON.stringify(
    {
      extends: relative(config.base.configFile),
      compilerOptions: { ...NO_EMIT_OVERRIDES, paths },
      files: config.files.map(relative),
      include: [],
    },
    null,
    2,
  )}\n`;
  const current = await fs.readFile(config.file, 'utf8').catch(() => undefined);
  if (current !== text) await fs.writeFile(config.file, text);
}
