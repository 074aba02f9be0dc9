/** Turns command-line choices (an atlas.hcl environment or ad-hoc flags) into one TargetSpec. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqlfirstError } from '../errors.js';
import { maskUrl } from '../target/url.js';
import { parseDuration } from '../config/duration.js';
import { NO_SKIPS } from '../policy/index.js';
import { type TargetSpec } from './session.js';
import { repositoryRoot } from '../config/repository.js';

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
}

export const DEFAULT_SCHEMA = path.join('packages', 'database', 'schema.sql');

export async function resolveSpec(flags: TargetFlags, cwd = process.cwd()): Promise<TargetSpec> {
  const connectTimeoutMs = flags.connectTimeout ? seconds(flags.connectTimeout) : undefined;
  const lockTimeoutMs = duration('--lock-timeout', flags.lockTimeout);
  const statementTimeoutMs = duration('--statement-timeout', flags.statementTimeout);
  const schemaOverride = flags.to?.map((to) => schemaPath(to, cwd));
  const adHoc: TargetSpec = {
    url: flags.url,
    devUrl: flags.devUrl,
    schemaFiles: schemaOverride ?? [defaultSchema(cwd)],
    schemas: [],
    policy: NO_SKIPS,
    connectTimeoutMs,
    lockTimeoutMs,
    statementTimeoutMs,
  };
  // --url without --env is ad-hoc use: atlas.hcl is not read at all
  if (flags.url && !flags.env) return adHoc;
  const { findConfigFile, loadEnvironment, parseVarFlags } = await import('../config/environment.js');
  const configPath = findConfigFile(cwd, flags.config);
  if (!configPath) {
    if (flags.config) throw new SqlfirstError(`The config file ${flags.config} does not exist; check the --config path.`, { step: 'config' });
    if (flags.env) throw new SqlfirstError(`--env ${flags.env} needs an atlas.hcl, and none was found; pass --config PATH.`, { step: 'config' });
    return adHoc;
  }
  const environment = await loadEnvironment({
    configPath,
    envName: flags.env ?? 'local',
    vars: parseVarFlags(flags.var ?? []),
    ignoreSrc: schemaOverride !== undefined,
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

function defaultSchema(cwd: string): string {
  const local = path.resolve(cwd, 'schema.sql');
  return fs.existsSync(local) ? local : path.join(repositoryRoot(cwd), DEFAULT_SCHEMA);
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
