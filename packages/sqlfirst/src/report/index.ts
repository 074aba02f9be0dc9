/**
 * The report stage: everything a person (or, with --json, a machine) sees.
 * Every line passes through `redact`, so no password reaches the output.
 */
import pc from 'picocolors';
import type { Change, MigrationPlan } from '../engine/index.js';
import type { SkippedChange } from '../policy/index.js';
import { isSqlfirstError } from '../errors.js';
import { redact } from '../target/secrets.js';

export interface ReporterOptions {
  json?: boolean;
  verbose?: boolean;
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
  skipped: number;
}

export interface StepTiming {
  step: string;
  ms: number;
  detail?: string;
}

type Colors = ReturnType<typeof pc.createColors>;

export class Reporter {
  readonly json: boolean;
  readonly verbose: boolean;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream;
  private readonly c: Colors;
  private readonly started = Date.now();
  readonly steps: StepTiming[] = [];
  /** fields of the single JSON result */
  readonly result: Record<string, unknown> = {};
  private currentStep = '';

  constructor(options: ReporterOptions = {}) {
    this.json = options.json ?? false;
    this.verbose = options.verbose ?? false;
    this.out = options.out ?? process.stdout;
    this.err = options.err ?? process.stderr;
    const tty = Boolean((this.out as { isTTY?: boolean }).isTTY);
    this.c = pc.createColors(tty && !process.env.NO_COLOR && !this.json);
  }

  /** A line for people; suppressed in --json mode. */
  line(text = ''): void {
    if (!this.json) this.out.write(`${redact(text)}\n`);
  }

  detail(text: string): void {
    if (this.verbose && !this.json) this.out.write(`${this.c.dim(redact(text))}\n`);
  }

  warn(text: string): void {
    if (this.json) ((this.result.warnings ??= []) as string[]).push(redact(text));
    else this.out.write(`${this.c.yellow('!')} ${redact(text)}\n`);
  }

  header(title: string, fields: Record<string, string | undefined>): void {
    if (title) this.line(this.c.bold(title));
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) this.line(`  ${this.c.dim(key.padEnd(12))}${value}`);
    }
    Object.assign(this.result, Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v && redact(v)])));
  }

  /** Runs one pipeline step, printing its name, duration and outcome. */
  async step<T>(name: string, run: () => Promise<T>, describe?: (value: T) => string | undefined): Promise<T> {
    const start = Date.now();
    this.currentStep = name;
    const value = await run();
    const ms = Date.now() - start;
    const detail = describe?.(value);
    this.steps.push({ step: name, ms, detail });
    this.line(`${this.c.green('✓')} ${name.padEnd(16)} ${this.c.dim(formatMs(ms))}${detail ? `  ${detail}` : ''}`);
    return value;
  }

  /** the step running when a failure happened */
  get failingStep(): string {
    return this.currentStep;
  }

  plan(plan: MigrationPlan, skipped: SkippedChange[]): PlanSummary {
    const summary = summarize(plan.changes, skipped);
    this.result.plan = {
      statements: plan.changes.map((c) => ({ sql: c.sql, verb: c.verb, dataLoss: c.dataLoss, transactional: c.transactional })),
      skipped: skipped.map((s) => ({ sql: s.change.sql, rule: s.rule })),
      summary,
    };
    if (this.json) return summary;
    this.line();
    if (plan.changes.length === 0 && skipped.length === 0) {
      this.line(this.c.green('No changes: the database already matches the schema.'));
      return summary;
    }
    for (const change of plan.changes) {
      const marks = [change.dataLoss && this.c.red('-- DATA LOSS'), !change.transactional && this.c.yellow('-- not transactional')].filter(Boolean).join(' ');
      this.line(`${change.sql};${marks ? `  ${marks}` : ''}`);
    }
    for (const { change, rule } of skipped) {
      this.line(this.c.dim(`-- skipped by policy (${rule}): ${change.sql};`));
    }
    this.line();
    this.line(`${this.c.bold('Plan:')} ${describeSummary(summary)}`);
    if (summary.nonTransactional > 0) {
      this.line(this.c.yellow(`  ${summary.nonTransactional} statement(s) cannot run inside a transaction and commit on their own; a later failure does not undo them.`));
    }
    return summary;
  }

  success(text: string): void {
    this.result.ok = true;
    this.result.message = text;
    this.finish();
    if (!this.json) this.out.write(`${this.c.green(this.c.bold('✔'))} ${redact(text)} ${this.c.dim(`(${formatMs(Date.now() - this.started)})`)}\n`);
  }

  failure(error: unknown): void {
    const message = isSqlfirstError(error) ? error.message : `Unexpected error: ${firstLine(error)}; run again with --verbose for details.`;
    const step = (isSqlfirstError(error) && error.step) || this.currentStep || undefined;
    this.result.ok = false;
    this.result.error = redact(message);
    if (step) this.result.failedStep = step;
    this.finish();
    if (this.json) return;
    this.err.write(`${this.c.red(this.c.bold('✖'))} ${step ? `Failed at ${step}: ` : ''}${redact(message)}\n`);
    if (this.verbose) this.err.write(`${redact(causeChain(error))}\n`);
  }

  private finish(): void {
    this.result.steps = this.steps;
    this.result.durationMs = Date.now() - this.started;
    if (this.json) this.out.write(`${redact(JSON.stringify(this.result, null, 2))}\n`);
  }
}

export function summarize(changes: Change[], skipped: SkippedChange[] = []): PlanSummary {
  return {
    create: changes.filter((c) => c.verb === 'create').length,
    alter: changes.filter((c) => c.verb === 'alter').length,
    drop: changes.filter((c) => c.verb === 'drop').length,
    dataLoss: changes.filter((c) => c.dataLoss).length,
    nonTransactional: changes.filter((c) => !c.transactional).length,
    skipped: skipped.length,
  };
}

export function describeSummary(s: PlanSummary): string {
  const parts = [`${s.create} to create`, `${s.alter} to alter`, `${s.drop} to drop`];
  if (s.dataLoss) parts.push(`${s.dataLoss} losing data`);
  if (s.nonTransactional) parts.push(`${s.nonTransactional} not transactional`);
  if (s.skipped) parts.push(`${s.skipped} skipped by policy`);
  return parts.join(', ');
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].replace(/[.\s]+$/, '');
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
