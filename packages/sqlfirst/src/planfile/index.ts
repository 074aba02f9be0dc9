/**
 * Reviewed plans. `plan --out FILE` saves the statements a reviewer reads,
 * with what they were made for (environment, database, schema files).
 * `apply --plan FILE` trusts none of it: it plans afresh from the schema files
 * against the target and applies only if the fresh plan is the same
 * statements, in the same order, with the same objects kept by policy. Data
 * loss, policy and transactionality always come from the fresh plan. A
 * checksum over every field makes any edit of the file a refusal.
 */
import fs from 'node:fs/promises';
import { SqlfirstError } from '../errors.js';
import { schemaFilesHash, sha256 } from '../hash.js';
import type { MigrationPlan } from '../engine/index.js';
import type { SkippedChange } from '../policy/index.js';
import { maskUrl, type ConnectionTarget } from '../target/url.js';
import type { TargetSpec } from '../workflow/request.js';

const FORMAT = 'sqlfirst-plan-3';

export interface PlanFile {
  format: typeof FORMAT;
  environment: string | null;
  /** masked: a plan file never holds a password */
  target: string;
  database: { host: string; port: number; name: string };
  /** sha256 of the schema files' repository-relative paths and bytes */
  schemaHash: string;
  statements: string[];
  /** what the statements do to existing tables, as the reviewer read it (accept with --allow-hazard on apply) */
  hazards: string[];
  /** objects the policy kept, e.g. "table public.audit_log (drop_table)" */
  kept: string[];
  /** sha256 over every other field */
  checksum: string;
}

export async function writePlanFile(file: string, spec: TargetSpec, root: string, target: ConnectionTarget, plan: MigrationPlan, skipped: SkippedChange[]): Promise<void> {
  const body: Omit<PlanFile, 'checksum'> = {
    format: FORMAT,
    environment: spec.envName ?? null,
    target: maskUrl(target.url),
    database: { host: target.host, port: target.port, name: target.database },
    schemaHash: await requiredHash(spec, root),
    statements: plan.changes.map((c) => c.sql),
    hazards: plan.changes.flatMap((c, i) => c.hazards.map((h) => `statement ${i + 1}: ${h.text} [${h.kind}]`)),
    kept: keptList(skipped),
  };
  await fs.writeFile(file, `${JSON.stringify({ ...body, checksum: checksumOf(body) }, null, 2)}\n`);
}

/** The saved plan, once it is shown to be an unedited plan for this environment, database and schema. */
export async function readPlanFile(file: string, spec: TargetSpec, root: string, target: ConnectionTarget): Promise<PlanFile> {
  let content: PlanFile;
  try {
    content = JSON.parse(await fs.readFile(file, 'utf8')) as PlanFile;
  } catch (error) {
    throw new SqlfirstError(`The plan file ${file} could not be read as a sqlfirst plan; make one with sqlfirst plan --out ${file}.`, { cause: error, step: 'plan file' });
  }
  const refuse = (why: string) => new SqlfirstError(`The plan in ${file} ${why}; nothing was applied, make a new plan with sqlfirst plan --out.`, { step: 'plan file' });
  if (typeof content !== 'object' || content === null || content.format !== FORMAT) throw refuse('is not a sqlfirst plan of this version');
  const { checksum, ...body } = content;
  if (checksum !== checksumOf(body)) throw refuse('was edited after it was made (its checksum does not match)');
  if ((content.environment ?? null) !== (spec.envName ?? null)) {
    throw refuse(`was made for ${content.environment ? `environment "${content.environment}"` : 'an ad-hoc --url'}, not ${spec.envName ? `"${spec.envName}"` : 'this --url'}`);
  }
  const db = content.database;
  if (db.host !== target.host || db.port !== target.port || db.name !== target.database) throw refuse(`was made for ${content.target}, not ${maskUrl(target.url)}`);
  if (content.schemaHash !== (await requiredHash(spec, root))) throw refuse('was made from other schema files (schema.sql changed since)');
  return content;
}

/**
 * Compares the reviewed statements with the fresh plan. Returns what to say
 * when they agree; refuses when they do not. A target that already holds the
 * reviewed plan's result (the fresh plan is empty) is "already applied".
 */
export function proveAgainst(reviewed: PlanFile, fresh: MigrationPlan, skipped: SkippedChange[], file: string): string {
  const statements = fresh.changes.map((c) => c.sql);
  if (statements.length === 0 && reviewed.statements.length > 0) return 'already applied: the target matches the schema';
  const same = statements.length === reviewed.statements.length && statements.every((sql, i) => sql === reviewed.statements[i]) && keptList(skipped).join('\n') === reviewed.kept.join('\n');
  if (!same) {
    throw new SqlfirstError(
      `The plan in ${file} is not what the schema files and the target give now (the target changed since the plan was made, or the file's statements were edited); nothing was applied, make a new plan with sqlfirst plan --out and review it.`,
      { step: 'plan file' },
    );
  }
  return `${reviewed.statements.length} statement(s), as reviewed`;
}

function keptList(skipped: SkippedChange[]): string[] {
  return skipped.map((s) => `${s.object.kind} ${s.object.name} (${s.rule})`);
}

function checksumOf(body: Omit<PlanFile, 'checksum'>): string {
  return sha256(JSON.stringify(body));
}

async function requiredHash(spec: TargetSpec, root: string): Promise<string> {
  const hash = await schemaFilesHash(spec.schemaFiles, root);
  if (!hash) throw new SqlfirstError('The schema files could not be read to check the plan against them; check the paths in --to or atlas.hcl.', { step: 'plan file' });
  return hash;
}
