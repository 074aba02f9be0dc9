import { SqlfirstError } from '../errors.js';
import { registerSecret } from '../target/secrets.js';
import { isSecretName, type Credentials } from './credentials.js';
import { evaluateJson, ExpressionProblem, type Scope, type Value } from './expressions.js';
import type { HclJson, SourceText } from './hcl.js';

/** A block's attributes as hcl2json gives them, and the line of its header. */
export interface Block {
  body: Record<string, unknown>;
  line?: number;
}

/** The environment variables one evaluation read: name → whether it was set. */
export type Reads = Map<string, boolean>;

/**
 * Bounds on evaluating an atlas.hcl, so a hostile or broken file fails in one sentence
 * instead of exhausting memory or CPU (a chain of 20,000 locals; locals that double a
 * string 24 times). Real configs stay far below each.
 */
export const EVALUATION_LIMITS = {
  /** locals and variables referring to one another, nested */
  referenceDepth: 32,
  /** characters of one value */
  valueChars: 64 * 1024,
  /** characters of all the values one config makes */
  totalChars: 1024 * 1024,
  /** wall time of evaluating one environment */
  milliseconds: 2_000,
};

/** How getenv() answers: the value, or a marker that shows where in a URL a variable lands. */
type Mode = 'value' | 'trace';

/** A variable's place holder in a traced value: "!" shows whether urlescape() encoded it. */
function placeholder(index: number): string {
  return `!sqlfirstvar${index}!`;
}

interface Evaluated {
  value: Value;
  reads: Reads;
}

/**
 * A parsed atlas.hcl that evaluates attributes on demand: variables and locals are
 * evaluated only when an attribute refers to them (once each), so an env needs only its
 * own variables.
 */
export class AtlasDocument {
  /** locals and variables being evaluated, innermost last, to catch cycles and bound depth */
  private readonly evaluating: string[] = [];
  private readonly evaluated = new Map<string, Evaluated>();
  private mode: Mode = 'value';
  /** place holder → variable name, for `trace` */
  private readonly placeholders = new Map<string, string>();
  /** every variable getenv() read, with its value */
  readonly environmentValues = new Map<string, string>();
  private totalChars = 0;
  private deadline?: number;

  constructor(
    private readonly json: HclJson,
    readonly source: SourceText,
    private readonly vars: Record<string, string>,
    private readonly credentials: Credentials,
  ) {
    this.checkVarFlags();
  }

  /** The `env "name"` block; an unknown name lists the ones that exist. */
  env(name: string): Block {
    const envs = asRecord(this.json.env);
    const blocks = envs[name];
    if (!Array.isArray(blocks)) {
      const known = Object.keys(envs).map((env) => `"${env}"`);
      const choice = known.length ? `use one of ${known.join(', ')}` : 'add an env "name" { ... } block';
      throw new SqlfirstError(`${this.source.where()} has no environment "${name}"; ${choice}.`, { step: 'config' });
    }
    const [line, second] = this.source.blockLines('env', name);
    if (blocks.length > 1) throw this.error(second, `environment "${name}" is defined more than once; keep one block`);
    return { body: asRecord(blocks[0]), line };
  }

  /** The first `name { ... }` block inside `parent`, if any. */
  child(parent: Block, name: string): Block | undefined {
    const blocks = parent.body[name];
    if (!Array.isArray(blocks) || blocks.length === 0) return undefined;
    return { body: asRecord(blocks[0]), line: this.source.blockLines(name).find((line) => line >= (parent.line ?? 1)) ?? parent.line };
  }

  /** Evaluates `block`'s attribute `name`, recording the environment variables it reads. */
  attribute(block: Block, name: string, reads: Reads): Value | undefined {
    return this.evaluate(block.body[name], this.source.lineOfAttribute(name, block.line) ?? block.line, reads);
  }

  /**
   * The attribute's value with every set variable that getenv() reads replaced by a place
   * holder, and which variable each place holder stands for: where in a URL each lands.
   */
  trace(block: Block, name: string): { text: string; placeholders: Map<string, string> } | undefined {
    this.mode = 'trace';
    try {
      const value = this.attribute(block, name, new Map());
      return typeof value === 'string' ? { text: value, placeholders: new Map(this.placeholders) } : undefined;
    } catch (error) {
      // a branch the real values do not take may fail: the trace then tells nothing
      if (error instanceof SqlfirstError) return undefined;
      throw error;
    } finally {
      this.mode = 'value';
    }
  }

  /** A SqlfirstError located at `line` of the config file. */
  error(line: number | undefined, message: string): SqlfirstError {
    return new SqlfirstError(`${this.source.where(line)}: ${message}.`, { step: 'config' });
  }

  private evaluate(json: unknown, line: number | undefined, reads: Reads): Value | undefined {
    try {
      return evaluateJson(json, this.scope(reads));
    } catch (error) {
      if (!(error instanceof ExpressionProblem)) throw error;
      const at = error.fragment === undefined ? line : (this.source.lineOf(error.fragment, line) ?? line);
      throw this.error(at, error.message);
    }
  }

  private scope(reads: Reads): Scope {
    return {
      getenv: (name, optional) => {
        const value = this.credentials.get(name);
        if (value !== undefined) this.environmentValues.set(name, value);
        if (value !== undefined || !optional) reads.set(name, value !== undefined || (reads.get(name) ?? false));
        // traced, a variable that is not set lands where it would (an optional port)
        return this.mode === 'trace' ? this.placeholderFor(name) : (value ?? '');
      },
      reference: (kind, name) => this.reference(kind, name, reads),
      made: (value) => this.measure(value),
    };
  }

  private placeholderFor(name: string): string {
    for (const [text, variable] of this.placeholders) if (variable === name) return text;
    const text = placeholder(this.placeholders.size);
    this.placeholders.set(text, name);
    return text;
  }

  /** Enforces EVALUATION_LIMITS on every value made; the innermost reference is named. */
  private measure(value: Value): void {
    const now = performance.now();
    this.deadline ??= now + EVALUATION_LIMITS.milliseconds;
    const size = typeof value === 'string' ? value.length : Array.isArray(value) ? value.length : 1;
    this.totalChars += size;
    const inside = this.evaluating.at(-1);
    const where = inside ? ` in ${inside}` : '';
    if (size > EVALUATION_LIMITS.valueChars) {
      throw new ExpressionProblem(undefined, `a value${where} is longer than ${EVALUATION_LIMITS.valueChars} characters (the limit for one value); shorten it`);
    }
    if (this.totalChars > EVALUATION_LIMITS.totalChars) {
      throw new ExpressionProblem(undefined, `evaluating the environment made more than ${EVALUATION_LIMITS.totalChars} characters of values (the limit)${where}; simplify the locals`);
    }
    if (now > this.deadline) {
      throw new ExpressionProblem(undefined, `evaluating the environment took longer than ${EVALUATION_LIMITS.milliseconds / 1000} s (the limit)${where}; simplify the locals`);
    }
  }

  /** A variable or local, evaluated once (per mode); the variables it read count for every use. */
  private reference(kind: 'var' | 'local', name: string, reads: Reads): Value {
    const key = `${kind}.${name}`;
    const memo = `${this.mode}:${key}`;
    let evaluated = this.evaluated.get(memo);
    if (!evaluated) {
      if (this.evaluating.includes(key)) throw new ExpressionProblem(key, `${key} refers back to itself; break the cycle`);
      if (this.evaluating.length >= EVALUATION_LIMITS.referenceDepth) {
        throw new ExpressionProblem(key, `${key} is reached through more than ${EVALUATION_LIMITS.referenceDepth} nested locals and variables (the limit); shorten the chain`);
      }
      this.evaluating.push(key);
      const own: Reads = new Map();
      try {
        evaluated = { value: kind === 'var' ? this.variable(name, own) : this.local(name, own), reads: own };
      } finally {
        this.evaluating.pop();
      }
      this.evaluated.set(memo, evaluated);
    }
    for (const [variable, set] of evaluated.reads) reads.set(variable, set || (reads.get(variable) ?? false));
    return evaluated.value;
  }

  private variable(name: string, reads: Reads): Value {
    const declared = asRecord(this.json.variable)[name];
    if (!Array.isArray(declared)) {
      throw new ExpressionProblem(`var.${name}`, `var.${name} is not declared; add a variable "${name}" block or fix the name`);
    }
    if (Object.hasOwn(this.vars, name)) return this.vars[name];
    const [line] = this.source.blockLines('variable', name);
    const value = this.attribute({ body: asRecord(declared[0]), line }, 'default', reads);
    if (value === undefined) {
      throw new ExpressionProblem(`var.${name}`, `variable "${name}" has no default and no value was given; pass --var ${name}=VALUE`);
    }
    return value;
  }

  private local(name: string, reads: Reads): Value {
    const blocks = Array.isArray(this.json.locals) ? this.json.locals.map(asRecord) : [];
    const index = blocks.findIndex((block) => Object.hasOwn(block, name));
    if (index === -1) throw new ExpressionProblem(`local.${name}`, `local.${name} is not defined; add it to a locals block or fix the name`);
    const value = this.attribute({ body: blocks[index], line: this.source.blockLines('locals')[index] }, name, reads);
    if (value === undefined) throw new ExpressionProblem(`local.${name}`, `local.${name} is null; give it a value`);
    return value;
  }

  /** A --var for a variable the file does not declare is a typo; values of secret-looking names are masked. */
  private checkVarFlags(): void {
    const declared = Object.keys(asRecord(this.json.variable));
    for (const [name, value] of Object.entries(this.vars)) {
      if (isSecretName(name)) registerSecret(value);
      if (!declared.includes(name)) {
        const known = declared.length ? `it declares ${declared.map((v) => `"${v}"`).join(', ')}` : 'it declares none';
        throw new SqlfirstError(`--var ${name} names no variable of ${this.source.where()} (${known}); fix the name.`, { step: 'config' });
      }
    }
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
