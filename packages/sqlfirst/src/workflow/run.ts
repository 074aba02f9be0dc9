/**
 * How every command runs: an ordered list of named steps over one typed run
 * context. A step reads what earlier steps put in the context and adds its
 * own result; nothing flows back up. The runner shows each step while it runs,
 * releases what steps acquired (newest first) however the run ends, and
 * returns the outcome the last step set.
 */
import type { Project } from '../config/project.js';
import type { MigrationPlan, Rename, SchemaState } from '../engine/index.js';
import { onInterrupt } from '../interrupt.js';
import type { SkippedChange } from '../policy/index.js';
import type { Outcome, Reporter } from '../report/index.js';
import type { SchemaFile, ShadowSupply } from '../shadow/index.js';
import type { BreakGroup, PreparedWorkspace, TypeCheckResult } from '../typecheck/index.js';
import type { GeneratedTypes } from '../typegen/index.js';
import type { WarmCompilers } from '../typecheck/warm.js';
import type { OpenTarget } from '../target/open.js';
import type { RunRequest } from './request.js';

/** Everything a run knows, filled in step by step. */
export interface RunContext {
  readonly command: 'plan' | 'apply' | 'sync' | 'types' | 'dev' | 'check';
  readonly request: RunRequest;
  readonly project: Project;
  readonly reporter: Reporter;
  /** the schema files, read before anything connects */
  files?: SchemaFile[];
  target?: OpenTarget;
  /** empty shadows made ahead of need (the dev loop); without it each load makes its own */
  shadows?: ShadowSupply;
  /** type checkers kept up between saves (the dev loop); without them each check starts its own */
  compilers?: WarmCompilers;
  /** the state schema.sql describes, read from the shadow */
  desired?: SchemaState;
  /** the role that loaded the shadow: its privileges there are an artefact of loading */
  loadedBy?: string;
  /** the Drizzle files of the desired state */
  types?: GeneratedTypes;
  /** the workspace's packages and tsconfigs, read ahead of the type check; its signal stops the compilers */
  typeCheckWorkspace?: { prepared: Promise<PreparedWorkspace | undefined>; signal: AbortSignal };
  /** the type check of the workspace against `types`, running while later steps work */
  typeCheck?: Promise<TypeCheckResult>;
  /** the target's state before the change */
  current?: SchemaState;
  /** the read of the target, started while the shadow loads */
  currentRead?: Promise<SchemaState>;
  plan?: MigrationPlan;
  /** changes the environment's policy leaves out */
  skipped: SkippedChange[];
  /** renames applied in place (directives in schema.sql, answers at the prompt) */
  renames: Rename[];
  breaks?: { caused: BreakGroup[]; preexisting: BreakGroup[] };
  /** statements applied */
  applied?: number;
  /** files of the types folder that changed */
  typesWritten?: string[];
  /** set by the step that ends the run */
  outcome?: Outcome;
  /** releases what steps acquired, run newest first when the run ends */
  readonly releases: (() => Promise<void>)[];
}

/** What a step tells the person watching; `done` ends the run (the step set the outcome). */
export interface StepResult {
  detail?: string;
  done?: boolean;
}

/** One named step of a command. */
export interface Step {
  readonly name: string;
  run(context: RunContext): Promise<StepResult | void>;
}

export function step(name: string, run: Step['run']): Step {
  return { name, run };
}

/** Runs the steps in order and returns the outcome; throws the first failure after releasing everything. */
export async function runSteps(context: RunContext, steps: readonly Step[]): Promise<Outcome> {
  // one release for both ways a run ends (a failing step, Ctrl-C), so neither returns while the other still releases
  let releasing: Promise<void> | undefined;
  const releaseAll = () =>
    (releasing ??= (async () => {
      while (context.releases.length) await context.releases.pop()!().catch(() => {});
    })());
  // Ctrl-C releases the same things (ends the apply's sessions, drops shadows, stops the server)
  const forget = onInterrupt(releaseAll);
  try {
    for (const current of steps) {
      const result = await context.reporter.step(current.name, () => current.run(context));
      if (result?.done) break;
    }
  } finally {
    forget();
    await releaseAll();
  }
  if (!context.outcome) throw new Error(`the ${context.command} steps ended without an outcome`);
  return context.outcome;
}

/** A value an earlier step must have set; a missing one is a bug in the step list. */
export function needed<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} is needed before this step`);
  return value;
}
