/**
 * The target of a run: the database a URL names, or the embedded server's
 * database when no URL is configured (local use). Opening it checks the
 * connection and says which server it is.
 */
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { checkConnection, openPool, type ServerInfo } from './connect.js';
import { maskUrl, parseTarget, withDatabase, type ConnectionTarget } from './url.js';

export interface OpenTarget {
  target: ConnectionTarget;
  server: ServerInfo;
  /** the embedded server's database (local use, nothing configured) */
  embedded: boolean;
  /** stops what opening started (the embedded server) */
  close(): Promise<void>;
}

export const EMBEDDED_DATABASE = 'sqlfirst';

/** The folder of the embedded server's data, under the repository root. */
export function embeddedDataDir(root: string): string {
  return path.join(root, '.sqlfirst', 'postgres');
}

export async function openUrl(url: string, connectTimeoutMs?: number): Promise<OpenTarget> {
  const target = parseTarget(url);
  const server = await checkConnection(target, { connectTimeoutMs });
  return { target, server, embedded: false, close: async () => {} };
}

/** Starts the embedded server when needed and connects to its database, creating it on first use. */
export async function openEmbedded(root: string): Promise<OpenTarget> {
  const { startEmbeddedServer } = await import('../embedded/server.js');
  const embedded = await startEmbeddedServer(embeddedDataDir(root));
  try {
    const admin = openPool(parseTarget(embedded.url));
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
      if (!rowCount) await admin.query(`CREATE DATABASE "${EMBEDDED_DATABASE}"`);
    } finally {
      await admin.end();
    }
    const target = parseTarget(withDatabase(embedded.url, EMBEDDED_DATABASE));
    const server = await checkConnection(target);
    return { target, server, embedded: true, close: () => embedded.stop() };
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

/** --dev-url, checked to run the target's major version. */
export async function openDevServer(devUrl: string, open: OpenTarget, connectTimeoutMs?: number): Promise<ConnectionTarget> {
  const server = parseTarget(devUrl, '--dev-url');
  const dev = await checkConnection(server, { connectTimeoutMs });
  if (Math.floor(dev.versionNum / 10000) !== Math.floor(open.server.versionNum / 10000)) {
    throw new SqlfirstError(
      `The dev database ${maskUrl(server.url)} runs PostgreSQL ${dev.version} but the target runs ${open.server.version}; a shadow on another major version gives spurious differences, so use a dev server of the same major version.`,
      { step: 'load schema' },
    );
  }
  return server;
}
