/**
 * What every command shares: where the target is (a URL or the embedded
 * server), the connection check, and the plan from schema files to target.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { planChanges, readState, type MigrationPlan, type SchemaState } from '../engine/index.js';
import { applyPolicy, type DiffPolicy, type SkippedChange } from '../policy/index.js';
import type { Reporter } from '../report/index.js';
import { createShadow, loadSchema, readSchemaFiles } from '../shadow/index.js';
import { checkConnection, openPool, type ServerInfo } from '../target/connect.js';
import { repositoryRoot } from '../config/repository.js';
import { maskUrl, parseTarget, withDatabase, type ConnectionTarget } from '../target/url.js';

/** Everything a command needs to know about where and what to apply. */
export interface TargetSpec {
  /** "local", "sandbox", … or undefined for ad-hoc --url use */
  envName?: string;
  configPath?: string;
  /** undefined = the embedded database */
  url?: string;
  devUrl?: string;
  schemaFiles: string[];
  /** schemas the generated types cover; empty = those schema.sql uses */
  schemas: string[];
  policy: DiffPolicy;
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** the repository root (default: found from the working folder) */
  root?: string;
  /** where the generated Drizzle files live, relative to root (default packages/database/src/schema) */
  typesDir?: string;
}

export interface OpenTarget {
  target: ConnectionTarget;
  server: ServerInfo;
  embedded: boolean;
  close(): Promise<void>;
}

export const EMBEDDED_DATABASE = 'sqlfirst';

/** Connects to the target, starting the embedded server first when no URL is configured. */
export async function openTarget(spec: TargetSpec, reporter: Reporter): Promise<OpenTarget> {
  if (spec.url) {
    const target = parseTarget(spec.url);
    reporter.header('', { Target: maskUrl(target.url) });
    const server = await reporter.step('connect', () => checkConnection(target, { connectTimeoutMs: spec.connectTimeoutMs }), (s) => `PostgreSQL ${s.version}`);
    return { target, server, embedded: false, close: async () => {} };
  }
  const dataDir = path.join(repositoryRoot(), '.sqlfirst', 'postgres');
  reporter.line(`No database configured: using the embedded PostgreSQL in ${path.relative(process.cwd(), dataDir) || dataDir}.`);
  const { startEmbeddedServer } = await import('../embedded/server.js');
  const embedded = await reporter.step('start embedded', () => startEmbeddedServer(dataDir));
  const forget = onInterrupt(() => embedded.stop());
  const stop = async () => {
    forget();
    await embedded.stop();
  };
  try {
    const admin = openPool(parseTarget(embedded.url));
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
      if (!rowCount) await admin.query(`CREATE DATABASE "${EMBEDDED_DATABASE}"`);
    } finally {
      await admin.end();
    }
    const target = parseTarget(withDatabase(embedded.url, EMBEDDED_DATABASE));
    reporter.header('', { Target: maskUrl(target.url) });
    const server = await reporter.step('connect', () => checkConnection(target), (s) => `PostgreSQL ${s.version}`);
    return { target, server, embedded: true, close: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface PreparedPlan {
  /** what may run, after the environment's policy */
  plan: MigrationPlan;
  skipped: SkippedChange[];
  desired: SchemaState;
}

/** Work that needs a database holding exactly schema.sql (pulling the Drizzle types). */
export type WhileLoaded = (shadow: ConnectionTarget, desired: SchemaState) => Promise<void>;

/** Loads the schema into a shadow, reads the target and plans, with the policy applied. */
export async function preparePlan(spec: TargetSpec, open: OpenTarget, reporter: Reporter, whileLoaded?: WhileLoaded): Promise<PreparedPlan> {
  const desired = await loadDesired(spec, open, reporter, whileLoaded);
  return planAgainst(desired, open, spec, reporter, 'plan');
}

/**
 * Reads schema.sql into a fresh shadow database and returns its state. `use`
 * runs while the shadow still holds exactly schema.sql (to pull types from it);
 * the shadow is dropped afterwards whatever happens.
 */
export async function loadDesired(
  spec: TargetSpec,
  open: OpenTarget,
  reporter: Reporter,
  use?: WhileLoaded,
): Promise<SchemaState> {
  const files = await readSchemaFiles(spec.schemaFiles);
  const server = spec.devUrl ? await devServer(spec, open) : open.target;
  const shadow = await createShadow(server, spec.connectTimeoutMs);
  try {
    const desired = await reporter.step('load schema', () => loadSchema(files, shadow), () => files.map((f) => f.name).join(', '));
    await use?.(shadow.target, desired);
    return desired;
  } finally {
    await shadow.drop();
  }
}

/** --dev-url, checked to run the target's major version. */
async function devServer(spec: TargetSpec, open: OpenTarget): Promise<ConnectionTarget> {
  const server = parseTarget(spec.devUrl!, '--dev-url');
  const dev = await checkConnection(server, { connectTimeoutMs: spec.connectTimeoutMs });
  if (Math.floor(dev.versionNum / 10000) !== Math.floor(open.server.versionNum / 10000)) {
    throw new SqlfirstError(
      `The dev database ${maskUrl(server.url)} runs PostgreSQL ${dev.version} but the target runs ${open.server.version}; a shadow on another major version gives spurious differences, so use a dev server of the same major version.`,
      { step: 'load schema' },
    );
  }
  return server;
}

/** Reads the target and plans the changes to `desired`, applying the policy. */
export async function planAgainst(desired: SchemaState, open: OpenTarget, spec: TargetSpec, reporter: Reporter, step: string): Promise<PreparedPlan> {
  const pool = openPool(open.target);
  try {
    const current = await reporter.step('read target', () => readState(pool));
    const result = await reporter.step(
      step,
      async () => applyPolicy(planChanges(current, desired, { schemas: spec.schemas, applyingRole: open.target.user }), spec.policy),
      (r) => `${r.plan.changes.length} statement(s)${r.skipped.length ? `, ${r.skipped.length} skipped by policy` : ''}`,
    );
    return { ...result, desired };
  } finally {
    await pool.end();
  }
}
