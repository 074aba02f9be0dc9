/**
 * The schema engine: everything sqlfirst asks of @supabase/pg-delta goes
 * through this folder, so the engine can be swapped without touching the
 * pipeline. Callers see our own types, never pg-delta's.
 */
export { readState, schemasOf, type Queryable, type SchemaState } from './state.js';
export { planChanges, restorePlan, savePlan, withTableSizes, type Change, type LockClass, type MigrationPlan, type ObjectRef, type PlanOptions } from './plan.js';
export { ApplyFailure, applyPlan, invalidIndexes, progressText, NotConvergedError, SQLSTATE, StalePlanError, type ApplyOptions, type ApplyResult } from './apply.js';
export { loadState, LoadError, type LoadFailure, type LoadOptions, type SchemaStatement } from './load.js';
export { describeCatalog, readCatalogSupplement, type CatalogSupplement } from './catalog.js';
export { describeSize, hazardsOf, readTableSizes, type Hazard, type TableSize, type TableSizes, type TableWork } from './hazards.js';
export { readRenameDirectives, renameCandidates, resolveRenames, unappliedRenames, type Rename, type RenameDirective, type SchemaFile } from './renames.js';
