/**
 * Reads what the native TypeScript compiler prints with `--pretty false
 * --listFiles`: one header line per diagnostic,
 *
 *   packages/x/src/a.ts(12,5): error TS2769: No overload matches this call.
 *     The last overload gave the following error.
 *       Argument of type ...
 *
 * the chain of its message on the following lines, indented two spaces per
 * level, diagnostics without a place as `error TS5023: ...`, and then every
 * file the program read, one absolute path a line.
 */

/** One diagnostic as the compiler printed it. */
export interface CompilerDiagnostic {
  /** the path as printed (relative to the compiler's working folder, or absolute); undefined for a diagnostic without a place (options, config) */
  file?: string;
  /** 1-based; 1 without a place */
  line: number;
  /** 1-based; 1 without a place */
  column: number;
  /** the TS number, e.g. 2769 */
  code: number;
  /** the whole message: the first line, then every continuation line of its chain as printed (indentation kept) */
  message: string;
}

export interface CompilerOutput {
  /** the errors, in the order printed */
  diagnostics: CompilerDiagnostic[];
  /** the files the program read (`--listFiles`), as printed */
  files: string[];
}

const PLACED = /^(.+)\((\d+),(\d+)\): error TS(\d+): (.*)$/;
const UNPLACED = /^error TS(\d+): (.*)$/;
/** a listed file: a POSIX, drive-letter or UNC absolute path */
const ABSOLUTE = /^(?:\/|[A-Za-z]:[\\/]|\\\\)/;

export function parseCompilerOutput(text: string): CompilerOutput {
  const diagnostics: CompilerDiagnostic[] = [];
  const files: string[] = [];
  let current: CompilerDiagnostic | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const placed = PLACED.exec(line);
    if (placed) {
      current = { file: placed[1], line: Number(placed[2]), column: Number(placed[3]), code: Number(placed[4]), message: placed[5] };
      diagnostics.push(current);
      continue;
    }
    const unplaced = UNPLACED.exec(line);
    if (unplaced) {
      current = { line: 1, column: 1, code: Number(unplaced[1]), message: unplaced[2] };
      diagnostics.push(current);
      continue;
    }
    if (/^\s/.test(line) && current) {
      current.message += `\n${line.trimEnd()}`;
      continue;
    }
    if (ABSOLUTE.test(line)) {
      // the file list comes after the diagnostics: a message never continues past it
      current = undefined;
      files.push(line.trimEnd());
      continue;
    }
    // an unindented line inside a message (a message text holding a line break) is still part of it
    if (current) current.message += `\n${line.trimEnd()}`;
  }
  return { diagnostics, files };
}
