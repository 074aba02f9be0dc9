/**
 * The schema engine: everything sqlfirst asks of @supabase/pg-delta goes
 * through this folder, so the engine can be swapped without touching the
 * pipeline. Callers see our own types, never pg-delta's.
 */
export { readState, schemasOf, type Queryable, type SchemaState } from './state.js';
export { planChanges, removedObjects, restorePlan, savePlan, type Change, type LockClass, type MigrationPlan, type ObjectRef, type PlanOptions } from './plan.js';
export { ApplyFailure, applyPlan, invalidIndexes, NotConvergedError, SQLSTATE, StalePlanError, type ApplyOptions, type ApplyResult } from './apply.js';
export { loadState, LoadError, type LoadFailure, type LoadOptions, type SchemaStatement } from './load.js';
export { describeCatalog, readCatalogSupplement, type CatalogSupplement } from './catalog.js';
