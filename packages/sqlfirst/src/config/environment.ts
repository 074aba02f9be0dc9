/**
 * The config stage: read atlas.hcl (the file the Atlas CLI reads too) and produce the one
 * typed Environment a run needs, with credentials from the environment variables.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqlfirstError } from '../errors.js';
import { registerSecret } from '../target/secrets.js';
import { Credentials, defaultUserEnvironment, type ProcessEnvironment, type UserEnvironment } from './credentials.js';
import { AtlasDocument, type Block, type Reads } from './document.js';
import type { Value } from './expressions.js';
import { displayPath, parseHcl, SourceText } from './hcl.js';
import { parseDuration } from './duration.js';
import { repositoryRoot } from './repository.js';
import { misplacedValue, placeVariables, SHOWN_PARTS } from './url-variables.js';
import type { DiffPolicy } from '../policy/index.js';

export type { DiffPolicy };

export interface Environment {
  /** the env block's name */
  name: string;
  /** absolute path of atlas.hcl */
  configPath: string;
  /** target URL with credentials (never print it unmasked); undefined = use the embedded database */
  url?: string;
  /** `dev` attribute; a `docker://` dev URL is ignored (undefined): sqlfirst makes its own shadow database */
  devUrl?: string;
  /** absolute paths of the schema files from `src`; [] when the env has no src */
  schemaFiles: string[];
  /** the `schemas = [...]` attribute if present, else [] */
  schemas: string[];
  /** from diff { skip { drop_schema = true  drop_table = true } } */
  policy: DiffPolicy;
  /** env attributes lock_timeout / statement_timeout ("500ms", "5s", "2m") in milliseconds */
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** `online = true`: plans avoid long locks on existing tables (CONCURRENTLY, NOT VALID + VALIDATE) */
  online: boolean;
  /** `hazard_threshold_rows = N`: a rewrite or full scan of a table above N rows is refused unless --allow-hazard */
  hazardThresholdRows?: number;
}

export interface LoadEnvironmentOptions {
  configPath: string;
  envName: string;
  /** from --var key=value */
  vars?: Record<string, string>;
  /** defaults to process.env */
  env?: ProcessEnvironment;
  /** the Windows user environment (HKCU\Environment); defaults to reading the registry on win32, {} elsewhere */
  userEnvironment?: UserEnvironment;
  /** the schema files come from --to: src is not read (nor checked) */
  ignoreSrc?: boolean;
  /** where parsed configs are cached; default: .sqlfirst/cache under the repository root of the working folder; false: no cache */
  cacheDir?: string | false;
}

/** A config is a page of settings; anything this large is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 256 * 1024;

/** The env without a configured database may fall back to the embedded one. */
const EMBEDDED_FALLBACK_ENV = 'local';

export async function loadEnvironment(options: LoadEnvironmentOptions): Promise<Environment> {
  const configPath = path.resolve(options.configPath);
  const source = new SourceText(configPath, readConfig(configPath));
  const env = options.env ?? process.env;
  const credentials = new Credentials(env, options.userEnvironment ?? defaultUserEnvironment(env));
  const cacheDir = options.cacheDir === false ? undefined : (options.cacheDir ?? path.join(repositoryRoot(), '.sqlfirst', 'cache'));
  const document = new AtlasDocument(await parseHcl(source, cacheDir), source, options.vars ?? {}, credentials);
  return new EnvironmentReader(document, options.envName).read(configPath, options.ignoreSrc ?? false);
}

function readConfig(configPath: string): string {
  try {
    const size = fs.statSync(configPath).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new SqlfirstError(`The config file ${displayPath(configPath)} is ${size} bytes, more than the limit of ${MAX_CONFIG_BYTES}; an atlas.hcl holds a few environments, so check that it is the right file.`, {
        step: 'config',
      });
    }
    return fs.readFileSync(configPath, 'utf8');
  } catch (error) {
    if (error instanceof SqlfirstError) throw error;
    throw new SqlfirstError(`Cannot read the config file ${displayPath(configPath)}; check that it exists or pass --config PATH.`, {
      cause: error,
      step: 'config',
    });
  }
}

/**
 * Reads one env block in two passes: evaluate every attribute it uses (recording the
 * variables they read), report all missing variables at once, and only then interpret the
 * values, so an unset variable never surfaces as a confusing "" somewhere else.
 */
class EnvironmentReader {
  private readonly block: Block;
  /** variables read by every attribute but url, which the local env may leave unset */
  private readonly reads: Reads = new Map();
  private readonly urlReads: Reads = new Map();

  constructor(
    private readonly document: AtlasDocument,
    private readonly name: string,
  ) {
    this.block = document.env(name);
  }

  read(configPath: string, ignoreSrc: boolean): Environment {
    const url = this.string(this.block, 'url', this.urlReads);
    const devUrl = this.string(this.block, 'dev');
    const sources = ignoreSrc ? undefined : this.stringList('src');
    const schemas = this.stringList('schemas') ?? [];
    const diff = this.document.child(this.block, 'diff');
    const skip = diff && this.document.child(diff, 'skip');
    const dropSchema = skip && this.document.attribute(skip, 'drop_schema', this.reads);
    const dropTable = skip && this.document.attribute(skip, 'drop_table', this.reads);
    const lockTimeout = this.string(this.block, 'lock_timeout');
    const statementTimeout = this.string(this.block, 'statement_timeout');
    const online = this.document.attribute(this.block, 'online', this.reads);
    const threshold = this.document.attribute(this.block, 'hazard_threshold_rows', this.reads);
    const embedded = this.checkVariables();
    if (!embedded) this.checkUrlVariables('url', url);
    this.checkUrlVariables('dev', devUrl);
    this.registerVariableSecrets();
    return {
      name: this.name,
      configPath,
      url: embedded ? undefined : this.requireUrl(url),
      devUrl: devUrl?.startsWith('docker://') ? undefined : withSecretRegistered(devUrl),
      schemaFiles: sources ? this.schemaFiles(sources, configPath) : [],
      schemas,
      policy: {
        skipDropSchema: this.boolean(skip, 'drop_schema', dropSchema),
        skipDropTable: this.boolean(skip, 'drop_table', dropTable),
      },
      lockTimeoutMs: this.duration('lock_timeout', lockTimeout),
      statementTimeoutMs: this.duration('statement_timeout', statementTimeout),
      online: this.boolean(this.block, 'online', online),
      hazardThresholdRows: this.count('hazard_threshold_rows', threshold),
    };
  }

  /** Throws one error naming every unset variable; true when the local env's url is wholly unset. */
  private checkVariables(): boolean {
    const urlMissing = missingNames(this.urlReads);
    const embedded = this.name === EMBEDDED_FALLBACK_ENV && this.urlReads.size > 0 && urlMissing.length === this.urlReads.size;
    const missing = [...new Set([...(embedded ? [] : urlMissing), ...missingNames(this.reads)])];
    if (missing.length > 0) throw missingVariablesError(this.name, missing);
    return embedded;
  }

  /** A variable whose value cannot stand where the URL puts it is named, with what to write instead. */
  private checkUrlVariables(name: 'url' | 'dev', url: string | undefined): void {
    if (url === undefined) return;
    const traced = this.document.trace(this.block, name);
    const problem = traced && misplacedValue(placeVariables(traced.text, traced.placeholders), this.document.environmentValues);
    if (problem) throw this.problem(this.block, name, problem);
  }

  /**
   * Every value getenv() read is masked wherever sqlfirst prints, except those that are a
   * URL's user, host, port or database, which the masked URL shows on purpose.
   */
  private registerVariableSecrets(): void {
    const shown = new Set<string>();
    for (const name of ['url', 'dev'] as const) {
      const traced = this.document.trace(this.block, name);
      if (!traced) continue;
      for (const [variable, where] of placeVariables(traced.text, traced.placeholders)) if (SHOWN_PARTS.includes(where.part)) shown.add(variable);
    }
    for (const [variable, value] of this.document.environmentValues) if (!shown.has(variable)) registerSecret(value);
  }

  private requireUrl(url: string | undefined): string | undefined {
    if (url === undefined && this.name !== EMBEDDED_FALLBACK_ENV) {
      throw this.document.error(this.block.line, `environment "${this.name}" has no url; add url = "postgres://..." to it`);
    }
    return withSecretRegistered(url);
  }

  private schemaFiles(sources: string[], configPath: string): string[] {
    const configDir = path.dirname(configPath);
    const root = repositoryRoot(configDir);
    return sources.flatMap((source) => {
      if (!source.startsWith('file://')) {
        throw this.problem(this.block, 'src', `src "${source}" is not a file:// URL; sqlfirst reads SQL schema files, as in src = "file://schema.sql"`);
      }
      const rest = source.slice('file://'.length);
      const target = rest.startsWith('/') ? fileURLToPath(source) : path.resolve(configDir, rest);
      const files = this.sqlFiles(target, source);
      for (const file of files) this.checkInside(root, file, source);
      return files;
    });
  }

  /**
   * A config names schema files inside its own repository only: a checked-in atlas.hcl must
   * not make sqlfirst read (and load into a database) a file elsewhere on the machine. The
   * check follows symbolic links. An explicit --to on the command line is not checked.
   */
  private checkInside(root: string, file: string, source: string): void {
    const real = realPath(file);
    if (isInside(realPath(root), real)) return;
    const shown = real === file ? file : `${file} (a link to ${real})`;
    throw this.problem(
      this.block,
      'src',
      `src "${source}" names ${shown}, which is outside the repository ${root}; keep the schema files inside the repository, or pass the file with --to`,
    );
  }

  /** A .sql file, or a directory's .sql files sorted by name. */
  private sqlFiles(target: string, source: string): string[] {
    const problem = (message: string) => this.problem(this.block, 'src', `src "${source}" ${message}`);
    const stat = fs.statSync(target, { throwIfNoEntry: false });
    if (!stat) throw problem(`does not exist (${target}); create it or fix src`);
    if (!stat.isDirectory()) {
      if (!target.toLowerCase().endsWith('.sql')) throw problem('is not a .sql file; sqlfirst reads SQL schema files only');
      return [target];
    }
    const files = fs.readdirSync(target).filter((file) => file.toLowerCase().endsWith('.sql')).sort();
    if (files.length === 0) throw problem('is a directory with no .sql files; add the schema files or fix src');
    return files.map((file) => path.join(target, file));
  }

  private duration(name: string, text: string | undefined): number | undefined {
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === undefined) throw this.problem(this.block, name, `${name} "${text}" is not a duration; write it like "500ms", "5s" or "2m"`);
    return ms;
  }

  private count(name: string, value: Value | undefined): number | undefined {
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!Number.isInteger(number) || number < 0) throw this.problem(this.block, name, `${name} must be a whole number of rows`);
    return number;
  }

  private boolean(block: Block | undefined, name: string, value: Value | undefined): boolean {
    if (!block || value === undefined) return false;
    // a --var value arrives as a string, as HCL's own conversion allows
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw this.problem(block, name, `${name} must be true or false`);
  }

  private string(block: Block, name: string, reads = this.reads): string | undefined {
    const value = this.document.attribute(block, name, reads);
    if (value === undefined || typeof value === 'string') return value;
    throw this.problem(block, name, `${name} must be a string`);
  }

  private stringList(name: string): string[] | undefined {
    const value = this.document.attribute(this.block, name, this.reads);
    if (value === undefined) return undefined;
    const list = Array.isArray(value) ? value : [value];
    if (list.every((item): item is string => typeof item === 'string')) return list;
    throw this.problem(this.block, name, `${name} must be a string or a list of strings`);
  }

  private problem(block: Block, name: string, message: string): SqlfirstError {
    return this.document.error(this.document.source.lineOfAttribute(name, block.line) ?? block.line, message);
  }
}

function missingNames(reads: Reads): string[] {
  return [...reads].filter(([, set]) => !set).map(([name]) => name);
}

function missingVariablesError(envName: string, names: string[]): SqlfirstError {
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  const [verb, pronoun] = names.length === 1 ? ['is', 'it'] : ['are', 'them'];
  return new SqlfirstError(
    `Environment "${envName}" needs ${list}, which ${verb} not set; set ${pronoun} in your environment (on Windows: your user environment variables) and run again.`,
    { step: 'config' },
  );
}

/** The URL's password joins the secrets, so it is masked wherever it is printed. */
function withSecretRegistered(url: string | undefined): string | undefined {
  if (url && URL.canParse(url)) registerSecret(new URL(url).password);
  return url;
}

export { parseDuration } from './duration.js';

/** ["k=v", "a=b=c"] → { k: "v", a: "b=c" }; the value is everything after the first "=". */
export function parseVarFlags(flags: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const flag of flags) {
    const separator = flag.indexOf('=');
    // a flag that starts with "=" is not echoed: what follows may be a password
    if (separator <= 0) {
      const shown = separator === 0 ? '' : ` ${flag}`;
      throw new SqlfirstError(`--var${shown} is not of the form name=value; write it as --var ${shown.trim() || 'name'}=value.`, { step: 'config' });
    }
    vars[flag.slice(0, separator)] = flag.slice(separator + 1);
  }
  return vars;
}

/**
 * The explicit --config path, else ./atlas.hcl, else packages/database/atlas.hcl under the
 * nearest ancestor folder whose package.json has "workspaces"; undefined when none exists.
 */
export function findConfigFile(cwd: string, explicit?: string): string | undefined {
  const candidates = explicit
    ? [path.resolve(cwd, explicit)]
    : [path.resolve(cwd, 'atlas.hcl'), ...workspaceConfig(cwd)];
  return candidates.find((file) => fs.existsSync(file));
}

function workspaceConfig(cwd: string): string[] {
  return [path.join(repositoryRoot(cwd), 'packages', 'database', 'atlas.hcl')];
}

function realPath(file: string): string {
  try {
    return fs.realpathSync.native(file);
  } catch {
    return path.resolve(file);
  }
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return !path.isAbsolute(relative) && relative !== '..' && !relative.startsWith(`..${path.sep}`);
}
