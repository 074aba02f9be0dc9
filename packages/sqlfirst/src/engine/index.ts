/**
 * The schema engine: everything sqlfirst asks of @supabase/pg-delta goes
 * through this module, so the engine can be swapped without touching the
 * pipeline. Callers see our own types, never pg-delta's.
 */
import type { Pool } from 'pg';
import {
  apply as pgDeltaApply,
  extract as pgDeltaExtract,
  loadSqlFiles,
  plan as pgDeltaPlan,
  ShadowLoadError,
  parsePlan,
  serializePlan,
  type Plan as PgDeltaPlan,
  type Policy,
  type FactBase,
} from '@supabase/pg-delta';

/** A database's schema as the engine sees it; opaque to everyone else. */
export interface SchemaState {
  readonly facts: unknown;
  readonly pgVersion: string;
  /** the server's roles: cluster-wide, so referenced but never managed */
  readonly roles: string[];
}

/** A schema object named by kind and qualified name, e.g. table public.orders. */
export interface ObjectRef {
  kind: string;
  name: string;
}

export interface Change {
  sql: string;
  verb: 'create' | 'alter' | 'drop';
  /** the statement destroys stored data (drop table/column, lossy type change, drop-and-recreate) */
  dataLoss: boolean;
  /** false for statements PostgreSQL cannot roll back with the rest (ALTER TYPE ... ADD VALUE) */
  transactional: boolean;
  /** objects this statement removes from the database */
  drops: ObjectRef[];
}

/** An ordered list of changes from a current to a desired state. */
export interface MigrationPlan {
  changes: Change[];
  /** identifies the current state the plan was made against */
  sourceFingerprint: string;
  /** identifies the desired state */
  targetFingerprint: string;
  readonly engine: PgDeltaPlan;
}

export interface SqlSource {
  /** shown in errors, e.g. packages/database/schema.sql */
  name: string;
  sql: string;
}

export interface LoadFailure {
  file: string;
  message: string;
}

/** Reads the current schema of a database. */
export async function readState(pool: Pool): Promise<SchemaState> {
  const result = await pgDeltaExtract(pool);
  return { facts: result.factBase, pgVersion: result.pgVersion, roles: await readRoles(pool) };
}

async function readRoles(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' ORDER BY 1");
  return rows.map((r) => r.rolname);
}

/**
 * Loads schema files into an empty shadow database and reads the result.
 * A file that does not load throws LoadError with the engine's diagnostics.
 */
export async function loadState(sources: SqlSource[], shadow: Pool): Promise<SchemaState> {
  try {
    const result = await loadSqlFiles(sources, shadow, { strictDataStatements: true, strictFunctionBodies: true });
    return { facts: result.factBase, pgVersion: result.pgVersion, roles: await readRoles(shadow) };
  } catch (error) {
    if (error instanceof ShadowLoadError) {
      throw new LoadError(
        error.details.filter((d) => d.severity === 'error').map((d) => splitFileMessage(d.message)),
        error,
      );
    }
    throw error;
  }
}

/** pg-delta's diagnostics read "file.sql: message". */
function splitFileMessage(message: string): LoadFailure {
  const match = /^([^:\s][^:]*\.sql): (.*)$/s.exec(message);
  return match ? { file: match[1], message: match[2] } : { file: '', message };
}

export class LoadError extends Error {
  constructor(readonly failures: LoadFailure[], cause: unknown) {
    super(failures.map((f) => f.message).join('; ') || 'the schema did not load', { cause });
  }
}

/**
 * What sqlfirst never manages: roles (cluster-wide, so not schema.sql's to
 * create or drop; without them ownership is left as it is) and the grants on
 * the `public` schema, which depend on how and by whom the database was
 * created. With `schemas`, everything outside those schemas is left alone too.
 * A glob character in the role name would widen the match; role names rarely have one.
 */
function scopePolicy(roles: string[], schemas: string[], applyingRole: string | undefined): Policy {
  const filter: NonNullable<Policy['filter']> = [
    { match: { kind: ['role', 'membership'] }, action: 'exclude' },
    { match: { all: [{ kind: 'acl' }, { target: { kind: 'schema', name: 'public' } }] }, action: 'exclude' },
  ];
  if (applyingRole) {
    // the applying role owns what it creates: its own privileges are implicit
    filter.push({ match: { all: [{ kind: 'acl' }, { idField: { field: 'grantee', glob: applyingRole } }] }, action: 'exclude' });
  }
  if (schemas.length > 0) {
    const inScope = { any: [{ schema: schemas }, { target: { schema: schemas } }, { all: [{ kind: 'schema' }, { name: schemas }] }, { target: { kind: 'schema', name: schemas } }] };
    filter.push({ match: { not: inScope }, action: 'exclude' });
  }
  return { id: 'sqlfirst', filter, assumedRoles: roles };
}

export interface PlanOptions {
  /** manage only these schemas (atlas.hcl `schemas`); empty = the whole database */
  schemas?: string[];
  /** the role that applies the plan */
  applyingRole?: string;
}

/** The ordered changes that turn `current` into `desired`. */
export function planChanges(current: SchemaState, desired: SchemaState, options: PlanOptions = {}): MigrationPlan {
  const engine = pgDeltaPlan(current.facts as never, desired.facts as never, {
    policy: scopePolicy(current.roles, options.schemas ?? [], options.applyingRole),
    scope: 'database',
  });
  return fromEngine(engine);
}

function fromEngine(engine: PgDeltaPlan): MigrationPlan {
  const typeChanges = columnTypeChanges(engine);
  return {
    changes: engine.actions.map((action) => ({
      sql: action.sql,
      verb: action.verb,
      dataLoss: action.dataLoss === 'destructive' || isLossyTypeChange(action, typeChanges),
      transactional: action.transactionality === 'transactional',
      drops: action.verb === 'drop' ? action.destroys.flatMap(objectRef) : [],
    })),
    sourceFingerprint: engine.source.fingerprint,
    targetFingerprint: engine.target.fingerprint,
    engine,
  };
}

/** "schema.table.column" → the column's type before and after, from the plan's deltas. */
function columnTypeChanges(engine: PgDeltaPlan): Map<string, { from: string; to: string }> {
  const changes = new Map<string, { from: string; to: string }>();
  for (const delta of engine.deltas) {
    if (delta.verb === 'set' && delta.attr === 'type' && delta.id.kind === 'column') {
      changes.set(columnKey(delta.id), { from: String(delta.from), to: String(delta.to) });
    }
  }
  return changes;
}

function columnKey(id: unknown): string {
  const { schema, table, name } = id as { schema: string; table: string; name: string };
  return `${schema}.${table}.${name}`;
}

/**
 * pg-delta flags a type change only as a rewrite risk, yet varchar(100) →
 * varchar(20) truncates and numeric(20,8) → numeric(10,2) rounds. A type
 * change counts as data loss unless it is a known widening.
 */
function isLossyTypeChange(action: PgDeltaPlan['actions'][number], typeChanges: Map<string, { from: string; to: string }>): boolean {
  if (!/ ALTER COLUMN .* TYPE /s.test(action.sql)) return false;
  const change = action.consumes.filter((id) => id.kind === 'column').map((id) => typeChanges.get(columnKey(id))).find(Boolean);
  return change ? !isWidening(change.from, change.to) : true;
}

const INTEGER_RANK: Record<string, number> = { smallint: 1, integer: 2, bigint: 3 };
/** decimal digits each integer type can hold, to fit into numeric(p,s) */
const INTEGER_DIGITS: Record<string, number> = { smallint: 5, integer: 10, bigint: 19 };
const LENGTHED = /^(character varying|character|bit varying)\((\d+)\)$/;
const NUMERIC = /^numeric\((\d+),(\d+)\)$/;

export function isWidening(from: string, to: string): boolean {
  if (from === to || to === 'text') return true;
  if (from in INTEGER_RANK) {
    if (to in INTEGER_RANK) return INTEGER_RANK[to] >= INTEGER_RANK[from];
    if (to === 'numeric') return true;
    const numeric = NUMERIC.exec(to);
    return Boolean(numeric && Number(numeric[1]) - Number(numeric[2]) >= INTEGER_DIGITS[from]);
  }
  if (from === 'real') return to === 'double precision' || to === 'numeric';
  if (from === 'timestamp without time zone') return to === 'timestamp with time zone';
  const fromLength = LENGTHED.exec(from);
  if (fromLength) {
    if (to === 'character varying') return fromLength[1] !== 'bit varying';
    const toLength = LENGTHED.exec(to);
    return Boolean(toLength && toLength[1] === fromLength[1] && Number(toLength[2]) >= Number(fromLength[2]));
  }
  const fromNumeric = NUMERIC.exec(from);
  if (fromNumeric) {
    if (to === 'numeric') return true;
    const toNumeric = NUMERIC.exec(to);
    if (!toNumeric) return false;
    const [p, s] = [Number(fromNumeric[1]), Number(fromNumeric[2])];
    const [p2, s2] = [Number(toNumeric[1]), Number(toNumeric[2])];
    return s2 >= s && p2 - s2 >= p - s;
  }
  return false;
}

const NAMED_KINDS = new Set(['schema', 'table', 'view', 'materializedView', 'sequence', 'index', 'type', 'domain', 'function', 'procedure', 'column', 'constraint', 'trigger']);

function objectRef(id: unknown): ObjectRef[] {
  const parts = id as { kind: string; schema?: string; table?: string; name?: string };
  if (!NAMED_KINDS.has(parts.kind) || !parts.name) return [];
  return [{ kind: parts.kind, name: [parts.schema, parts.table, parts.name].filter(Boolean).join('.') }];
}

/**
 * Indexes PostgreSQL marks invalid (unusable), e.g. one created ON ONLY a
 * partitioned table: the catalog holds the index, so a plan sees no
 * difference, but the database does not match the schema.
 */
export async function invalidIndexes(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

/** The schemas a state contains, e.g. the ones schema.sql creates or uses. */
export function schemasOf(state: SchemaState): string[] {
  const facts = (state.facts as FactBase).facts();
  return [...new Set(facts.filter((f) => f.id.kind === 'schema').map((f) => (f.id as { name: string }).name))].sort();
}

/** The same plan without the changes at the given positions (skipped by policy). */
export function withoutChanges(plan: MigrationPlan, skip: ReadonlySet<number>): MigrationPlan {
  if (skip.size === 0) return plan;
  const engine: PgDeltaPlan = { ...plan.engine, actions: plan.engine.actions.filter((_, i) => !skip.has(i)) };
  return { ...fromEngine(engine), changes: plan.changes.filter((_, i) => !skip.has(i)) };
}

/** The plan as text, to be reviewed and applied later exactly as it is. */
export function savePlan(plan: MigrationPlan): string {
  return serializePlan(plan.engine);
}

/** A plan saved by `savePlan`; throws when the text is not one. */
export function restorePlan(text: string): MigrationPlan {
  return fromEngine(parsePlan(text));
}

export interface ApplyOptions {
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** called before each statement runs */
  onStatement?: (index: number, sql: string) => void;
}

export interface ApplyResult {
  applied: number;
}

/**
 * Applies a plan. The engine re-reads the target first and refuses a plan made
 * against another state; transactional runs of statements commit together.
 */
export async function applyPlan(plan: MigrationPlan, pool: Pool, options: ApplyOptions = {}): Promise<ApplyResult> {
  const report = await pgDeltaApply(plan.engine, pool, {
    lockTimeoutMs: options.lockTimeoutMs,
    statementTimeoutMs: options.statementTimeoutMs,
    onEvent: (event) => {
      if (event.kind === 'actionStart') options.onStatement?.(event.actionIndex, event.sql);
    },
  });
  if (report.status === 'applied') return { applied: report.appliedActions };
  const error = report.error;
  const committed = report.actionStatuses.filter((s) => s === 'applied').length;
  throw new ApplyFailure(error?.message ?? 'unknown error', error?.sql ?? '', error?.actionIndex ?? -1, committed, report.actionStatuses.includes('inDoubt'));
}

export class ApplyFailure extends Error {
  constructor(
    readonly reason: string,
    readonly sql: string,
    readonly index: number,
    /** statements committed before the failure (non-transactional steps) */
    readonly committed: number,
    readonly inDoubt: boolean,
  ) {
    super(reason);
  }
}

/** Whether an engine error means the target changed between plan and apply. */
export function isStalePlanError(error: unknown): boolean {
  return error instanceof Error && /fingerprint/i.test(error.message);
}

