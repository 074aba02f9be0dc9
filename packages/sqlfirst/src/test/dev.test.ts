/**
 * `sqlfirst dev` as a developer uses it: started in a project, the schema
 * file saved, one block printed per save; the database and the types follow.
 * A change that loses data is not applied without consent, shared
 * environments are refused, and Ctrl-C leaves no session behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SHADOW_LOCK_CLASS, shadowLockKey } from '../shadow/index.js';
import { CLI, runCli } from './support/cli.js';
import { sessionsOfProcess, startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let work: string;

before(async () => {
  server = await startTestServer();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-dev-'));
});
after(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** A project whose local environment is a fresh database on the test server. */
async function project(sql: string): Promise<{ root: string; schema: string; url: string }> {
  const url = await server.createDatabase();
  const root = fs.mkdtempSync(path.join(work, 'project-'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ workspaces: [], sqlfirst: { schema: 'schema.sql', types: 'types' } }));
  fs.writeFileSync(path.join(root, 'atlas.hcl'), `env "local" {\n  src = "file://schema.sql"\n  url = "${url}"\n}\n`);
  fs.writeFileSync(path.join(root, 'schema.sql'), sql);
  return { root, schema: path.join(root, 'schema.sql'), url };
}

function startDev(root: string, args: string[] = []) {
  const child = spawn(process.execPath, [CLI, 'dev', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  /** resolves once `count` blocks (lines starting with ● or ✖) were printed */
  const blocks = async (count: number) => {
    for (let i = 0; i < 600; i++) {
      if ((output.match(/^[●✖] /gm) ?? []).length >= count) return output;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${count} blocks within 30 s:\n${output}`);
  };
  /** resolves once the ready line (after the first block) was printed */
  const ready = async () => {
    for (let i = 0; i < 600; i++) {
      if (/Watching /.test(output)) return output;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ready line within 30 s:\n${output}`);
  };
  return { child, exited, blocks, ready, output: () => output };
}

/** Shadow databases whose ownership lock a session of process `pid` holds. */
async function spareShadows(pid: number | undefined): Promise<string[]> {
  const held = await server.query<{ key: number }>(
    server.url,
    `SELECT l.objid::bigint AS key FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.classid = $1::bigint::oid AND a.application_name LIKE $2`,
    [SHADOW_LOCK_CLASS, `sqlfirst:${pid}:%`],
  );
  const keys = new Set(held.map((row) => Number(row.key) | 0));
  const shadows = await server.query<{ datname: string }>(server.url, "SELECT datname FROM pg_database WHERE datname LIKE 'sqlfirst\\_shadow\\_%'");
  return shadows.map((row) => row.datname).filter((name) => keys.has(shadowLockKey(name)));
}

async function columns(url: string, table: string): Promise<string[]> {
  const rows = await server.query<{ column_name: string }>(url, 'SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position', [table]);
  return rows.map((r) => r.column_name);
}

describe('sqlfirst dev', () => {
  test('each save syncs the database and the types, one block per save; Ctrl-C leaves nothing running', async () => {
    const { root, schema, url } = await project('CREATE TABLE items (id int PRIMARY KEY);\n');
    const dev = startDev(root);
    let spare: string[] = [];
    try {
      assert.match(await dev.ready(), /Watching schema\.sql and atlas\.hcl/);
      assert.equal((dev.output().match(/^[●✖] /gm) ?? []).length, 1, 'the first sync is printed before the ready line');
      assert.deepEqual(await columns(url, 'items'), ['id']);
      fs.writeFileSync(schema, 'CREATE TABLE items (id int PRIMARY KEY, name text);\n');
      const second = await dev.blocks(2);
      assert.match(second, /● \S+ schema\.sql {2}applied 1 statement · types updated \(schema\.ts\)/);
      assert.match(second, /alters 1 table/);
      assert.deepEqual(await columns(url, 'items'), ['id', 'name']);
      assert.match(fs.readFileSync(path.join(root, 'types', 'schema.ts'), 'utf8'), /name: text\(\)/);
      // made once the save's block is printed and its run released
      for (let i = 0; i < 100 && spare.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        spare = await spareShadows(dev.child.pid);
      }
      assert.equal(spare.length, 1, 'the next save\'s empty shadow database is made while dev waits');
    } finally {
      dev.child.kill('SIGINT');
    }
    assert.equal(await dev.exited, 0, dev.output());
    assert.match(dev.output(), /Stopped watching; nothing is left running/);
    const sessions = await sessionsOfProcess(server, dev.child.pid);
    assert.deepEqual(sessions, [], 'no session of sqlfirst dev is left');
    const left = await server.query(server.url, 'SELECT datname FROM pg_database WHERE datname = ANY($1)', [spare]);
    assert.deepEqual(left, [], 'the spare shadow database is dropped');
  });

  test('a change that loses data is not applied without consent; --allow-data-loss applies it', async () => {
    const { root, schema, url } = await project('CREATE TABLE items (id int PRIMARY KEY, name text);\n');
    await server.query(url, 'SELECT 1');
    const dev = startDev(root);
    try {
      // a save is seen once the ready line is printed
      await dev.ready();
      await server.query(url, "INSERT INTO items VALUES (1, 'bolt')");
      fs.writeFileSync(schema, 'CREATE TABLE items (id int PRIMARY KEY);\n');
      const refused = await dev.blocks(2);
      assert.match(refused, /✖ \S+ schema\.sql {2}Refusing to apply 1 statement that would lose data/);
      assert.deepEqual(await columns(url, 'items'), ['id', 'name'], 'nothing was dropped');
    } finally {
      dev.child.kill('SIGINT');
    }
    await dev.exited;
    const allowed = startDev(root, ['--allow-data-loss']);
    try {
      await allowed.ready();
      assert.deepEqual(await columns(url, 'items'), ['id']);
    } finally {
      allowed.child.kill('SIGINT');
    }
    assert.equal(await allowed.exited, 0, allowed.output());
  });

  test('saves during a run are queued, never interleaved', async () => {
    const { root, schema, url } = await project('CREATE TABLE items (id int PRIMARY KEY);\n');
    const dev = startDev(root);
    try {
      await dev.ready();
      for (const i of [0, 1, 2]) {
        fs.writeFileSync(schema, `CREATE TABLE items (id int PRIMARY KEY, ${['a', 'b', 'c'].slice(0, i + 1).map((c) => `${c} int`).join(', ')});\n`);
        await new Promise((r) => setTimeout(r, 120));
      }
      // the last save wins, whatever the number of runs it took
      for (let i = 0; i < 300 && (await columns(url, 'items')).length < 4; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(await columns(url, 'items'), ['id', 'a', 'b', 'c']);
      assert.doesNotMatch(dev.output(), /Another sqlfirst apply is running/, 'no run waited for another');
    } finally {
      dev.child.kill('SIGINT');
    }
    assert.equal(await dev.exited, 0, dev.output());
  });

  test('Ctrl-C during the first sync stops it cleanly once that sync ends', async () => {
    const { root } = await project('CREATE TABLE items (id int PRIMARY KEY);\n');
    const dev = startDev(root);
    for (let i = 0; i < 600 && !/✓ connect/.test(dev.output()); i++) await new Promise((r) => setTimeout(r, 10));
    assert.doesNotMatch(dev.output(), /Watching /, 'the signal must come during the first sync');
    dev.child.kill('SIGINT');
    const hung = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 30_000).unref());
    const code = await Promise.race([dev.exited, hung]);
    if (code === 'hung') dev.child.kill('SIGKILL');
    assert.equal(code, 0, dev.output());
    assert.deepEqual(await sessionsOfProcess(server, dev.child.pid), [], 'no session of sqlfirst dev is left');
  });

  test('refuses a shared environment', async () => {
    const { root } = await project('CREATE TABLE items (id int PRIMARY KEY);\n');
    fs.appendFileSync(path.join(root, 'atlas.hcl'), 'env "sandbox" {\n  src = "file://schema.sql"\n  url = "postgres://nobody@127.0.0.1:1/none"\n}\n');
    const result = await runCli(['dev', '--env', 'sandbox'], { cwd: root });
    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, /sqlfirst dev works on the local environment only, and this run targets "sandbox"/);
  });
});
