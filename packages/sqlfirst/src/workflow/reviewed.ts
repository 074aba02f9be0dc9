/**
 * Reviewed plans: `plan --out FILE` saves a plan with what it was made for
 * (environment, database, schema files); `apply --plan FILE` applies exactly
 * that plan, and refuses when any of these changed since. The engine itself
 * refuses when the target's state differs from the one the plan was made on.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { SqlfirstError } from '../errors.js';
import { restorePlan, savePlan, type MigrationPlan } from '../engine/index.js';
import type { SkippedChange } from '../policy/index.js';
import { readSchemaFiles } from '../shadow/index.js';
import { maskUrl, type ConnectionTarget } from '../target/url.js';
import type { TargetSpec } from './session.js';

const FORMAT = 'sqlfirst-plan-1';

interface PlanFile {
  format: typeof FORMAT;
  environment: string | null;
  /** masked: a plan file never holds a password */
  target: string;
  database: { host: string; port: number; name: string };
  schemaHash: string;
  statements: string[];
  skipped: string[];
  engine: string;
}

/** sha256 over the schema files' names and contents. */
export async function schemaHash(spec: TargetSpec): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await readSchemaFiles(spec.schemaFiles)) hash.update(file.name).update('\0').update(file.sql).update('\0');
  return hash.digest('hex');
}

export async function writePlanFile(path: string, spec: TargetSpec, target: ConnectionTarget, plan: MigrationPlan, skipped: SkippedChange[]): Promise<void> {
  const content: PlanFile = {
    format: FORMAT,
    environment: spec.envName ?? null,
    target: maskUrl(target.url),
    database: { host: target.host, port: target.port, name: target.database },
    schemaHash: await schemaHash(spec),
    statements: plan.changes.map((c) => c.sql),
    skipped: skipped.map((s) => s.change.sql),
    engine: savePlan(plan),
  };
  await fs.writeFile(path, `${JSON.stringify(content, null, 2)}\n`);
}

/** The saved plan, once it is proven to be for this environment, database and schema. */
export async function readPlanFile(path: string, spec: TargetSpec, target: ConnectionTarget): Promise<MigrationPlan> {
  let content: PlanFile;
  try {
    content = JSON.parse(await fs.readFile(path, 'utf8')) as PlanFile;
  } catch (error) {
    throw new SqlfirstError(`The plan file ${path} could not be read as a sqlfirst plan; make one with sqlfirst plan --out ${path}.`, { cause: error, step: 'plan file' });
  }
  const refuse = (why: string) => new SqlfirstError(`The plan in ${path} ${why}; nothing was applied, make a new plan with sqlfirst plan --out.`, { step: 'plan file' });
  if (content.format !== FORMAT || typeof content.engine !== 'string') throw refuse('is not a sqlfirst plan');
  if ((content.environment ?? null) !== (spec.envName ?? null)) {
    throw refuse(`was made for ${content.environment ? `environment "${content.environment}"` : 'an ad-hoc --url'}, not ${spec.envName ? `"${spec.envName}"` : 'this --url'}`);
  }
  const db = content.database;
  if (db.host !== target.host || db.port !== target.port || db.name !== target.database) {
    throw refuse(`was made for ${content.target}, not ${maskUrl(target.url)}`);
  }
  if (content.schemaHash !== (await schemaHash(spec))) throw refuse('was made from other schema files (schema.sql changed since)');
  try {
    return restorePlan(content.engine);
  } catch (error) {
    throw new SqlfirstError(`The plan in ${path} is damaged or from another engine version; make a new plan with sqlfirst plan --out.`, { cause: error, step: 'plan file' });
  }
}
