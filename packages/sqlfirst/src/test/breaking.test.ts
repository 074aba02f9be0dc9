/**
 * Type-safe schema changes: a change that breaks the TypeScript using the
 * database is listed under the plan with file and line, refused for a shared
 * environment unless --allow-breaking, and the committed files stay as they are.
 * Runs in a copy of the monorepo's layout in the temporary folder, with its
 * own atlas.hcl whose "sandbox" points at a test server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './support/cli.js';
import { startTestServer, type TestServer } from './support/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..', '..');
let server: TestServer;
let copy: string;
let schemaFile: string;
const original = fs.readFileSync(path.join(repo, 'packages', 'database', 'schema.sql'), 'utf8');

function hashTree(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else hash.update(full).update(fs.readFileSync(full));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

const committed = () => ['packages/database/src', 'packages/trading-core/src'].map((d) => hashTree(path.join(repo, d))).join();
let committedBefore: string;

/**
 * A copy of the monorepo's layout in the temporary folder: the database and
 * trading-core packages, a root package.json with the "sqlfirst" settings, and
 * node_modules linking to the repository's, the workspace packages being the copies.
 */
before(async () => {
  committedBefore = committed();
  server = await startTestServer();
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-breaking-'));
  for (const pkg of ['database', 'trading-core']) {
    for (const item of ['package.json', 'tsconfig.json', 'src']) {
      fs.cpSync(path.join(repo, 'packages', pkg, item), path.join(copy, 'packages', pkg, item), { recursive: true });
    }
  }
  schemaFile = path.join(copy, 'packages', 'database', 'schema.sql');
  fs.writeFileSync(schemaFile, original);
  const settings = { config: 'packages/database/atlas.hcl', schema: 'packages/database/schema.sql', types: 'packages/database/src/schema' };
  fs.writeFileSync(path.join(copy, 'package.json'), JSON.stringify({ private: true, workspaces: ['packages/database', 'packages/trading-core'], sqlfirst: settings }));
  const modules = path.join(copy, 'node_modules');
  fs.mkdirSync(path.join(modules, '@livermore'), { recursive: true });
  for (const entry of fs.readdirSync(path.join(repo, 'node_modules'))) {
    if (!['@livermore', '.bin', '.package-lock.json'].includes(entry)) fs.symlinkSync(path.join(repo, 'node_modules', entry), path.join(modules, entry), 'junction');
  }
  for (const pkg of ['database', 'trading-core']) fs.symlinkSync(path.join(copy, 'packages', pkg), path.join(modules, '@livermore', pkg), 'junction');
  fs.writeFileSync(
    path.join(copy, 'packages', 'database', 'atlas.hcl'),
    ['env "sandbox" {', '  src = "file://schema.sql"', '  url = getenv("BREAKING_TEST_URL")', '  schemas = ["public", "audit"]', '}', ''].join('\n'),
  );
});

after(async () => {
  await server?.stop();
  fs.rmSync(copy, { recursive: true, force: true });
});

function sandbox(args: string[], url: string) {
  return runCli([...args, '--env', 'sandbox'], { cwd: copy, env: { BREAKING_TEST_URL: url } });
}

describe('a change that breaks the code using the database', () => {
  test('is listed with file and line, refused for sandbox, applied with --allow-breaking; a harmless change passes', async () => {
    const url = await server.createDatabase();
    fs.writeFileSync(schemaFile, original);
    const first = await sandbox(['apply', '--auto-approve'], url);
    assert.equal(first.code, 0, first.output);
    assert.doesNotMatch(first.output, /break the TypeScript|Refusing to apply/);

    // trading-core reads and writes orders.average_price
    fs.writeFileSync(schemaFile, original.replace(/^\s*average_price\s+numeric\(20,8\),\n/m, ''));
    assert.notEqual(fs.readFileSync(schemaFile, 'utf8'), original);
    const plan = await sandbox(['plan'], url);
    assert.equal(plan.code, 0, plan.output);
    // filed under the drop, through the column's generated name (averagePrice), with the whole message
    assert.match(plan.stdout, /These changes break the TypeScript that uses the database:\n\s+ALTER TABLE "public"\."orders" DROP COLUMN "average_price"\n\s+→ packages\/trading-core\/src\/orders\.ts:\d+ .*'averagePrice'/);
    assert.doesNotMatch(plan.stdout, /other changes/);

    const refused = await sandbox(['apply', '--auto-approve', '--allow-data-loss'], url);
    assert.equal(refused.code, 1, refused.output);
    assert.match(refused.stderr, /Refusing to apply: the new schema breaks \d+ places? in the workspace's TypeScript .*--allow-breaking/);
    const stillThere = await server.query(url, "SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'average_price'");
    assert.equal(stillThere.length, 1, 'nothing was applied');

    const allowed = await sandbox(['apply', '--auto-approve', '--allow-data-loss', '--allow-breaking'], url);
    assert.equal(allowed.code, 0, allowed.output);
    assert.match(allowed.stdout, /The new schema breaks the TypeScript that uses the database:/);
    assert.match(allowed.stdout, /! Applied \d+ statements? .*, but \d+ places? in the TypeScript no longer compile/);

    // a change no code depends on
    fs.writeFileSync(schemaFile, `${original}\nCREATE TABLE harmless (id int PRIMARY KEY);\n`);
    const fine = await sandbox(['apply', '--auto-approve'], await server.createDatabase());
    assert.equal(fine.code, 0, fine.output);
    assert.doesNotMatch(fine.output, /break the TypeScript|Refusing to apply/);
  });

  test('the committed files were never modified', () => {
    assert.equal(committed(), committedBefore);
  });
});
