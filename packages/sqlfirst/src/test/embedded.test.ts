/**
 * The embedded PostgreSQL shared by concurrent runs: starts are exclusive (one initdb),
 * and the server keeps running while any live run uses it, whoever started it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { startEmbeddedServer, type EmbeddedServer } from '../embedded/server.js';
import { SqlfirstError } from '../errors.js';

const folders: string[] = [];
const servers: EmbeddedServer[] = [];

after(async () => {
  for (const server of servers) await server.stop().catch(() => {});
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
});

/** A folder the postgres user can enter (the tests may run as root). */
function folder(mode = 0o755): string {
  const made = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-embedded-'));
  fs.chmodSync(made, mode);
  folders.push(made);
  return made;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function postmasterRunning(dataDir: string): boolean {
  return fs.existsSync(path.join(dataDir, 'postmaster.pid'));
}

describe('embedded server shared by concurrent runs', () => {
  test('two first starts run one initdb and share one server; it stops when the last live user leaves', async () => {
    const dataDir = path.join(folder(), '.sqlfirst', 'postgres');
    // two runs starting at once on a folder that has never been initialised
    const [first, second] = await Promise.all([startEmbeddedServer(dataDir), startEmbeddedServer(dataDir)]);
    servers.push(first, second);
    assert.equal(first.url, second.url, 'both runs use the one server');
    assert.ok(await answers(second.url));

    // a marker left by a run that died does not keep the server alive
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    fs.writeFileSync(path.join(`${dataDir}.users`, `deadbeef-${dead}`), '');

    await first.stop();
    assert.ok(await answers(second.url), 'the run that started the server left it running for the one still using it');
    await second.stop();
    assert.equal(postmasterRunning(dataDir), false, 'the last run out stopped the server');
    assert.deepEqual(fs.readdirSync(`${dataDir}.users`), [], 'no markers are left');
    assert.equal(fs.existsSync(`${dataDir}.lock`), false, 'no lock is left');

    // and the folder starts again, without another initdb
    const third = await startEmbeddedServer(dataDir);
    servers.push(third);
    assert.ok(await answers(third.url));
    await third.stop();
    assert.equal(postmasterRunning(dataDir), false);
  });

  test('as root, a data folder under a folder the postgres user cannot enter fails in one sentence before initdb', { skip: process.getuid?.() !== 0 && 'only root runs the server as another user' }, async () => {
    const closed = folder(0o700);
    const dataDir = path.join(closed, 'checkout', '.sqlfirst', 'postgres');
    const error = await startEmbeddedServer(dataDir).then(
      (server) => {
        servers.push(server);
        return assert.fail('the server started under a 0700 folder');
      },
      (rejection: unknown) => rejection,
    );
    assert.ok(error instanceof SqlfirstError, String(error));
    assert.equal(
      error.message,
      `The embedded PostgreSQL runs as the "postgres" user when sqlfirst runs as root, and that user cannot enter ${closed} (mode 700) to keep its data in ${dataDir}; run sqlfirst as a normal user, move the checkout to a folder every user can enter (not under /root), or pass --url to use another server.`,
    );
    assert.equal(fs.existsSync(path.join(closed, 'checkout')), false, 'nothing was created');
  });
});
