/**
 * Compilers that are up before a check needs them. TypeScript 7's API mode
 * (`tsc --api --async`, JSON-RPC on stdio) keeps a project's program in
 * memory: a check re-reads the workspace's files and checks the program
 * again, without starting a process or parsing and binding the libraries and
 * the Drizzle declarations (measured on Livermore: ~0.25 s against ~0.6 s for
 * a fresh compiler). `sqlfirst dev` keeps them between saves; a one-shot run
 * opens the project while the shadow loads. A check answers what the
 * compiler prints with `--listFiles` (`CompilerOutput`), so both ways share
 * everything after it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { SqlfirstError } from '../errors.js';
import { firstLine } from '../text.js';
import type { NativeCompiler, RunOptions } from './compiler.js';
import type { CompilerDiagnostic, CompilerOutput } from './diagnostics.js';
import { fingerprint } from './state.js';

/** A diagnostic as the API sends it: positions in UTF-16 code units, the message chain as nested diagnostics. */
interface ApiDiagnostic {
  fileName?: string;
  pos: number;
  code: number;
  /** 1 is an error */
  category: number;
  text: string;
  messageChain?: ApiDiagnostic[];
}

interface Session {
  child: ChildProcess;
  connection: MessageConnection;
  snapshot: number;
  project: string;
  /** the program's files at the last snapshot */
  files: string[];
}

const ERROR = 1;

export class WarmCompilers {
  /** by config file: the session being opened or open, and the hash of what shaped its program */
  private readonly sessions = new Map<string, { key: string; ready: Promise<Session>; end(): void }>();

  /**
   * Starts the compiler on the project `configFile` (once; again when the config
   * or one of `inputs` changed since), so a check later finds its program
   * parsed and bound: a one-shot run opens it while the shadow loads.
   */
  open(compiler: NativeCompiler, configFile: string, inputs: string[], options: Omit<RunOptions, 'signal'>): void {
    this.session(compiler, configFile, inputs, options).catch(() => {});
  }

  /**
   * The project `configFile` checked now: the workspace's files read again,
   * then every error. `inputs` are files that shape the program without being
   * in it (the tsconfig chain, the lockfile): when one changes, the compiler
   * starts afresh. Aborting kills the compiler.
   */
  async check(compiler: NativeCompiler, configFile: string, inputs: string[], options: RunOptions): Promise<CompilerOutput> {
    const { signal } = options;
    signal.throwIfAborted();
    const kill = () => this.end(configFile);
    signal.addEventListener('abort', kill, { once: true });
    try {
      const session = await this.session(compiler, configFile, inputs, options);
      // the workspace's sources may have changed since the program was read (installed packages cannot: the lockfile is an input)
      const changed = session.files.filter((file) => !file.split(/[\\/]/).includes('node_modules'));
      await this.advance(session, { fileChanges: { changed } });
      const output = await this.diagnose(session);
      signal.throwIfAborted();
      return output;
    } catch (error) {
      // a compiler that failed once is not trusted with the next check
      this.end(configFile);
      if (signal.aborted) throw signal.reason;
      throw new SqlfirstError(`TypeScript's compiler stopped while checking the workspace (${firstLine((error as Error).message ?? String(error), 120)}); run it again, or pass --no-typecheck.`, { step: 'typecheck', cause: error });
    } finally {
      signal.removeEventListener('abort', kill);
    }
  }

  /** Stops every compiler. */
  async close(): Promise<void> {
    for (const configFile of [...this.sessions.keys()]) this.end(configFile);
  }

  /** sessions are looked up and started one at a time, so a warm-up and the check after it never start two compilers */
  private pending: Promise<unknown> = Promise.resolve();

  private session(compiler: NativeCompiler, configFile: string, inputs: string[], options: Omit<RunOptions, 'signal'>): Promise<Session> {
    const entry = this.pending.then(() => this.entry(compiler, configFile, inputs, options));
    this.pending = entry.catch(() => {});
    return entry.then((found) => found.ready);
  }

  private async entry(compiler: NativeCompiler, configFile: string, inputs: string[], options: Omit<RunOptions, 'signal'>) {
    const key = await fingerprint({ root: options.cwd, generated: {}, salt: 'api-mode compiler', files: [configFile, ...inputs] });
    const known = this.sessions.get(configFile);
    if (known?.key === key) return known;
    if (known) this.end(configFile);
    const child = spawn(compiler.exe, ['--api', '--async', '--cwd', options.cwd], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true });
    if (child.pid !== undefined) options.onStart?.(child.pid);
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    connection.listen();
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the TypeScript compiler's API process ended (exit code ${code ?? 'none'})`)));
    });
    const ready = (async () => {
      const session: Session = { child, connection, snapshot: 0, project: '', files: [] };
      await connection.sendRequest('initialize');
      await this.advance(session, { openProjects: [configFile] });
      session.files = await connection.sendRequest<string[]>('getSourceFileNames', { snapshot: session.snapshot, project: session.project });
      return session;
    })();
    const opened = Promise.race([ready, exited]);
    // awaited by a check; a warm-up that fails is not an error until then
    opened.catch(() => {});
    exited.catch(() => {});
    const found = {
      key,
      ready: opened,
      end: () => {
        connection.dispose();
        child.kill('SIGKILL');
      },
    };
    this.sessions.set(configFile, found);
    return found;
  }

  /** A new snapshot of the compiler's view of the files; the previous one is released. */
  private async advance(session: Session, params: Record<string, unknown>): Promise<void> {
    const previous = session.snapshot;
    const result = await session.connection.sendRequest<{ snapshot: number; projects: { id: string }[] }>('updateSnapshot', params);
    session.snapshot = result.snapshot;
    session.project = result.projects[0]?.id ?? session.project;
    if (previous) session.connection.sendRequest('release', { snapshot: previous }).catch(() => {});
  }

  /** The errors `tsc` would print, in its order: config and options, then syntax; with no syntax errors, global and semantic ones. */
  private async diagnose(session: Session): Promise<CompilerOutput> {
    const ask = (method: string) => session.connection.sendRequest<ApiDiagnostic[] | null>(method, { snapshot: session.snapshot, project: session.project }).then((list) => list ?? []);
    const [config, options, syntax, files] = await Promise.all([
      ask('getConfigFileParsingDiagnostics'),
      ask('getProgramDiagnostics'),
      ask('getSyntacticDiagnostics'),
      session.connection.sendRequest<string[]>('getSourceFileNames', { snapshot: session.snapshot, project: session.project }),
    ]);
    const semantic = syntax.some((d) => d.category === ERROR) ? [] : (await Promise.all([ask('getGlobalDiagnostics'), ask('getSemanticDiagnostics')])).flat();
    session.files = files;
    const errors = [...config, ...options, ...syntax, ...semantic].filter((d) => d.category === ERROR);
    const texts = new Map<string, Promise<string>>();
    const diagnostics = await Promise.all(errors.map((diagnostic) => placed(diagnostic, texts)));
    return { diagnostics, files };
  }

  private end(configFile: string): void {
    this.sessions.get(configFile)?.end();
    this.sessions.delete(configFile);
  }
}

/** The diagnostic with a line and column (1-based) and its whole message chain, as the compiler prints them. */
async function placed(diagnostic: ApiDiagnostic, texts: Map<string, Promise<string>>): Promise<CompilerDiagnostic> {
  const message = flatten(diagnostic);
  if (!diagnostic.fileName) return { line: 1, column: 1, code: diagnostic.code, message };
  const file = path.resolve(diagnostic.fileName);
  if (!texts.has(file)) texts.set(file, fs.readFile(file, 'utf8').catch(() => ''));
  const before = (await texts.get(file)!).slice(0, diagnostic.pos);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { file, line: before.split('\n').length, column: diagnostic.pos - lineStart + 1, code: diagnostic.code, message };
}

/** The message and its chain, each level on its own line indented two spaces deeper (as `tsc --pretty false` prints it). */
export function flatten(diagnostic: Pick<ApiDiagnostic, 'text' | 'messageChain'>, depth = 0): string {
  const own = `${'  '.repeat(depth)}${diagnostic.text}`;
  return [own, ...(diagnostic.messageChain ?? []).map((child) => flatten(child, depth + 1))].join('\n');
}
