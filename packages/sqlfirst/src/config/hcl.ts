import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { escapeRegExp } from '../text.js';

/** The JSON form of an HCL file: blocks are arrays, expressions stay "${...}" strings. */
export type HclJson = Record<string, unknown>;

/**
 * Parses HCL to JSON. The parser (2 MB of gzipped Go WebAssembly, ≈0.3 s to start) is loaded
 * only when `cacheDir` holds no result for these exact bytes and this parser version; a
 * result is then stored there. Without a writable `cacheDir` nothing is cached.
 */
export async function parseHcl(source: SourceText, cacheDir?: string): Promise<HclJson> {
  const cacheFile = cacheDir && path.join(cacheDir, `hcl-${cacheKey(source)}.json`);
  const cached = cacheFile && readCached(cacheFile);
  if (cached) return cached;
  const { parse } = await import('@cdktf/hcl2json');
  let json: HclJson;
  try {
    json = await parse(path.basename(source.path), source.text);
  } catch (error) {
    const { line, reason } = firstDiagnostic(error);
    throw new SqlfirstError(`${source.where(line)}: ${reason}; fix the syntax and run again.`, { cause: error, step: 'config' });
  }
  if (cacheFile) writeCached(cacheFile, json);
  return json;
}

/** sha256 of the parser's name and version and the file's bytes (its name is part of no result). */
function cacheKey(source: SourceText): string {
  return createHash('sha256').update(parserVersion()).update('\0').update(source.text, 'utf8').digest('hex');
}

let version: string | undefined;

function parserVersion(): string {
  if (version === undefined) {
    const manifest = createRequire(import.meta.url).resolve('@cdktf/hcl2json/package.json');
    const { name, version: installed } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name: string; version: string };
    version = `${name}@${installed}`;
  }
  return version;
}

function readCached(file: string): HclJson | undefined {
  try {
    const json: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as HclJson) : undefined;
  } catch {
    return undefined;
  }
}

/** Written beside and renamed into place, so a reader never sees half a file; a folder that cannot be written is skipped. */
function writeCached(file: string, json: HclJson): void {
  const staged = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(staged, JSON.stringify(json));
    fs.renameSync(staged, file);
  } catch {
    try {
      fs.rmSync(staged, { force: true });
    } catch {
      // the folder itself is unusable: nothing was staged
    }
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
  /** attribute name → the lines that assign it, built on first use */
  private attributes?: Map<string, number[]>;
  private readonly blocks = new Map<string, number[]>();

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
    if (!this.attributes) {
      this.attributes = new Map();
      for (const [index, line] of this.lines.entries()) {
        const assigned = /^\s*([A-Za-z_][\w-]*)\s*=(?!=)/.exec(line);
        if (!assigned) continue;
        const lines = this.attributes.get(assigned[1]) ?? [];
        lines.push(index + 1);
        this.attributes.set(assigned[1], lines);
      }
    }
    return this.attributes.get(name)?.find((line) => line >= from);
  }

  /** The header lines of every `type "label" {` block (`type {` without a label), in file order. */
  blockLines(type: string, label?: string): number[] {
    const key = JSON.stringify([type, label]);
    let found = this.blocks.get(key);
    if (!found) {
      const labelled = label === undefined ? '' : `\\s+"${escapeRegExp(label)}"`;
      const pattern = new RegExp(`^\\s*${escapeRegExp(type)}${labelled}\\s*\\{`);
      found = this.lines.flatMap((line, index) => (pattern.test(line) ? [index + 1] : []));
      this.blocks.set(key, found);
    }
    return found;
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

