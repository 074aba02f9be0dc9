/**
 * The one error type a user ever sees. `message` is a single sentence that says
 * what failed and what to do; `cause` keeps the library error for `--verbose`.
 */
export class SqlfirstError extends Error {
  /** the pipeline step that failed, for the final report line */
  readonly step?: string;
  constructor(message: string, options: { cause?: unknown; step?: string } = {}) {
    super(message, { cause: options.cause });
    this.name = 'SqlfirstError';
    this.step = options.step;
  }
}

export function isSqlfirstError(error: unknown): error is SqlfirstError {
  return error instanceof SqlfirstError;
}
