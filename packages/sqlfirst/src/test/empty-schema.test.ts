/**
 * An empty schema file means "drop everything": refused before any
 * connection, unless --allow-empty; even then the plan lists every drop and
 * the data-loss gate holds until --allow-data-loss.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/cli.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let work: string;

before(async () => {
  server = await startTestServer();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-empty-'));
});
after(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const TABLES = ['accounts', 'orders', 'fills'];

/** A project whose "sandbox" is a database with three tables holding rows, and an empty schema.sql (comments only). */
async function project(url: string): Promise<string> {
  const root = fs.mkdtempSync(path.join(work, 'project-'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ workspaces: [] }));
  fs.writeFileSync(path.join(root, 'atlas.hcl'), `env "sandbox" {\n  src = "file://schema.sql"\n  url = "${url}"\n}\n`);
  fs.writeFileSync(path.join(root, 'schema.sql'), '-- nothing here yet\n');
  return root;
}

async function tables(url: string): Promise<string[]> {
  const rows = await server.query<{ name: string }>(url, "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
  return rows.map((r) => r.name);
}

function apply(root: string, flags: string[]) {
  return runCli(['apply', '--env', 'sandbox', '--auto-approve', '--no-typecheck', ...flags], { cwd: root });
}

describe('an empty schema file', () => {
  test('is refused before connecting', async () => {
    // a port nothing listens on: a run that tried to connect would fail with a connection error instead
    const root = await project('postgres://postgres@127.0.0.1:1/none?sslmode=disable');
    const result = await apply(root, []);
    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, /an empty schema would drop everything/);
    assert.doesNotMatch(result.output, /✓ connect|connect(ion)? refused|ECONNREFUSED/i);
    assert.equal(result.stderr.trim().split('\n').length, 1, `one sentence:\n${result.stderr}`);
  });

  test('with --allow-empty lists every drop and still needs --allow-data-loss; with both, every table is dropped', async () => {
    const url = await server.createDatabase();
    await server.query(url, TABLES.map((t) => `CREATE TABLE ${t} (id int PRIMARY KEY); INSERT INTO ${t} VALUES (1);`).join('\n'));
    const root = await project(url);

    const refused = await apply(root, ['--allow-empty']);
    assert.equal(refused.code, 1, refused.output);
    for (const table of TABLES) assert.match(refused.stdout, new RegExp(`DROP TABLE "public"\\."${table}";\\s+-- DATA LOSS`), `the plan lists the drop of ${table}`);
    assert.match(refused.stderr, /Refusing to apply 3 statements that would lose data/);
    assert.deepEqual(await tables(url), [...TABLES].sort(), 'nothing was dropped');

    const dropped = await apply(root, ['--allow-empty', '--allow-data-loss']);
    assert.equal(dropped.code, 0, dropped.output);
    assert.deepEqual(await tables(url), []);
  });
});
