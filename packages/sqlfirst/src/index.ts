/** The sqlfirst library: the workflows and the types that connect them. */
export { runPlan, runApply, applyToOpenTarget, type PlanRequest, type ApplyRequest } from './workflow/migrate.js';
export { runSync, runTypes, type SyncRequest } from './workflow/sync.js';
export { generateTypes, TYPES_DIR } from './workflow/types.js';
export { resolveSpec, type TargetFlags } from './workflow/spec.js';
export type { TargetSpec } from './workflow/session.js';
export { Reporter } from './report/index.js';
export { SqlfirstError } from './errors.js';
export { maskUrl } from './target/url.js';
export { startEmbeddedServer, type EmbeddedServer } from './embedded/server.js';
export { NO_SKIPS, type DiffPolicy } from './policy/index.js';
export { runCheck, findMigrationArtifacts, type CheckRequest, type MigrationArtifact } from './workflow/check.js';
export { typeCheckWorkspace, groupBreaks, OTHER_CHANGES, type TypeBreak, type TypeCheckResult, type TypeCheckOptions, type ChangeRef, type BreakGroup } from './typecheck/index.js';
