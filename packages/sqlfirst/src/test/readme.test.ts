/**
 * The README's commands, typed as a new user types them, in a fresh clone of
 * the repository (its committed state) made in the temporary folder and set up
 * with `npm ci`, with no database variables set. Nothing is written into the
 * working tree.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** Variables a new user has none of: the databases', and those of an npm process this test may run under. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env)) {
    if (/^(npm_|DATABASE_|PG_|LIVERMORE_|SQLFIRST_)/i.test(name) || name === 'INIT_CWD') delete env[name];
  }
  return env;
}

/** npm and npx as the user's shell finds them: beside the npm running the tests, else on the PATH. */
function tool(name: 'npm' | 'npx'): { command: string; prefix: string[]; shell: boolean } {
  const npmCli = process.env.npm_execpath;
  if (npmCli && npmCli.endsWith('.js')) return { command: process.execPath, prefix: [path.join(path.dirname(npmCli), `${name}-cli.js`)], shell: false };
  // Windows' npm is a .cmd script, which only a shell runs
  return { command: name, prefix: [], shell: process.platform === 'win32' };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

function run(name: 'npm' | 'npx' | 'git', args: string[], cwd: string, timeoutMs = 300_000): Promise<Run> {
  const { command, prefix, shell } = name === 'git' ? { command: 'git', prefix: [], shell: false } : tool(name);
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args], { cwd, env: userEnvironment(), shell, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, output: stdout + stderr });
    });
  });
}

describe('the README, typed by a new user on a fresh clone', () => {
  let parent: string;
  let clone: string;

  before(async () => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-readme-'));
    // the embedded server runs as the postgres user when tests run as root: it must reach the clone's .sqlfirst/
    fs.chmodSync(parent, 0o755);
    clone = path.join(parent, 'livermore');
    const cloned = await run('git', ['clone', '--quiet', REPO, clone], parent);
    assert.equal(cloned.code, 0, cloned.output);
    // the lock file's packages come from npm's cache when it has them (as in CI), else from the registry
    const installed = await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], clone, 600_000);
    assert.equal(installed.code, 0, `npm ci failed in the fresh clone:\n${installed.output}`);
  });

  after(() => {
    if (parent) fs.rmSync(parent, { recursive: true, force: true });
  });

  it('npx sqlfirst works right after npm ci, from the root and from a workspace folder, and after a rebuild', async () => {
    const version = (JSON.parse(fs.readFileSync(path.join(clone, 'packages', 'sqlfirst', 'package.json'), 'utf8')) as { version: string }).version;
    for (const cwd of [clone, path.join(clone, 'packages', 'trading-core')]) {
      const result = await run('npx', ['sqlfirst', '--version'], cwd);
      assert.equal(result.code, 0, result.output);
      assert.equal(result.stdout.trim(), version);
    }
    const rebuilt = await run('npm', ['run', 'build', '--workspace', 'packages/sqlfirst'], clone);
    assert.equal(rebuilt.code, 0, rebuilt.output);
    const help = await run('npx', ['sqlfirst', '--help'], clone);
    assert.equal(help.code, 0, help.output);
    assert.match(help.stdout, /^Usage: sqlfirst /m);
    for (const command of ['plan', 'apply', 'sync', 'types', 'check']) assert.match(help.stdout, new RegExp(`^ {2}${command}\\b`, 'm'), command);
  });

  it('--help shows examples, the environment variables and the exit codes', async () => {
    const top = await run('npx', ['sqlfirst', '--help'], clone);
    assert.match(top.stdout, /^Examples:\n {2}npx sqlfirst sync\b/m);
    assert.match(top.stdout, /PG_SANDBOX_HOST/);
    assert.match(top.stdout, /^Exit codes:/m);
    const plan = await run('npx', ['sqlfirst', 'plan', '--help'], clone);
    assert.match(plan.stdout, /^ {2}npx sqlfirst plan --env production --out plan\.json\b/m);
    assert.match(plan.stdout, /^ {2}2 {2}--exit-code and changes are pending$/m);
  });

  it('npm run -s db:apply:sandbox -- --auto-approve --json | jq: stdout is one JSON document', async () => {
    const result = await run('npm', ['run', '-s', 'db:apply:sandbox', '--', '--auto-approve', '--json'], clone);
    assert.equal(result.code, 1, result.output);
    const document = JSON.parse(result.stdout) as { ok: boolean; command: string; error: string };
    assert.equal(document.ok, false);
    // no sandbox variable is set: the one sentence names them all
    for (const variable of ['PG_SANDBOX_HOST', 'PG_SANDBOX_USER', 'PG_SANDBOX_PASSWORD']) assert.ok(document.error.includes(variable), document.error);
  });

  it('npm run db:sync --allow-data-loss (without --) stops with the right form, running nothing', async () => {
    const result = await run('npm', ['run', 'db:sync', '--allow-data-loss'], clone);
    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, /^✖ npm kept --allow-data-loss for itself, so nothing was run; write it after --: npm run db:sync -- --allow-data-loss$/m);
    assert.equal(fs.existsSync(path.join(clone, '.sqlfirst', 'postgres')), false, 'no database was started');
  });

  it('npm run db:sync from packages/trading-core syncs the repository (embedded database at the root)', async () => {
    const result = await run('npm', ['run', '-s', 'db:sync', '--', '--json'], path.join(clone, 'packages', 'trading-core'));
    assert.equal(result.code, 0, result.output);
    const document = JSON.parse(result.stdout) as { ok: boolean; command: string };
    assert.equal(document.ok, true, result.stdout);
    assert.ok(fs.existsSync(path.join(clone, '.sqlfirst', 'postgres', 'PG_VERSION')), 'the embedded data lives at the repository root');
    assert.equal(fs.existsSync(path.join(clone, 'packages', 'trading-core', '.sqlfirst')), false);
  });
});
