import path from 'node:path';
import { SqlfirstError } from '../errors.js';

/** The JSON form of an HCL file: blocks are arrays, expressions stay "${...}" strings. */
export type HclJson = Record<string, unknown>;

/** Parses HCL to JSON; the parser (2 MB of WASM) is loaded only when a config is read. */
export async function parseHcl(source: SourceText): Promise<HclJson> {
  const { parse } = await import('@cdktf/hcl2json');
  try {
    return await parse(path.basename(source.path), source.text);
  } catch (error) {
    const { line, reason } = firstDiagnostic(error);
    throw new SqlfirstError(`${source.where(line)}: ${reason}; fix the syntax and run again.`, { cause: error, step: 'config' });
  }
}

/**
 * hcl2json says "parse config: [atlas.hcl:7,3-8: Summary; Detail. atlas.hcl:9,1-2: ...]" for
 * syntax errors and "convert to HCL: ...: reason" for structural ones; keep the first problem.
 */
function firstDiagnostic(error: unknown): { line?: number; reason: string } {
  const message = error instanceof Error ? error.message : String(error);
  const listed = /\[[^\s:]+:(\d+),\S*: (.*?)\.?(?: [^\s:]+:\d+,\S*: .*)?\]$/s.exec(message);
  if (!listed) return { reason: message.split(': ').pop() ?? message };
  const [, line, diagnostic] = listed;
  const split = diagnostic.indexOf('; ');
  const reason = split === -1 ? diagnostic : `${diagnostic.slice(0, split)} (${diagnostic.slice(split + 2)})`;
  return { line: Number(line), reason };
}

/** The config file's text, to turn what the JSON lost (line numbers) back into "atlas.hcl line 7". */
export class SourceText {
  private readonly lines: string[];

  constructor(
    readonly path: string,
    readonly text: string,
  ) {
    this.lines = text.split(/\r?\n/);
  }

  /** "packages/database/atlas.hcl line 7", or just the file when the line is unknown. */
  where(line?: number): string {
    const shown = displayPath(this.path);
    return line ? `${shown} line ${line}` : shown;
  }

  /** The first line at or after `from` (1-based) that contains `fragment`. */
  lineOf(fragment: string, from = 1): number | undefined {
    const first = fragment.split(/\r?\n/)[0];
    return this.findLine((line) => line.includes(first), from);
  }

  /** The line of `name = ...` at or after `from`. */
  lineOfAttribute(name: string, from = 1): number | undefined {
    const pattern = new RegExp(`^\\s*${escapeRegExp(name)}\\s*=`);
    return this.findLine((line) => pattern.test(line), from);
  }

  /** The header lines of every `type "label" {` block (`type {` without a label), in file order. */
  blockLines(type: string, label?: string): number[] {
    const labelled = label === undefined ? '' : `\\s+"${escapeRegExp(label)}"`;
    const pattern = new RegExp(`^\\s*${type}${labelled}\\s*\\{`);
    return this.lines.flatMap((line, index) => (pattern.test(line) ? [index + 1] : []));
  }

  private findLine(test: (line: string) => boolean, from: number): number | undefined {
    const index = this.lines.findIndex((line, i) => i >= from - 1 && test(line));
    return index === -1 ? undefined : index + 1;
  }
}

/** A path relative to the working folder when it is inside it, else absolute. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
