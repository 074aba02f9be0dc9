/**
 * Checks that must happen before anything connects, and interrupts that must
 * leave nothing behind: a default schema file that leads out of the repository,
 * and Ctrl-C while a schema statement runs in the shadow.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, runCli } from './support/cli.js';
import { leftoverShadows, sessionsOfProcess, startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let work: string;

before(async () => {
  server = await startTestServer();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-early-'));
});
after(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('before anything connects', () => {
  test('a default schema.sql that is a link out of the repository is refused, and nothing of the file is shown', async () => {
    const repo = fs.mkdtempSync(path.join(work, 'repo-'));
    fs.writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ workspaces: [] }));
    const secret = path.join(work, 'secret.txt');
    fs.writeFileSync(secret, 'TOP-SECRET-FIRST-LINE\n');
    fs.symlinkSync(secret, path.join(repo, 'schema.sql'));
    // a closed port: any connection attempt would be a different error
    const result = await runCli(['plan', '--url', 'postgres://someone@127.0.0.1:1/db?sslmode=disable'], { cwd: repo });
    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, /^✖ Failed at read schema: The default schema file schema\.sql leads outside the repository \(to .*secret\.txt\); pass it explicitly with --to if that is meant\.$/m);
    assert.ok(!result.output.includes('TOP-SECRET'), 'the file was read');
  });
});

describe('interrupted while the shadow loads', () => {
  test('Ctrl-C during a long schema statement drops the shadow and ends its session at once', async () => {
    const url = await server.createDatabase();
    const schema = path.join(work, 'slow.sql');
    fs.writeFileSync(schema, 'CREATE TABLE t (id int);\nSELECT pg_sleep(60);\n');
    const child = spawn(process.execPath, [CLI, 'plan', '--url', url, '--to', schema], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // the moment to interrupt: the shadow session is inside pg_sleep
    let sleeping = false;
    for (let i = 0; i < 600 && !sleeping; i++) {
      const sessions = await sessionsOfProcess<{ query: string }>(server, child.pid, 'query');
      sleeping = sessions.some((s) => /pg_sleep/.test(s.query));
      if (!sleeping) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(sleeping, `the shadow never ran the long statement:\n${output}`);
    const interruptedAt = Date.now();
    child.kill('SIGINT');
    assert.equal(await exited, 1, output);
    assert.ok(Date.now() - interruptedAt < 8_000, `the run took ${Date.now() - interruptedAt} ms to stop`);
    assert.match(output, /Interrupted by SIGINT/);
    // the server ends a terminated backend within moments
    let left = await sessionsOfProcess(server, child.pid);
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = await sessionsOfProcess(server, child.pid);
    }
    assert.deepEqual(left, [], 'a session of the run is left');
    assert.deepEqual(await leftoverShadows(server), [], 'the shadow is left');
  });
});
