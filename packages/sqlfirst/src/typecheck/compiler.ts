/**
 * The native TypeScript compiler (typescript@7, written in Go) as a child
 * process: found through the package's own getExePath (the platform binary it
 * ships, win32-x64 included), started without a shell, killed on abort.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SqlfirstError } from '../errors.js';

export interface NativeCompiler {
  exe: string;
  version: string;
}

let found: Promise<NativeCompiler> | undefined;

/** The binary of the `typescript` package sqlfirst depends on, and its version. */
export function nativeCompiler(): Promise<NativeCompiler> {
  found ??= locate();
  return found;
}

async function locate(): Promise<NativeCompiler> {
  const require = createRequire(import.meta.url);
  let manifestFile: string;
  try {
    manifestFile = require.resolve('typescript/package.json');
  } catch (error) {
    throw new SqlfirstError('The typescript package is not installed next to sqlfirst; run npm install, or pass --no-typecheck.', { step: 'typecheck', cause: error });
  }
  const version = (require(manifestFile) as { version: string }).version;
  // getExePath is the package's internal (#getExePath) entry: reached by its file, not by a subpath export
  const getExePath = path.join(path.dirname(manifestFile), 'lib', 'getExePath.js');
  try {
    const module = (await import(pathToFileURL(getExePath).href)) as { default: () => string };
    return { exe: module.default(), version };
  } catch (error) {
    throw new SqlfirstError(
      `TypeScript ${version}'s native compiler for ${process.platform}-${process.arch} was not found (${(error as Error).message}); run npm install again (it installs the @typescript/typescript-${process.platform}-${process.arch} package), or pass --no-typecheck.`,
      { step: 'typecheck', cause: error },
    );
  }
}

export interface CompilerRun {
  /** the exit code; undefined when the process was killed by a signal */
  code: number | undefined;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  /** kills the compiler; the promise then rejects with the signal's reason once the process is gone (its build info may be half written) */
  signal: AbortSignal;
  /** told the process id as soon as the compiler runs */
  onStart?: (pid: number) => void;
}

/** Runs the compiler with `args` to its end (any exit code) and answers what it printed. */
export async function runCompiler(compiler: NativeCompiler, args: string[], options: RunOptions): Promise<CompilerRun> {
  options.signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn(compiler.exe, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // the compiler does not stop promptly on SIGTERM (a cold check went on for seconds): killed outright, it writes nothing but build info
    const abort = () => child.kill('SIGKILL');
    options.signal.addEventListener('abort', abort, { once: true });
    child.once('spawn', () => {
      if (child.pid !== undefined) options.onStart?.(child.pid);
    });
    child.once('error', (error) => {
      options.signal.removeEventListener('abort', abort);
      reject(new SqlfirstError(`The TypeScript compiler ${compiler.exe} could not be started (${error.message}); run npm install again, or pass --no-typecheck.`, { step: 'typecheck', cause: error }));
    });
    // 'close': the process has exited and its output is read to the end
    child.once('close', (code) => {
      options.signal.removeEventListener('abort', abort);
      if (options.signal.aborted) reject(options.signal.reason);
      else resolve({ code: code ?? undefined, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}
