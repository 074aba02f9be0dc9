/**
 * A reviewed plan is not tied to the folder it was made in: `plan --out` at
 * the repository root, `apply --plan` from the database package's folder
 * (the schema hash uses repository-relative paths). And the hint `plan --out`
 * prints is the command to type, with the environment it was made for.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, runCli } from './support/cli.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let work: string;

before(async () => {
  server = await startTestServer();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-reviewed-'));
});
after(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** A monorepo whose packages/database holds schema.sql and an atlas.hcl whose "staging" is a fresh database. */
async function monorepo(): Promise<{ root: string; database: string; url: string }> {
  const url = await server.createDatabase();
  const root = fs.mkdtempSync(path.join(work, 'repo-'));
  const database = path.join(root, 'packages', 'database');
  fs.mkdirSync(database, { recursive: true });
  const settings = { config: 'packages/database/atlas.hcl', schema: 'packages/database/schema.sql' };
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ private: true, workspaces: ['packages/*'], sqlfirst: settings }));
  fs.writeFileSync(path.join(database, 'package.json'), JSON.stringify({ name: '@repo/database', private: true }));
  fs.writeFileSync(path.join(database, 'atlas.hcl'), `env "staging" {\n  src = "file://schema.sql"\n  url = "${url}"\n}\n`);
  fs.writeFileSync(path.join(database, 'schema.sql'), 'CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL);\n');
  return { root, database, url };
}

describe('a reviewed plan', () => {
  test('made at the root with plan --out, applies with apply --plan from packages/database', async () => {
    const { root, database, url } = await monorepo();
    const plan = await runCli(['plan', '--env', 'staging', '--out', 'plan.json', '--no-typecheck'], { cwd: root });
    assert.equal(plan.code, 0, plan.output);
    assert.ok(fs.existsSync(path.join(root, 'plan.json')), 'the plan file is written where --out says, from the cwd');

    const applied = await runCli(['apply', '--env', 'staging', '--plan', path.join('..', '..', 'plan.json'), '--auto-approve', '--no-typecheck'], { cwd: database });
    assert.equal(applied.code, 0, applied.output);
    assert.match(applied.stdout, /Applied 1 statement/);
    assert.deepEqual(await server.query(url, "SELECT to_regclass('public.accounts') IS NOT NULL AS exists"), [{ exists: true }]);
  });

  test('plan --out prints the exact command that applies it, naming the environment', async () => {
    const { root } = await monorepo();
    const plan = await runCli(['plan', '--env', 'staging', '--out', 'plan.json', '--no-typecheck'], { cwd: root });
    assert.equal(plan.code, 0, plan.output);
    // run directly (not through npm or npx), the program is `node <the CLI, relative to the cwd>`
    const expected = `Apply exactly this plan with: node ${path.relative(root, CLI)} apply --env staging --plan plan.json`;
    const hint = plan.output.split('\n').find((line) => line.includes('Apply exactly this plan with:'));
    assert.equal(hint?.trim(), expected, plan.output);
  });
});
