/**
 * Compilers that stay up between checks, for a loop that checks again and
 * again (`sqlfirst dev`). TypeScript 7's API mode (`tsc --api --async`,
 * JSON-RPC on stdio) keeps each project's program in memory: a check after a
 * save re-reads the workspace's files and checks the program again, without
 * starting a process or parsing and binding the libraries and the Drizzle
 * declarations again (measured on Livermore: ~0.25 s against ~0.6 s for a
 * fresh compiler). A check answers what the compiler prints with
 * `--listFiles` (`CompilerOutput`), so both ways share everything after it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { NativeCompiler, RunOptions } from './compiler.js';
import type { CompilerDiagnostic, CompilerOutput } from './diagnostics.js';

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
  /** a hash of the files whose change needs a fresh program (the config and its inputs) */
  key: string;
  child: ChildProcess;
  connection: MessageConnection;
  snapshot: number;
  project: string;
  /** the program's files at the last check */
  files: string[];
}

const ERROR = 1;

export class WarmCompilers {
  private readonly sessions = new Map<string, Session>();

  /**
   * The project `configFile` checked now. `inputs` are files that shape the
   * program without being in it (the tsconfig chain, the lockfile): when one
   * changes, the compiler starts afresh. Aborting kills the compiler.
   */
  async check(compiler: NativeCompiler, configFile: string, inputs: string[], options: RunOptions): Promise<CompilerOutput> {
    const { signal } = options;
    signal.throwIfAborted();
    const key = await hashFiles([configFile, ...inputs]);
    let session = this.sessions.get(configFile);
    if (session && session.key !== key) {
      this.end(configFile);
      session = undefined;
    }
    const kill = () => this.end(configFile);
    signal.addEventListener('abort', kill, { once: true });
    try {
      if (session) {
        // the workspace's sources may have changed since the last check (installed packages cannot: the lockfile is an input)
        const changed = session.files.filter((file) => !file.split(/[\\/]/).includes('node_modules'));
        await this.advance(session, { fileChanges: { changed } });
      } else {
        session = await this.open(compiler, configFile, key, options);
      }
      const output = await this.diagnose(session);
      signal.throwIfAborted();
      return output;
    } catch (error) {
      // a compiler that failed once is not trusted with the next check
      this.end(configFile);
      throw signal.aborted ? signal.reason : error;
    } finally {
      signal.removeEventListener('abort', kill);
    }
  }

  /** Stops every compiler. */
  async close(): Promise<void> {
    for (const configFile of [...this.sessions.keys()]) this.end(configFile);
  }

  private async open(compiler: NativeCompiler, configFile: string, key: string, { cwd, onStart }: RunOptions): Promise<Session> {
    const child = spawn(compiler.exe, ['--api', '--async', '--cwd', cwd], { cwd, stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true });
    if (child.pid !== undefined) onStart?.(child.pid);
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    connection.listen();
    const session: Session = { key, child, connection, snapshot: 0, project: '', files: [] };
    this.sessions.set(configFile, session);
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the TypeScript compiler's API process ended (exit code ${code ?? 'none'})`)));
    });
    exited.catch(() => {});
    const ready = (async () => {
      await connection.sendRequest('initialize');
      await this.advance(session, { openProjects: [configFile] });
    })();
    await Promise.race([ready, exited]);
    return session;
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
    const session = this.sessions.get(configFile);
    if (!session) return;
    this.sessions.delete(configFile);
    session.connection.dispose();
    session.child.kill('SIGKILL');
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

async function hashFiles(files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update('\0').update(await fs.readFile(file).catch(() => Buffer.alloc(0))).update('\0');
  return hash.digest('hex');
}
