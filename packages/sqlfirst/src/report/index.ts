/**
 * The report stage: everything a person (or, with --json, a machine) sees.
 * Steps show while they run (a spinner on a terminal, a line when a step takes
 * longer than a moment otherwise) and when they end; the command's typed
 * outcome is rendered once at the end. Every line passes through `redact`, so
 * no password reaches the output.
 */
import pc from 'picocolors';
import type { Change, MigrationPlan } from '../engine/index.js';
import type { SkippedChange } from '../policy/index.js';
import { isSqlfirstError } from '../errors.js';
import { redact } from '../target/secrets.js';
import type { BreakGroup } from '../typecheck/index.js';
import { firstLine } from '../text.js';

export interface ReporterOptions {
  json?: boolean;
  verbose?: boolean;
  /** no step or plan lines: the caller prints one block per run (sqlfirst dev) */
  compact?: boolean;
  /** defaults to process.stdout / process.stderr */
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  err?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface PlanSummary {
  create: number;
  alter: number;
  drop: number;
  dataLoss: number;
  nonTransactional: number;
  /** statements that lock an existing table in a way other sessions notice */
  hazardous: number;
  skipped: number;
}

export interface StepTiming {
  step: string;
  ms: number;
  detail?: string;
}

/** How a run ended: the one thing every command returns, rendered as the final line or the JSON document. */
export interface Outcome {
  exitCode: number;
  message: string;
  /** success: green ✔; warning: done, with something to act on; cancelled: a choice, not a failure; failed: the run worked and found problems (check) */
  tone: 'success' | 'warning' | 'cancelled' | 'failed';
  plan?: MigrationPlan;
  skipped?: SkippedChange[];
  breaks?: { caused: BreakGroup[]; preexisting: BreakGroup[] };
  applied?: number;
  typesWritten?: string[];
  /** the exact commands to run next */
  hints?: string[];
  /** what a check found wrong, one line each */
  problems?: string[];
}

/** a step running longer than this says so when there is no spinner */
const RUNNING_NOTICE_MS = 1000;
/** a step without a detail gets its own line only when it took at least this long */
const NOTABLE_STEP_MS = 50;

type Colors = ReturnType<typeof pc.createColors>;

export class Reporter {
  readonly json: boolean;
  readonly verbose: boolean;
  private readonly compact: boolean;
  private readonly out: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly err: NodeJS.WritableStream;
  private readonly c: Colors;
  private readonly started = Date.now();
  /** the steps that ended, in order, with their durations */
  readonly steps: StepTiming[] = [];
  private readonly header: Record<string, string> = {};
  private currentStep = '';

  constructor(options: ReporterOptions = {}) {
    this.json = options.json ?? false;
    this.verbose = options.verbose ?? false;
    this.compact = options.compact ?? false;
    this.out = options.out ?? process.stdout;
    this.err = options.err ?? process.stderr;
    this.c = pc.createColors(Boolean(this.out.isTTY) && !process.env.NO_COLOR && !this.json);
  }

  /** A line for people; suppressed in --json and compact mode. */
  line(text = ''): void {
    if (!this.json && !this.compact) this.out.write(`${redact(text)}\n`);
  }

  detail(text: string): void {
    if (this.verbose && !this.json) this.out.write(`${this.c.dim(redact(text))}\n`);
  }

  /** A warning; `always` shows it in compact mode too (it precedes a question). */
  warn(text: string, { always = false } = {}): void {
    if (!this.json && (!this.compact || always)) this.out.write(`${this.c.yellow('!')} ${redact(text)}\n`);
  }

  /** The run's title and what it works on (shown once, kept for --json). */
  title(title: string, fields: Record<string, string | undefined>): void {
    if (title) this.line(this.c.bold(title));
    this.fields(fields);
  }

  fields(fields: Record<string, string | undefined>): void {
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      this.header[key.toLowerCase()] = redact(value);
      this.line(`  ${this.c.dim(key.padEnd(12))}${value}`);
    }
  }

  /** Runs one pipeline step, showing it while it runs and its duration and outcome when it ends. */
  async step<T extends { detail?: string } | void>(name: string, run: () => Promise<T>): Promise<T> {
    const start = Date.now();
    this.currentStep = name;
    const stop = this.showRunning(name);
    let value: T;
    try {
      value = await run();
    } catch (error) {
      stop(false);
      throw error;
    }
    stop(true);
    const ms = Date.now() - start;
    const detail = (value as { detail?: string } | undefined)?.detail;
    this.steps.push({ step: name, ms, detail });
    // decisions that take no time and say nothing are not worth a line
    if (detail || ms >= NOTABLE_STEP_MS || this.verbose) this.line(`${this.c.green('✓')} ${name.padEnd(16)} ${this.c.dim(formatMs(ms))}${detail ? `  ${detail}` : ''}`);
    return value;
  }

  /** A spinner on a terminal; otherwise one line once the step has run for a moment. */
  private showRunning(name: string): (ok: boolean) => void {
    if (this.json || this.compact) return () => {};
    if (this.out.isTTY) {
      let spinner: { clear(): unknown; stop(): unknown } | undefined;
      let ended = false;
      void import('nanospinner').then(({ createSpinner }) => {
        if (!ended) spinner = createSpinner(`${name}…`, { stream: this.out as NodeJS.WriteStream }).start();
      });
      return () => {
        ended = true;
        spinner?.clear();
        spinner?.stop();
      };
    }
    const timer = setTimeout(() => this.line(`… ${name}`), RUNNING_NOTICE_MS);
    timer.unref();
    return () => clearTimeout(timer);
  }

  /** the step running when a failure happened */
  get failingStep(): string {
    return this.currentStep;
  }

  /** The plan: every statement with its marks (`full`), or a summary of what changes. */
  plan(plan: MigrationPlan, skipped: SkippedChange[], { full }: { full: boolean }): void {
    if (this.json) return;
    const summary = summarize(plan.changes, skipped);
    this.line();
    if (plan.changes.length === 0 && skipped.length === 0) {
      this.line(this.c.green('No changes: the database already matches the schema.'));
      return;
    }
    const shown = full || this.verbose ? plan.changes : plan.changes.filter((c) => c.dataLoss || !c.transactional);
    for (const change of shown) {
      const marks = [change.dataLoss && this.c.red(`-- DATA LOSS: ${change.dataLoss}`), !change.transactional && this.c.yellow('-- commits on its own')].filter(Boolean).join(' ');
      this.line(`${change.sql};${marks ? `  ${marks}` : ''}`);
      for (const hazard of change.hazards) this.line(this.c.yellow(`  ! ${hazard.text}`));
    }
    if (!full && !this.verbose) this.line(`${describeObjects(plan.changes)} (the statements: sqlfirst plan, or --verbose)`);
    for (const { object, rule } of skipped) {
      this.line(this.c.dim(`-- skipped by policy (${rule}): ${object.kind} ${object.name} is kept`));
    }
    this.line();
    this.line(`${this.c.bold('Plan:')} ${describeSummary(summary)}`);
    if (summary.nonTransactional > 0) {
      this.line(this.c.yellow(`  ${summary.nonTransactional} statement(s) cannot run inside a transaction and commit on their own; a later failure does not undo them.`));
    }
  }

  /** Type breaks, each under the change that caused it, with the whole TypeScript message. */
  breaks(groups: BreakGroup[], heading: string): void {
    if (this.json || groups.length === 0) return;
    this.line();
    this.warn(heading);
    for (const group of groups) {
      this.line(`  ${firstLine(group.change, 200)}`);
      for (const b of group.breaks) {
        const [first, ...rest] = b.message.split('\n');
        this.line(`    → ${b.file}:${b.line} ${first}`);
        for (const more of rest) this.line(`      ${more}`);
      }
    }
  }

  /** The final line (or the JSON document) for a run that ended as planned. */
  finish(command: string, outcome: Outcome): void {
    if (this.json) {
      this.writeJson({ ok: outcome.tone !== 'cancelled' && outcome.tone !== 'failed', command, ...this.header, ...outcomeJson(outcome) });
      return;
    }
    for (const hint of outcome.hints ?? []) this.line(`  ${hint}`);
    const mark = { success: this.c.green(this.c.bold('✔')), warning: this.c.yellow(this.c.bold('!')), cancelled: this.c.dim('–'), failed: this.c.red(this.c.bold('✖')) }[outcome.tone];
    const stream = outcome.tone === 'failed' ? this.err : this.out;
    stream.write(`${mark} ${redact(outcome.message)} ${this.c.dim(`(${formatMs(Date.now() - this.started)})`)}\n`);
  }

  failure(command: string, error: unknown): void {
    const message = isSqlfirstError(error) ? error.message : `Unexpected error: ${firstLine(error instanceof Error ? error.message : String(error)).replace(/[.\s]+$/, '')}; run again with --verbose for details.`;
    const step = (isSqlfirstError(error) && error.step) || this.currentStep || undefined;
    if (this.json) {
      this.writeJson({ ok: false, command, ...this.header, error: message, failedStep: step });
      return;
    }
    this.err.write(`${this.c.red(this.c.bold('✖'))} ${step ? `Failed at ${step}: ` : ''}${redact(message)}\n`);
    if (this.verbose && !isSqlfirstError(error)) this.err.write(`${redact(causeChain(error))}\n`);
    else if (this.verbose && isSqlfirstError(error) && error.cause) this.err.write(`${this.c.dim(redact(`caused by: ${causeMessages(error.cause)}`))}\n`);
  }

  /** One run of `sqlfirst dev`: what changed, the breaks, the time. */
  block(title: string, outcome: Outcome, ms: number): void {
    const mark = outcome.tone === 'success' ? this.c.green('●') : this.c.yellow('●');
    this.out.write(`${mark} ${redact(title)}  ${redact(outcome.message)} ${this.c.dim(`(${formatMs(ms)})`)}\n`);
    if (outcome.plan?.changes.length) this.out.write(`    ${redact(describeObjects(outcome.plan.changes))}\n`);
    for (const group of outcome.breaks?.caused ?? []) {
      for (const b of group.breaks) this.out.write(`    → ${redact(`${b.file}:${b.line} ${b.message.split('\n').join('\n      ')}`)}\n`);
    }
  }

  blockFailure(title: string, error: unknown, ms: number): void {
    const message = isSqlfirstError(error) ? error.message : `Unexpected error: ${firstLine(error instanceof Error ? error.message : String(error))}`;
    this.out.write(`${this.c.red('✖')} ${redact(title)}  ${redact(message)} ${this.c.dim(`(${formatMs(ms)})`)}\n`);
  }

  private writeJson(document: Record<string, unknown>): void {
    this.out.write(`${redact(JSON.stringify({ ...document, steps: this.steps, durationMs: Date.now() - this.started }, null, 2))}\n`);
  }
}

function outcomeJson(outcome: Outcome): Record<string, unknown> {
  return {
    message: outcome.message,
    exitCode: outcome.exitCode,
    plan: outcome.plan && {
      statements: outcome.plan.changes.map((c) => ({
        sql: c.sql,
        verb: c.verb,
        dataLoss: c.dataLoss ?? null,
        transactional: c.transactional,
        lockClass: c.lockClass,
        rewrites: c.rewrites,
        hazards: c.hazards.map((h) => ({ kind: h.kind, table: h.table, rows: h.rows ?? null, bytes: h.bytes ?? null, text: h.text })),
      })),
      skipped: (outcome.skipped ?? []).map((s) => ({ object: `${s.object.kind} ${s.object.name}`, rule: s.rule })),
      summary: summarize(outcome.plan.changes, outcome.skipped),
    },
    breaks: outcome.breaks && {
      caused: outcome.breaks.caused.map((g) => ({ change: g.change, breaks: g.breaks.map((b) => ({ file: b.file, line: b.line, message: b.message })) })),
      preexisting: outcome.breaks.preexisting.flatMap((g) => g.breaks.map((b) => ({ file: b.file, line: b.line, message: b.message }))),
    },
    applied: outcome.applied,
    typesWritten: outcome.typesWritten,
    hints: outcome.hints,
    problems: outcome.problems,
  };
}

export function summarize(changes: Change[], skipped: SkippedChange[] = []): PlanSummary {
  const kinds = changeKinds(changes);
  return {
    create: kinds.filter((k) => k === 'create').length,
    alter: kinds.filter((k) => k === 'alter').length,
    drop: kinds.filter((k) => k === 'drop').length,
    dataLoss: changes.filter((c) => c.dataLoss).length,
    nonTransactional: changes.filter((c) => !c.transactional).length,
    hazardous: changes.filter((c) => c.hazards.length > 0).length,
    skipped: skipped.length,
  };
}

/**
 * Adding a column or constraint to a table that already exists alters the
 * table; adding one to a table this plan creates is part of creating it.
 */
function changeKinds(changes: Change[]): Change['verb'][] {
  const created = new Set(changes.filter((c) => c.verb === 'create').flatMap((c) => c.produces.filter((o) => CONTAINERS.has(o.kind)).map((o) => o.name)));
  return changes.map((change) => {
    if (change.verb !== 'create') return change.verb;
    const container = change.consumes.find((object) => CONTAINERS.has(object.kind));
    const partOfExisting = change.produces.every((object) => PARTS.has(object.kind)) && container !== undefined && !created.has(container.name);
    return partOfExisting ? 'alter' : 'create';
  });
}

const PARTS = new Set(['column', 'constraint']);
const CONTAINERS = new Set(['table', 'view', 'materializedView', 'type', 'domain']);

export function describeSummary(s: PlanSummary): string {
  const parts = [`${s.create} to create`, `${s.alter} to alter`, `${s.drop} to drop`];
  if (s.dataLoss) parts.push(`${s.dataLoss} losing data`);
  if (s.nonTransactional) parts.push(`${s.nonTransactional} committing on their own`);
  if (s.hazardous) parts.push(`${s.hazardous} with hazards on existing tables`);
  if (s.skipped) parts.push(`${s.skipped} skipped by policy`);
  return parts.join(', ');
}

/** "creates 17 tables, 2 views, 30 indexes; alters 1 table" — what a plan does, by kind of object. */
export function describeObjects(changes: Change[]): string {
  const counts = new Map<Change['verb'], Map<string, number>>();
  const verbs = changeKinds(changes);
  for (const [index, change] of changes.entries()) {
    const verb = verbs[index];
    // what a statement is about: the object it makes, changes (the table a column is added to) or removes
    const object = verb === 'create' ? change.produces[0] : verb === 'alter' ? (change.verb === 'create' ? change.consumes.find((o) => CONTAINERS.has(o.kind)) : change.consumes[0]) : change.drops[0];
    if (!object) continue;
    const kinds = counts.get(verb) ?? new Map<string, number>();
    kinds.set(object.kind, (kinds.get(object.kind) ?? 0) + 1);
    counts.set(verb, kinds);
  }
  const phrase = (kinds: Map<string, number>) => [...kinds].map(([kind, n]) => `${n} ${n === 1 ? KIND_NAMES[kind]?.[0] ?? kind : KIND_NAMES[kind]?.[1] ?? `${kind}s`}`).join(', ');
  return (['create', 'alter', 'drop'] as const)
    .filter((verb) => counts.has(verb))
    .map((verb) => `${{ create: 'creates', alter: 'alters', drop: 'drops' }[verb]} ${phrase(counts.get(verb)!)}`)
    .join('; ');
}

const KIND_NAMES: Record<string, [string, string]> = {
  index: ['index', 'indexes'],
  materializedView: ['materialized view', 'materialized views'],
  type: ['type', 'types'],
};

export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function causeMessages(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    lines.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('; caused by: ');
}

function causeChain(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    lines.push(current instanceof Error ? current.stack ?? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('\ncaused by: ');
}
