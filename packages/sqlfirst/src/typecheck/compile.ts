/**
 * The TypeScript side of the stage: the temporary copy of the database package
 * with the desired types, and one incremental, no-emit program per consumer.
 * Only this module touches the compiler API; its caller loads `typescript`
 * lazily and passes it in.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type TS from 'typescript';
import { SqlfirstError } from '../errors.js';
import type { TypeBreak } from './group.js';
import { toRel, type WorkspacePackage } from './workspace.js';

export type TypeScript = typeof TS;

/** Where the desired copy of the database package lives, and how to map its files back. */
export interface DatabaseCopy {
  pkg: WorkspacePackage;
  /** absolute folder of the copy, mirroring the package's layout */
  root: string;
  /** the copy's entry point, which consumers' imports of the package resolve to */
  entry: string;
  /** the package's folder its sources live in (the copied part), absolute */
  sourceDir: string;
}

/** The file in the working tree a path of the copy stands for (others unchanged). */
export function originalPath(copy: DatabaseCopy, file: string): string {
  const normalized = path.resolve(file);
  return normalized === copy.root || normalized.startsWith(copy.root + path.sep)
    ? path.join(copy.pkg.dir, path.relative(copy.root, normalized))
    : normalized;
}

export function copiedPath(copy: DatabaseCopy, file: string): string {
  const normalized = path.resolve(file);
  return normalized.startsWith(copy.sourceDir + path.sep) ? path.join(copy.root, path.relative(copy.pkg.dir, normalized)) : normalized;
}

export interface ParsedConfig {
  configFile: string;
  options: TS.CompilerOptions;
  fileNames: string[];
  /** the config file and every file it extends */
  configFiles: string[];
  errors: readonly TS.Diagnostic[];
}

/** A package's tsconfig.json, parsed; undefined when it has none (not a TypeScript package). */
export function parseConfig(ts: TypeScript, dir: string): ParsedConfig | undefined {
  const configFile = path.join(dir, 'tsconfig.json');
  if (!ts.sys.fileExists(configFile)) return undefined;
  const errors: TS.Diagnostic[] = [];
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => errors.push(diagnostic),
  });
  if (!parsed) return { configFile, options: {}, fileNames: [], configFiles: [configFile], errors };
  const extended = (parsed.options.configFile as { extendedSourceFiles?: string[] } | undefined)?.extendedSourceFiles ?? [];
  return {
    configFile,
    options: parsed.options,
    fileNames: parsed.fileNames,
    configFiles: [configFile, ...extended],
    errors: [...errors, ...parsed.errors],
  };
}

/**
 * Mirrors the database package's sources into `root` (writing only what
 * differs, removing what the package no longer has), with the generated files
 * replaced by the desired text. Never writes inside the package itself.
 */
export async function prepareCopy(
  pkg: WorkspacePackage,
  config: ParsedConfig | undefined,
  typesDir: string,
  generated: Record<string, string>,
  root: string,
): Promise<DatabaseCopy> {
  const sourceDir = path.resolve(config?.options.rootDir ?? path.join(pkg.dir, 'src'));
  if (!(typesDir === sourceDir || typesDir.startsWith(sourceDir + path.sep))) {
    throw new SqlfirstError(`The Drizzle types folder ${typesDir} is not inside ${sourceDir}, the sources of ${pkg.name}; sqlfirst cannot type-check against the desired schema.`, { step: 'typecheck' });
  }
  const copy: DatabaseCopy = { pkg, root, sourceDir, entry: path.join(root, path.relative(pkg.dir, sourceDir), 'index.ts') };
  const wanted = new Map<string, string | Buffer>();
  for (const file of await allFiles(sourceDir)) {
    wanted.set(copiedPath(copy, file), await fs.readFile(file));
  }
  for (const [name, text] of Object.entries(generated)) {
    wanted.set(copiedPath(copy, path.join(typesDir, name)), text);
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
  return copy;
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

/** Options a no-emit check must not carry over from a build config. */
const EMIT_ONLY: (keyof TS.CompilerOptions)[] = [
  'rootDir', 'outDir', 'outFile', 'declaration', 'declarationDir', 'declarationMap', 'emitDeclarationOnly',
  'composite', 'sourceMap', 'inlineSourceMap', 'inlineSources', 'tsBuildInfoFile', 'build', 'noEmitOnError',
];

export interface CheckTarget {
  pkg: WorkspacePackage;
  config: ParsedConfig;
  /** for the database package itself: check its copy instead of its committed sources */
  useCopy: boolean;
}

export interface CheckOutcome {
  breaks: TypeBreak[];
  /** every file the program read, as working-tree paths (copy files mapped back), TypeScript's own lib files left out */
  files: string[];
}

/** The compiler options a package is checked with: its own, minus emit settings, its imports of the database package resolved to the copy. */
export function checkOptions(copy: DatabaseCopy, config: ParsedConfig): TS.CompilerOptions {
  const options: TS.CompilerOptions = { ...config.options };
  for (const key of EMIT_ONLY) delete options[key];
  options.noEmit = true;
  // the package's own mappings, made absolute, so packages in other folders can share a program
  const base = options.baseUrl ?? (options.pathsBasePath as string | undefined) ?? path.dirname(config.configFile);
  const paths: TS.MapLike<string[]> = {};
  for (const [pattern, targets] of Object.entries(options.paths ?? {})) paths[pattern] = targets.map((t) => path.resolve(base, t));
  options.paths = { ...paths, [copy.pkg.name]: [copy.entry] };
  return options;
}

/** Packages whose check options are equal can share one program: this key says when. */
export function optionsKey(options: TS.CompilerOptions): string {
  const { configFile: _configFile, configFilePath: _configFilePath, pathsBasePath: _pathsBasePath, ...rest } = options;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

/**
 * Type-checks packages that share compiler options in one program (each
 * package's options are the ones from its own tsconfig), incrementally (build
 * info in `buildInfoFile`), emitting nothing else.
 */
export function checkPackages(ts: TypeScript, repoRoot: string, copy: DatabaseCopy, targets: CheckTarget[], buildInfoFile: string): CheckOutcome {
  const options = { ...checkOptions(copy, targets[0].config), incremental: true, tsBuildInfoFile: buildInfoFile };
  const rootNames = [...new Set(targets.flatMap((t) => (t.useCopy ? t.config.fileNames.map((file) => copiedPath(copy, file)) : t.config.fileNames)))];
  const configErrors = targets.flatMap((t) => t.config.errors);

  const host = ts.createIncrementalCompilerHost(options);
  const program = ts.createIncrementalProgram({ rootNames, options, host, configFileParsingDiagnostics: configErrors });
  const diagnostics = [
    ...program.getConfigFileParsingDiagnostics(),
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...program.getSemanticDiagnostics(),
  ];
  // with noEmit, emit() writes only the build info that makes the next run incremental
  program.emit();

  const configRel = toRel(repoRoot, targets[0].config.configFile);
  const breaks = diagnostics
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d): TypeBreak => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return { file: configRel, line: 1, message };
      return {
        file: toRel(repoRoot, originalPath(copy, d.file.fileName)),
        line: d.file.getLineAndCharacterOfPosition(d.start).line + 1,
        message,
      };
    });
  const inner = program.getProgram();
  const files = inner
    .getSourceFiles()
    .filter((file) => !inner.isSourceFileDefaultLibrary(file))
    .map((file) => originalPath(copy, file.fileName));
  return { breaks, files: [...files, ...targets.flatMap((t) => t.config.configFiles)] };
}
