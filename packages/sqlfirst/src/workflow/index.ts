/**
 * Runs one command: builds its run context and runs its steps. Only the
 * command that runs is loaded. The CLI and the library both enter here.
 */
import { readProject, type Project } from '../config/project.js';
import type { Outcome, Reporter } from '../report/index.js';
import type { RunRequest } from './request.js';
import type { RunContext } from './run.js';

export type CommandName = 'plan' | 'apply' | 'sync' | 'types' | 'check';

export async function runCommand(command: CommandName, request: RunRequest, reporter: Reporter, project: Project = readProject()): Promise<Outcome> {
  const context: RunContext = { command, request, project, reporter, skipped: [], renames: [], releases: [] };
  switch (command) {
    case 'plan':
      return (await import('./plan.js')).runPlan(context);
    case 'apply':
      return (await import('./apply.js')).runApply(context);
    case 'sync':
      return (await import('./sync.js')).runSync(context);
    case 'types':
      return (await import('./types.js')).runTypes(context);
    case 'check':
      return (await import('./check.js')).runCheck(context, { drift: request.drift === true });
  }
}
