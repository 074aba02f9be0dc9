/** The sqlfirst library: run a command in-process, and the types that connect the stages. */
export { runCommand, type CommandName } from './workflow/index.js';
export { resolveTarget, type RunRequest, type TargetFlags, type TargetSpec } from './workflow/request.js';
export { readProject, type Project } from './config/project.js';
export { Reporter, type Outcome } from './report/index.js';
export { SqlfirstError } from './errors.js';
export { maskUrl } from './target/url.js';
export { startEmbeddedServer, type EmbeddedServer } from './embedded/server.js';
export { NO_SKIPS, type DiffPolicy } from './policy/index.js';
export { findMigrationArtifacts, type MigrationArtifact } from './workflow/check.js';
export { typeCheckWorkspace, groupBreaks, OTHER_CHANGES, type TypeBreak, type TypeCheckResult, type TypeCheckOptions, type ChangeRef, type BreakGroup } from './typecheck/index.js';
