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
 * A parsed atlas.hcl that evaluates attributes on demand: variables and locals are
 * evaluated only when an attribute refers to them, so an env needs only its own variables.
 */
export class AtlasDocument {
  /** locals being evaluated, to catch a local that refers back to itself */
  private readonly evaluating = new Set<string>();

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
      getenv: (name) => {
        const value = this.credentials.get(name);
        reads.set(name, value !== undefined);
        return value ?? '';
      },
      reference: (kind, name) => (kind === 'var' ? this.variable(name, reads) : this.local(name, reads)),
    };
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
    if (this.evaluating.has(name)) throw new ExpressionProblem(`local.${name}`, `local.${name} refers back to itself; break the cycle`);
    this.evaluating.add(name);
    try {
      const value = this.attribute({ body: blocks[index], line: this.source.blockLines('locals')[index] }, name, reads);
      if (value === undefined) throw new ExpressionProblem(`local.${name}`, `local.${name} is null; give it a value`);
      return value;
    } finally {
      this.evaluating.delete(name);
    }
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
