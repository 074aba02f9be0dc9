/**
 * `sqlfirst dev`: the local loop on every save. It connects once (the
 * embedded server stays up), syncs, then watches the schema files and
 * atlas.hcl; each save runs the sync steps again and prints one compact
 * block. A save during a run is queued, never interleaved. Ctrl-C stops it
 * cleanly: no server, shadow or session is left.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { Reporter, type Outcome } from '../report/index.js';
import { ShadowSupply } from '../shadow/index.js';
import { WarmCompilers } from '../typecheck/warm.js';
import { plural } from '../text.js';
import { applySteps } from './apply.js';
import { resolveTarget, type TargetFlags } from './request.js';
import { needed, runSteps, step, type RunContext } from './run.js';
import { connect, readSchema, writeTypes } from './steps.js';

/** saves closer together than this are one save (editors write a file in several steps) */
const SETTLE_MS = 40;

export async function runDev(run: RunContext, flags: TargetFlags, signal: AbortSignal): Promise<Outcome> {
  return runSteps(run, [refuseShared, connect, watch(flags, signal)]);
}

const refuseShared = step('local only', async (run) => {
  if (run.request.envName === 'local' || (run.request.envName === undefined && !run.request.url)) return;
  throw new SqlfirstError(`sqlfirst dev works on the local environment only, and this run targets ${run.request.envName ? `"${run.request.envName}"` : 'an ad-hoc --url'}; use sqlfirst plan and apply for shared databases.`, { step: 'local only' });
});

function watch(flags: TargetFlags, signal: AbortSignal) {
  return step('watch', async (run) => {
    const block = new SaveBlocks(run);
    await block.sync('start');
    const watched = [...run.request.schemaFiles, ...(run.request.configPath ? [path.resolve(run.request.configPath)] : [])];
    let queued = false;
    let running: Promise<void> | undefined;
    const onSave = (file: string) => {
      if (running) {
        queued = true;
        return;
      }
      running = (async () => {
        do {
          queued = false;
          if (file === watched.at(-1) && run.request.configPath) await reread(run, flags);
          await block.sync(path.relative(process.cwd(), file) || file);
        } while (queued && !signal.aborted);
      })().finally(() => (running = undefined));
    };
    const stop = watchFiles(watched, onSave);
    run.reporter.line(`Watching ${watched.map((file) => path.relative(process.cwd(), file) || file).join(' and ')} … (Ctrl-C to stop)`);
    // Ctrl-C may have come during the first sync, before anything listened
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    stop();
    await running;
    run.outcome = { exitCode: 0, tone: 'success', message: 'Stopped watching; nothing is left running.' };
    return { detail: `${plural(block.count, 'sync')}` };
  });
}

/** atlas.hcl changed: the schema files, policy and timeouts come from it again (the target stays). */
async function reread(run: RunContext, flags: TargetFlags): Promise<void> {
  const spec = await resolveTarget(flags, run.project);
  Object.assign(run.request, { schemaFiles: spec.schemaFiles, schemas: spec.schemas, policy: spec.policy, lockTimeoutMs: spec.lockTimeoutMs, statementTimeoutMs: spec.statementTimeoutMs });
}

/**
 * One sync per save, on the warm target, each printed as a compact block as
 * soon as its outcome is known (what the run holds is released after). The
 * next save's shadow database is made while the loop waits, and the type
 * checker keeps its program between saves.
 */
class SaveBlocks {
  count = 0;
  private readonly shadows = new ShadowSupply();
  private readonly compilers = new WarmCompilers();
  constructor(private readonly parent: RunContext) {
    parent.releases.push(() => this.shadows.close(), () => this.compilers.close());
  }

  async sync(what: string): Promise<void> {
    this.count++;
    const started = Date.now();
    const parent = this.parent;
    const reporter = new Reporter({ compact: true, verbose: parent.reporter.verbose });
    const save: RunContext = { ...parent, command: 'dev', reporter, skipped: [], renames: [], releases: [], outcome: undefined, target: needed(parent.target, 'the target'), shadows: this.shadows, compilers: this.compilers };
    const heading = `${new Date().toTimeString().slice(0, 8)} ${what}`;
    const done = step('done', async (run) => {
      run.outcome = outcomeOf(run);
      parent.reporter.block(heading, run.outcome, Date.now() - started);
    });
    try {
      await runSteps(save, [readSchema, ...applySteps(save), writeTypes, done]);
    } catch (error) {
      parent.reporter.blockFailure(heading, error, Date.now() - started);
    }
    this.shadows.refill();
  }
}

function outcomeOf(run: RunContext): Outcome {
  const plan = needed(run.plan, 'the plan');
  const breaks = run.breaks?.caused.reduce((n, g) => n + g.breaks.length, 0) ?? 0;
  const written = run.typesWritten ?? [];
  const parts = [
    plan.changes.length ? `applied ${plural(plan.changes.length, 'statement')}` : 'no change to apply',
    written.length ? `types updated (${written.join(', ')})` : 'types unchanged',
    breaks ? `${plural(breaks, 'break')}` : 'no breaks',
  ];
  return { exitCode: 0, tone: breaks ? 'warning' : 'success', message: parts.join(' · '), plan, skipped: run.skipped, breaks: run.breaks, applied: run.applied, typesWritten: written };
}

/** Watches each file's folder (editors often replace a file rather than write it); calls back once a save settles. */
function watchFiles(files: string[], onSave: (file: string) => void): () => void {
  const timers = new Map<string, NodeJS.Timeout>();
  const watchers = [...new Set(files.map((file) => path.dirname(file)))].map((dir) =>
    fs.watch(dir, (_event, name) => {
      const file = files.find((f) => path.dirname(f) === dir && path.basename(f) === String(name));
      if (!file) return;
      clearTimeout(timers.get(file));
      timers.set(file, setTimeout(() => onSave(file), SETTLE_MS));
    }),
  );
  return () => {
    for (const watcher of watchers) watcher.close();
    for (const timer of timers.values()) clearTimeout(timer);
  };
}
