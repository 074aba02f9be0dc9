/**
 * `npm run -s db:apply:sandbox -- --auto-approve` as a developer runs it, in
 * a fresh clone of the repository: it applies schema.sql to the sandbox over
 * verified TLS (sslmode=verify-full, against a private test server with a
 * self-signed certificate given as PGSSLROOTCERT) and leaves the clone
 * exactly as it was checked out: no types written, nothing else.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliResult } from './support/cli.js';
// the shadow on the target's server, as in every CLI test (a local shadow server per clone is shadow-server.test.ts's subject)
import './support/shadow-env.js';
import { requirePasswords, startTestServer, type TestServer } from './support/server.js';
import { enableTls } from './support/tls.js';

// dist/test → the repository root
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const USER = 'sandbox_script';
const PASSWORD = 'cl0ne:S@nd/box';
const DATABASE = `sandbox_script_${process.pid}`;

let tls: TestServer;
let work: string;
let clone: string;
let ca: string;

before(async () => {
  // private: TLS and pg_hba.conf changes must not reach other test files' connections
  tls = await startTestServer({ private: true });
  await requirePasswords(tls, USER, PASSWORD);
  await enableTls(tls);
  await tls.createDatabase(DATABASE);
  await tls.query(tls.url, `ALTER DATABASE "${DATABASE}" OWNER TO ${USER}`);
  const superuser = new URL(tls.url);
  superuser.pathname = `/${DATABASE}`;
  await tls.query(superuser.toString(), `ALTER SCHEMA public OWNER TO ${USER}`);

  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-sandbox-script-'));
  ca = path.join(work, 'sandbox-ca.crt');
  fs.copyFileSync(path.join(tls.dataDir, 'server.crt'), ca);
  // a fresh clone as bench/loop.mjs makes it: the installed dependencies linked, the built scripts copied
  clone = path.join(work, 'clone');
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone]);
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(clone, 'node_modules'), 'junction');
  fs.cpSync(path.join(REPO, 'scripts', 'dist'), path.join(clone, 'scripts', 'dist'), { recursive: true });
  asCloned = gitStatus();
});

let asCloned: string;
function gitStatus(): string {
  return execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: clone, encoding: 'utf8' });
}

after(async () => {
  await tls?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** This process's environment without any database variable, plus `set`. */
function sandboxEnv(set: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env)) {
    // ours, libpq's PGHOST, PGPASSWORD, … (node-postgres reads them too), and an npm script's own context
    if (/^(DATABASE_|LIVERMORE_|PG_(SANDBOX|PRODUCTION)_|PG[A-Z]+$|npm_)/.test(name)) delete env[name];
  }
  return { ...env, ...set };
}

function npmRun(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NPM, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, pid: child.pid ?? 0, stdout, stderr, output: stdout + stderr });
    });
  });
}

describe('npm run db:apply:sandbox in a fresh clone', () => {
  test('applies schema.sql over verify-full TLS and leaves the clone unchanged', async () => {
    const env = sandboxEnv({ PG_SANDBOX_HOST: '127.0.0.1', PG_SANDBOX_PORT: String(tls.port), PG_SANDBOX_USER: USER, PG_SANDBOX_PASSWORD: PASSWORD, PGSSLROOTCERT: ca });
    const result = await npmRun(['run', '-s', 'db:apply:sandbox', '--', '--auto-approve', '--var', `sandbox_database=${DATABASE}`], clone, env);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /Environment\s+sandbox\b/);
    assert.match(result.stdout, new RegExp(`Target\\s+postgres://${USER}:\\*\\*\\*\\*@127\\.0\\.0\\.1:${tls.port}/${DATABASE}\\?sslmode=verify-full`));
    assert.match(result.stdout, /✔ Applied \d+ statements/);
    assert.ok(!result.output.includes(PASSWORD), 'the password is never printed');
    // apply only: no type step runs (types equal to the committed ones would leave git status clean)
    assert.doesNotMatch(result.stdout, /write types|Drizzle types/);

    const db = new URL(tls.url);
    db.pathname = `/${DATABASE}`;
    const [{ orders, events }] = await tls.query<{ orders: boolean; events: boolean }>(db.toString(), "SELECT to_regclass('public.orders') IS NOT NULL AS orders, to_regclass('audit.events') IS NOT NULL AS events");
    assert.deepEqual({ orders, events }, { orders: true, events: true });

    // no types written, nothing else: the working tree is as cloned (scripts/dist and .sqlfirst/ are git-ignored)
    assert.equal(asCloned, '', 'a fresh clone (its node_modules link git-ignored) is clean');
    assert.equal(gitStatus(), '');
  });
});
