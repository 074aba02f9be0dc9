import { redact } from '../../../target/secrets.js';

export interface OutputStream {
  write(chunk: string): void;
  /** flushes the last line, which may have no newline after it */
  end(): void;
}

/**
 * drizzle-kit redraws its progress block with ANSI escapes and spinner frames,
 * even when its output is a pipe, so a pull prints each status line dozens of
 * times. This keeps the lines a person wants to read, once each, redacted.
 */
export class OutputLines {
  private readonly seen = new Set<string>();
  /** every meaningful line so far, in order */
  readonly lines: string[] = [];

  constructor(private readonly onLine: (line: string) => void = () => {}) {}

  /** a writer for one stream (stdout, stderr): each keeps its own unfinished line */
  stream(): OutputStream {
    let partial = '';
    return {
      write: (chunk) => {
        const pieces = (partial + chunk).split('\n');
        partial = pieces.pop() ?? '';
        for (const piece of pieces) this.take(piece);
      },
      end: () => {
        if (partial) this.take(partial);
        partial = '';
      },
    };
  }

  private take(raw: string): void {
    const line = meaningful(raw);
    if (line === undefined || this.seen.has(line)) return;
    this.seen.add(line);
    const shown = redact(line);
    this.lines.push(shown);
    this.onLine(shown);
  }
}

// CSI sequences (colours, "erase line", "cursor to column 1") and OSC sequences
const ANSI = /\u001b\[[0-9;?]*[ -\/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
// "[⣷] 12 columns fetching": a braille spinner frame marks work in progress
const SPINNER_FRAME = /^\[[\u2800-\u28ff]\]/;
// lines about the temporary config and output folder, which the user never sees
const ABOUT_TEMP_FILES = /^Reading config file |^No config path provided|Your (SQL migration file|schema file is ready|relations file is ready)/;

function meaningful(raw: string): string | undefined {
  // a carriage return redraws the line: only the last drawing counts
  const drawn = raw.split('\r').pop() ?? '';
  const line = drawn.replace(ANSI, '').replace(/\s+/g, ' ').trim();
  if (!line || SPINNER_FRAME.test(line) || ABOUT_TEMP_FILES.test(line)) return undefined;
  return line;
}
