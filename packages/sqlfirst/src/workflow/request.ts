/** Turns command-line choices (an atlas.hcl environment or ad-hoc flags) into one RunRequest. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqlfirstError } from '../errors.js';
import { maskUrl } from '../target/url.js';
import { parseDuration } from '../config/duration.js';
import type { Project } from '../config/project.js';
import { NO_SKIPS, type DiffPolicy } from '../policy/index.js';

/** Where and what to apply. */
export interface TargetSpec {
  /** "local", "sandbox", … or undefined for ad-hoc --url use */
  envName?: string;
  /** the atlas.hcl read, as given or found */
  configPath?: string;
  /** undefined = the embedded database */
  url?: string;
  devUrl?: string;
  schemaFiles: string[];
  /** schemas in scope; empty = those schema.sql uses */
  schemas: string[];
  policy: DiffPolicy;
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** plans avoid long locks on existing tables (atlas.hcl `online`, or --online) */
  online?: boolean;
  /** a rewrite or full scan of a table over this many rows is refused unless accepted (atlas.hcl `hazard_threshold_rows`) */
  hazardThresholdRows?: number;
}

/** Everything one command was asked to do. */
export interface RunRequest extends TargetSpec {
  /** type-check the workspace against the new types (default on; off with --no-typecheck) */
  typeCheck: boolean;
  /** where the generated files go (default: the project's types folder) */
  typesDir?: string;
  /** plan: exit 2 when changes are pending */
  exitCode?: boolean;
  /** plan: save the plan here */
  out?: string;
  /** apply: this reviewed plan, proven against a fresh one */
  planFile?: string;
  dryRun?: boolean;
  autoApprove?: boolean;
  allowDataLoss?: boolean;
  allowBreaking?: boolean;
  /** an empty schema file is meant: drop everything (still behind the data-loss gate) */
  allowEmpty?: boolean;
  /** hazard kinds accepted over the threshold (--allow-hazard rewrites-table) */
  allowHazard?: string[];
  lockWaitMs?: number;
  /** sync: write the types (off with --no-types) */
  writeTypes?: boolean;
  /** sync: take the full path even when nothing changed */
  force?: boolean;
  /** check: compare the live database with the schema too */
  drift?: boolean;
  /** asks the person at the terminal; undefined when there is none */
  confirm?: (question: string) => Promise<boolean>;
}

export interface TargetFlags {
  env?: string;
  config?: string;
  var?: string[];
  url?: string;
  to?: string[];
  devUrl?: string;
  connectTimeout?: string;
  lockTimeout?: string;
  statementTimeout?: string;
  online?: boolean;
}

export async function resolveTarget(flags: TargetFlags, project: Project, cwd = process.cwd()): Promise<TargetSpec> {
  const connectTimeoutMs = flags.connectTimeout ? seconds(flags.connectTimeout) : undefined;
  const lockTimeoutMs = duration('--lock-timeout', flags.lockTimeout);
  const statementTimeoutMs = duration('--statement-timeout', flags.statementTimeout);
  const schemaOverride = flags.to?.map((to) => schemaPath(to, cwd));
  const adHoc: TargetSpec = {
    url: flags.url,
    devUrl: flags.devUrl,
    schemaFiles: schemaOverride ?? [defaultSchema(cwd, project)],
    schemas: [],
    policy: NO_SKIPS,
    connectTimeoutMs,
    lockTimeoutMs,
    statementTimeoutMs,
    online: flags.online === true,
  };
  // --url without --env is ad-hoc use: atlas.hcl is not read at all
  if (flags.url && !flags.env) return adHoc;
  const { loadEnvironment, parseVarFlags } = await import('../config/environment.js');
  // --config, else ./atlas.hcl, else the project's
  const configPath = flags.config ? path.resolve(cwd, flags.config) : [path.resolve(cwd, 'atlas.hcl'), project.config].find((file) => fs.existsSync(file));
  if (!configPath || !fs.existsSync(configPath)) {
    if (flags.config) throw new SqlfirstError(`The config file ${flags.config} does not exist; check the --config path.`, { step: 'config' });
    if (flags.env) throw new SqlfirstError(`--env ${flags.env} needs an atlas.hcl, and none was found; pass --config PATH.`, { step: 'config' });
    return adHoc;
  }
  const environment = await loadEnvironment({
    configPath,
    envName: flags.env ?? 'local',
    vars: parseVarFlags(flags.var ?? []),
    ignoreSrc: schemaOverride !== undefined,
    cacheDir: path.join(project.root, '.sqlfirst', 'cache'),
  });
  return {
    envName: environment.name,
    configPath: path.relative(cwd, environment.configPath) || environment.configPath,
    url: flags.url ?? environment.url,
    devUrl: flags.devUrl ?? environment.devUrl,
    schemaFiles: schemaOverride ?? environment.schemaFiles,
    schemas: environment.schemas,
    policy: environment.policy,
    lockTimeoutMs: lockTimeoutMs ?? environment.lockTimeoutMs,
    statementTimeoutMs: statementTimeoutMs ?? environment.statementTimeoutMs,
    connectTimeoutMs,
    online: flags.online === true || environment.online,
    hazardThresholdRows: environment.hazardThresholdRows,
  };
}

/** --to accepts file://path (as Atlas does) or a plain path. */
function schemaPath(to: string, cwd: string): string {
  if (to.startsWith('file://')) {
    const rest = to.slice('file://'.length);
    return /^\/[A-Za-z]:|^\/\//.test(rest) ? fileURLToPath(to) : path.resolve(cwd, rest);
  }
  if (/^[a-z]+:\/\//i.test(to)) {
    throw new SqlfirstError(`--to ${maskUrl(to)} is not a file; sqlfirst reads the desired schema from SQL files (file://schema.sql).`, { step: 'config' });
  }
  return path.resolve(cwd, to);
}

/**
 * ./schema.sql, else the project's schema file. A default is never taken from
 * outside the repository (a symlink pointing elsewhere): only an explicit --to may.
 */
function defaultSchema(cwd: string, project: Project): string {
  const local = path.resolve(cwd, 'schema.sql');
  const file = fs.existsSync(local) ? local : project.schema;
  const real = realPath(file);
  const relative = path.relative(realPath(project.root), real);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new SqlfirstError(`The default schema file ${path.relative(cwd, file) || file} leads outside the repository (to ${real}); pass it explicitly with --to if that is meant.`, { step: 'read schema' });
  }
  return file;
}

function realPath(file: string): string {
  try {
    return fs.realpathSync.native(file);
  } catch {
    return path.resolve(file);
  }
}

/** "500ms", "5s", "2m", as in atlas.hcl */
function duration(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new SqlfirstError(`${flag} ${text} is not a duration; write it as 500ms, 5s or 2m.`);
  return ms;
}

function seconds(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new SqlfirstError(`--connect-timeout ${text} is not a number of seconds; pass e.g. --connect-timeout 10.`);
  return value * 1000;
}
