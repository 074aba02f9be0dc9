/**
 * Planning: the ordered changes from a current to a desired state, with the
 * facts pg-delta gives for each action (lock class, rewrite risk,
 * transactionality, the objects consumed, produced and destroyed) turned
 * into our own types. Objects the environment's policy keeps are excluded
 * from the diff as pg-delta policy filters, so the engine plans around them.
 */
import { encodeId, parsePlan, plan as pgDeltaPlan, serializePlan, type FactBase, type Plan as EnginePlan, type PlanOptions as EnginePlanOptions, type Policy, type StableId } from '@supabase/pg-delta';
import { dataLossByAction } from './data-loss.js';
import { hazardsOf, tableWork, type Hazard, type TableSizes, type TableWork } from './hazards.js';
import { onlinePlan } from './online.js';
import { renameInCurrent } from './renamed-source.js';
import type { Rename } from './renames.js';
import type { SchemaState } from './state.js';

/** A schema object, e.g. { kind: 'table', name: 'public.orders' } or { kind: 'column', name: 'public.orders.price' }. */
export interface ObjectRef {
  kind: string;
  name: string;
}

/** The lock a statement takes on existing tables (PostgreSQL's lock modes, from pg-delta). */
export type LockClass = 'none' | 'share' | 'shareRowExclusive' | 'shareUpdateExclusive' | 'accessExclusive';

export interface Change {
  sql: string;
  verb: 'create' | 'alter' | 'drop';
  /** the statement destroys stored data: why, in a few words; undefined when it does not */
  dataLoss?: string;
  /** false for statements that commit on their own (CREATE INDEX CONCURRENTLY; ALTER TYPE ... ADD VALUE, which must commit before its value is used) */
  transactional: boolean;
  lockClass: LockClass;
  /** the statement may rewrite the whole table */
  rewrites: boolean;
  /** existing objects the statement works on, objects it creates, objects it removes */
  consumes: ObjectRef[];
  produces: ObjectRef[];
  drops: ObjectRef[];
  /** the existing table the statement works on (schema-qualified), if any */
  table?: string;
  /** what it does to that table's rows while it holds its lock */
  work: TableWork;
  /** locks held for long on existing tables; without sizes until `withTableSizes` */
  hazards: Hazard[];
}

/** An ordered list of changes from a current to a desired state. */
export interface MigrationPlan {
  changes: Change[];
  /** the tables and schemas it removes, as the policy sees them */
  removed: ObjectRef[];
  /** identifies the current state the plan was made against */
  sourceFingerprint: string;
  /** identifies the desired state */
  targetFingerprint: string;
  readonly engine: EnginePlan;
  /** the confirmed renames (PlanOptions.renames) the plan applies, as Rename.text; unknown for a restored plan */
  readonly appliedRenames?: readonly string[];
}

export interface PlanOptions {
  /** manage only these schemas (atlas.hcl `schemas`); empty = the whole database */
  schemas?: string[];
  /** the role that applies the plan: its own privileges are implicit */
  applyingRole?: string;
  /** the role that loaded the desired state (the shadow's): its privileges there are an artefact of loading, not schema */
  loadingRole?: string;
  /** tables and schemas to leave exactly as they are, though the desired state lacks them (policy skips) */
  keep?: ObjectRef[];
  /** plan for a database serving traffic: indexes built and dropped concurrently, constraints validated without blocking writes */
  online?: boolean;
  /** renames to apply in place (directives, answers to the prompt); see renames.ts */
  renames?: readonly Rename[];
}

/**
 * The ordered changes that turn `current` into `desired`. Table, column and
 * enum value renames are made on the current facts first
 * (renamed-source.ts) and their statements lead the plan; the other renames
 * are pg-delta's.
 */
export function planChanges(current: SchemaState, desired: SchemaState, options: PlanOptions = {}): MigrationPlan {
  const currentFacts = current.facts as FactBase;
  const desiredFacts = desired.facts as FactBase;
  const { tables, columns, enumValues, others } = splitRenames(currentFacts, options.renames ?? []);
  const inPlace =
    tables.length + columns.length + enumValues.length > 0
      ? renameInCurrent(currentFacts, desiredFacts, tables.map(tableRename), enumValues.map(enumValueRename), columns.map(columnRename))
      : undefined;
  const source = inPlace?.source ?? currentFacts;
  const engineOptions: EnginePlanOptions = {
    policy: scopePolicy(current.roles, options),
    scope: 'database',
    // candidates are always reported; only the confirmed ones are applied
    renames: 'prompt',
    acceptRenames: others.map((rename) => ({ from: inPlace?.renamedId(rename.ids.from) ?? rename.ids.from, to: rename.ids.to })),
  };
  const plain = pgDeltaPlan(source, desiredFacts, engineOptions);
  const planned = options.online ? onlinePlan(plain, pgDeltaPlan(source, desiredFacts, { ...engineOptions, params: { concurrentIndexes: true } }), source) : plain;
  const accepted = new Set((planned.acceptedRenames ?? []).map((rename) => `${encodeId(rename.from)}>${encodeId(rename.to)}`));
  const appliedRenames = [
    ...[...tables, ...columns, ...enumValues].map((rename) => rename.text),
    ...others.filter((rename, i) => accepted.has(`${encodeId(engineOptions.acceptRenames![i]!.from)}>${encodeId(rename.ids.to)}`)).map((rename) => rename.text),
  ];
  if (!inPlace) return { ...fromEngine(planned), appliedRenames };
  const actions = [...inPlace.actions, ...planned.actions];
  const engine: EnginePlan = {
    ...planned,
    actions,
    acceptedRenames: [...[...tables, ...columns].map((rename) => ({ from: rename.ids.from, to: rename.ids.to })), ...(planned.acceptedRenames ?? [])],
    safetyReport: { ...planned.safetyReport, lockClasses: countLockClasses(actions) },
  };
  return { ...fromEngine(engine), appliedRenames };
}

/** Table, column and enum value renames still to do (their old name in the target, the new one not), and the rest for pg-delta. */
function splitRenames(current: FactBase, renames: readonly Rename[]): { tables: Rename[]; columns: Rename[]; enumValues: Rename[]; others: Rename[] } {
  const tables = renames.filter((rename) => rename.kind === 'table' && current.has(rename.ids.from) && !current.has(rename.ids.to));
  const columns = renames.filter((rename) => {
    const from = rename.ids.from as { schema: string; table: string };
    // the new name on the table as it is in the target
    return rename.kind === 'column' && current.has(rename.ids.from) && !current.has({ ...from, name: (rename.ids.to as { name: string }).name } as StableId);
  });
  const enumValues = renames.filter((rename) => {
    const values = rename.value && (current.get(rename.ids.from)?.payload.values as string[] | undefined);
    return values !== undefined && values.includes(rename.value!.from) && !values.includes(rename.value!.to);
  });
  const others = renames.filter((rename) => rename.kind !== 'table' && rename.kind !== 'enumValue' && !columns.includes(rename));
  return { tables, columns, enumValues, others };
}

function tableRename(rename: Rename) {
  const from = rename.ids.from as { schema: string; name: string };
  return { schema: from.schema, from: from.name, to: (rename.ids.to as { name: string }).name };
}

function columnRename(rename: Rename) {
  const from = rename.ids.from as { schema: string; table: string; name: string };
  return { schema: from.schema, table: from.table, from: from.name, to: (rename.ids.to as { name: string }).name };
}

function enumValueRename(rename: Rename) {
  const type = rename.ids.from as { schema: string; name: string };
  return { schema: type.schema, type: type.name, from: rename.value!.from, to: rename.value!.to };
}

function countLockClasses(actions: EnginePlan['actions']): EnginePlan['safetyReport']['lockClasses'] {
  const counts: EnginePlan['safetyReport']['lockClasses'] = {};
  for (const action of actions) counts[action.lockClass] = (counts[action.lockClass] ?? 0) + 1;
  return counts;
}

/** The plan with each change's hazards sized (from `readTableSizes`). */
export function withTableSizes(plan: MigrationPlan, sizes: TableSizes): MigrationPlan {
  return { ...plan, changes: plan.changes.map((change) => ({ ...change, hazards: hazardsOf(change, sizes) })) };
}

/**
 * What sqlfirst never manages: roles (cluster-wide) and the grants on the
 * `public` schema, which depend on how and by whom the database was created;
 * the applying role's own grants; with `schemas`, everything outside them;
 * and what the policy keeps. A glob character in a name would widen a match;
 * such names are rare.
 */
function scopePolicy(roles: string[], options: PlanOptions): Policy {
  const filter: NonNullable<Policy['filter']> = [
    { match: { kind: ['role', 'membership'] }, action: 'exclude' },
    { match: { all: [{ kind: 'acl' }, { target: { kind: 'schema', name: 'public' } }] }, action: 'exclude' },
  ];
  for (const role of new Set([options.applyingRole, options.loadingRole])) {
    if (role) filter.push({ match: { all: [{ kind: 'acl' }, { idField: { field: 'grantee', glob: role } }] }, action: 'exclude' });
  }
  const schemas = options.schemas ?? [];
  if (schemas.length > 0) filter.push({ match: { not: wholeSchemas(schemas) }, action: 'exclude' });
  const keptSchemas = (options.keep ?? []).filter((ref) => ref.kind === 'schema').map((ref) => ref.name);
  if (keptSchemas.length > 0) filter.push({ match: wholeSchemas(keptSchemas), action: 'exclude' });
  for (const table of (options.keep ?? []).filter((ref) => ref.kind === 'table')) {
    const [schema, name] = splitQualified(table.name);
    // excluding the table excludes what hangs off it (columns, indexes, grants)
    filter.push({ match: { all: [{ kind: 'table' }, { schema }, { name }] }, action: 'exclude' });
  }
  return { id: 'sqlfirst', filter, assumedRoles: roles };
}

/** Every object in these schemas, the schemas themselves, and what targets them (grants, comments). */
function wholeSchemas(schemas: string[]) {
  return { any: [{ schema: schemas }, { target: { schema: schemas } }, { all: [{ kind: 'schema' }, { name: schemas }] }, { target: { kind: 'schema', name: schemas } }] };
}

function splitQualified(name: string): [string, string] {
  const dot = name.indexOf('.');
  return [name.slice(0, dot), name.slice(dot + 1)];
}

function fromEngine(engine: EnginePlan): MigrationPlan {
  const losses = dataLossByAction(engine);
  const work = tableWork(engine);
  const noSizes: TableSizes = new Map();
  return {
    changes: engine.actions.map((action, index) => withHazards({
      sql: action.sql,
      verb: action.verb,
      dataLoss: losses[index]?.reason,
      transactional: action.transactionality === 'transactional',
      lockClass: action.lockClass,
      rewrites: action.rewriteRisk,
      consumes: action.consumes.flatMap(objectRef),
      produces: action.produces.flatMap(objectRef),
      drops: action.destroys.flatMap(objectRef),
      ...work[index],
    }, noSizes)),
    removed: removedObjects(engine),
    sourceFingerprint: engine.source.fingerprint,
    targetFingerprint: engine.target.fingerprint,
    engine,
  };
}

function withHazards(change: Omit<Change, 'hazards'>, sizes: TableSizes): Change {
  return { ...change, hazards: hazardsOf(change, sizes) };
}

const NAMED_KINDS = new Set(['schema', 'table', 'view', 'materializedView', 'sequence', 'index', 'type', 'domain', 'function', 'procedure', 'column', 'constraint', 'trigger']);

function objectRef(id: StableId): ObjectRef[] {
  const parts = id as { kind: string; schema?: string; table?: string; name?: string };
  if (!NAMED_KINDS.has(parts.kind) || !parts.name) return [];
  return [{ kind: parts.kind, name: [parts.schema, parts.table, parts.name].filter(Boolean).join('.') }];
}

/** The tables and schemas a plan removes, as the policy sees them. */
function removedObjects(engine: EnginePlan): ObjectRef[] {
  const removed: ObjectRef[] = [];
  for (const delta of engine.deltas) {
    if (delta.verb === 'remove' && (delta.fact.id.kind === 'table' || delta.fact.id.kind === 'schema')) removed.push(...objectRef(delta.fact.id));
  }
  return removed;
}

/** The plan as text, to be reviewed and applied later. */
export function savePlan(plan: MigrationPlan): string {
  return serializePlan(plan.engine);
}

/** A plan saved by `savePlan`; throws when the text is not one. */
export function restorePlan(text: string): MigrationPlan {
  return fromEngine(parsePlan(text));
}
