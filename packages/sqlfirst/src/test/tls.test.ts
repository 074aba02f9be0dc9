/**
 * TLS that verifies the server: a test server whose certificate is signed by a CA this
 * test creates. verify-full refuses it until that CA is given (sslrootcert in the URL or
 * PGSSLROOTCERT), and a session it accepts is encrypted (pg_stat_ssl).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { generate } from 'selfsigned';
import { SqlfirstError } from '../errors.js';
import { checkConnection, openPool } from '../target/connect.js';
import { parseTarget } from '../target/url.js';
import { startTestServer, type TestServer } from './support/server.js';
import { enableTls } from './support/tls.js';

let server: TestServer;
let folder: string;
/** the CA that signed the server's certificate, and one that did not */
let caFile: string;
let otherCaFile: string;

before(async () => {
  server = await startTestServer({ private: true });
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-tls-'));
  await enableTls(server);
  const ca = await certificateAuthority('sqlfirst test CA');
  const other = await certificateAuthority('another CA');
  caFile = path.join(folder, 'ca.crt');
  otherCaFile = path.join(folder, 'other-ca.crt');
  fs.writeFileSync(caFile, ca.cert);
  fs.writeFileSync(otherCaFile, other.cert);
  const leaf = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ca: { key: ca.key, cert: ca.cert },
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  await replaceServerCertificate(leaf.cert, leaf.private, ca.cert);
});

after(async () => {
  await server?.stop();
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
});

async function certificateAuthority(name: string): Promise<{ cert: string; key: string }> {
  const made = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
    ],
  });
  return { cert: made.cert, key: made.private };
}

/**
 * enableTls turned TLS on with a self-signed certificate; this puts the CA-signed one in
 * its place (same files, same owner and mode) and waits until new sessions present it.
 */
async function replaceServerCertificate(cert: string, key: string, caPem: string): Promise<void> {
  for (const [name, text] of [['server.crt', cert], ['server.key', key]]) {
    const file = path.join(server.dataDir, name);
    const { uid, gid, mode } = fs.statSync(file);
    fs.writeFileSync(file, text);
    if (process.platform !== 'win32') {
      fs.chmodSync(file, mode & 0o777);
      if (process.getuid?.() === 0) fs.chownSync(file, uid, gid);
    }
  }
  await server.query(server.url, 'SELECT pg_reload_conf()');
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', ssl: { ca: caPem, rejectUnauthorized: true } });
    client.on('error', () => {});
    try {
      await client.connect();
      return;
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

function url(query: string): string {
  return `postgres://postgres@127.0.0.1:${server.port}/postgres?${query}`;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('the connection was accepted'),
    (rejection: unknown) => rejection,
  );
  assert.ok(error instanceof SqlfirstError, `not a SqlfirstError: ${String(error)}`);
  assert.equal(error.message.split('\n').length, 1);
  return error.message;
}

describe('verify-full', () => {
  test('a server whose CA this machine does not trust is refused, saying to set PGSSLROOTCERT', async () => {
    const message = await refusal(checkConnection(parseTarget(url('sslmode=verify-full'), 'database URL', {})));
    assert.match(
      message,
      /^The server at 127\.0\.0\.1:\d+ presented a TLS certificate that could not be verified \([A-Z_]+, .*\); if the server uses a private or self-signed CA, set PGSSLROOTCERT \(or sslrootcert=FILE in the URL\) to that CA's certificate file, and run again\.$/,
    );
  });

  test('a CA that did not sign the certificate is refused, naming the file', async () => {
    const message = await refusal(checkConnection(parseTarget(url('sslmode=verify-full'), 'database URL', { PGSSLROOTCERT: otherCaFile })));
    assert.ok(message.includes(`the CA certificate ${otherCaFile} (sslrootcert or PGSSLROOTCERT) did not sign it`), message);
  });

  test('sslrootcert in the URL: accepted, and the session is encrypted', async () => {
    const target = parseTarget(url(`sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`), 'database URL', {});
    await checkConnection(target);
    const pool = openPool(target);
    try {
      const { rows } = await pool.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      assert.equal(rows[0].ssl, true);
    } finally {
      await pool.end();
    }
  });

  test('PGSSLROOTCERT: accepted, and the session is encrypted', async () => {
    const target = parseTarget(url('sslmode=verify-full'), 'database URL', { PGSSLROOTCERT: caFile });
    const pool = openPool(target);
    try {
      const { rows } = await pool.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      assert.equal(rows[0].ssl, true);
    } finally {
      await pool.end();
    }
  });

  test('an unreadable CA file is one sentence', async () => {
    const missing = path.join(folder, 'missing.crt');
    const message = await refusal(checkConnection(parseTarget(url('sslmode=verify-full'), 'database URL', { PGSSLROOTCERT: missing })).then(() => undefined));
    assert.equal(message, `The CA certificate file ${missing} (sslrootcert or PGSSLROOTCERT) cannot be read; check the path, or unset it to trust this machine's CAs.`);
  });
});

describe('require (libpq semantics)', () => {
  test('encrypts without verifying when no CA is given', async () => {
    await checkConnection(parseTarget(url('sslmode=require'), 'database URL', {}));
  });

  test('verifies the CA when one is given', async () => {
    await refusal(checkConnection(parseTarget(url('sslmode=require'), 'database URL', { PGSSLROOTCERT: otherCaFile })));
    await checkConnection(parseTarget(url('sslmode=require'), 'database URL', { PGSSLROOTCERT: caFile }));
  });
});
