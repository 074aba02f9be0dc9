import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { freePort } from '../embedded/server.js';
import { SqlfirstError } from '../errors.js';
import { parseTarget, type ConnectionTarget } from '../target/url.js';
import { PASSWORD_VARIABLE, writePullConfig } from '../typegen/drizzle-kit.js';
import {
  compareTypes,
  GENERATED_HEADER,
  PULL_TEMP_PREFIX,
  pullTypes,
  writeTypes,
  type GeneratedTypes,
} from '../typegen/index.js';
import { startTestServer, type TestServer } from './support/server.js';

const PASSWORD = 'p@ss:w/rd%#';
const DATABASE_PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../database');

const APP_SCHEMA = `
  create schema audit;
  create type status as enum ('active', 'closed');
  create table users (id serial primary key, name text not null, status status not null default 'active');
  create table posts (id serial primary key, user_id int not null references users (id), title text);
  create table audit.events (id bigserial primary key, user_id int references public.users (id), at timestamptz not null default now());
  create view active_users as select id, name from users where status = 'active';
`;

describe('typegen: drizzle-kit pull', () => {
  let server: TestServer;
  let app: ConnectionTarget;
  const scratch: string[] = [];

  before(async () => {
    server = await startTestServer();
    await server.query(server.url, `create role app_user login password '${PASSWORD.replace(/'/g, "''")}'`);
    const appUrl = await server.createDatabase('app');
    await server.query(server.url, 'alter database app owner to app_user');
    await server.query(appUrl, `set role app_user; ${APP_SCHEMA}`);
    await requirePasswords(server);
    app = parseTarget(`postgres://app_user:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}/app?sslmode=disable`);
  });

  after(async () => {
    for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  });

  function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-typegen-test-'));
    scratch.push(dir);
    return dir;
  }

  it('pulls every schema, with the header, the relations and only the meaningful output', async () => {
    const before = pullFolders();
    const lines: string[] = [];
    let secretFound = false;
    const files = await pullTypes({
      target: app,
      schemas: ['public', 'audit'],
      onOutput: (line) => {
        // while drizzle-kit runs, its config is on disk: it must not hold the password
        if (lines.length === 0) secretFound = newPullFolders(before).some(holdsPassword);
        lines.push(line);
      },
    });

    assert.deepEqual(Object.keys(files).sort(), ['relations.ts', 'schema.ts']);
    for (const text of Object.values(files)) assert.ok(text.startsWith(GENERATED_HEADER));
    const schema = files['schema.ts'];
    assert.match(schema, /pgTable\("users"/);
    assert.match(schema, /pgEnum\("status"/);
    assert.match(schema, /pgView\("active_users"/);
    assert.match(schema, /pgSchema\("audit"\)/);
    assert.match(schema, /audit\.table\("events"/);
    assert.match(files['relations.ts'], /relations\(posts, \(\{one\}\) => \(\{\s*user: one\(users/);
    assert.match(files['relations.ts'], /from "\.\/schema\.js"/);

    assert.ok(lines.some((line) => /^\[✓\] 3 tables fetched$/.test(line)), lines.join('\n'));
    assert.ok(lines.some((line) => /Pulling from \['public', 'audit'\]/.test(line)), lines.join('\n'));
    for (const line of lines) {
      assert.doesNotMatch(line, /\u001b|\r|[\u2800-\u28ff]|fetching/, `noise in output: ${JSON.stringify(line)}`);
      assert.doesNotMatch(line, /0000_|meta|drizzle\.config/, `temporary files mentioned: ${line}`);
    }
    assert.equal(new Set(lines).size, lines.length, 'each line once');
    assert.equal(secretFound, false, 'the password was written to a file');
    assertNoPassword([...lines, ...Object.values(files)]);
    typecheck(files, `import { usersRelations } from './relations.js';\nexport const relation = usersRelations;\n`);
  });

  it('gives byte-identical files on two pulls and leaves nothing behind', async () => {
    const before = pullFolders();
    const first = await pullTypes({ target: app, schemas: ['public', 'audit'] });
    const second = await pullTypes({ target: app, schemas: ['public', 'audit'] });
    assert.deepEqual(second, first);
    assert.deepEqual(newPullFolders(before), [], 'a temporary folder was left in os.tmpdir()');

    const outDir = tempDir();
    await writeTypes(outDir, first);
    assert.deepEqual(fs.readdirSync(outDir).sort(), ['relations.ts', 'schema.ts']);
  });

  it('removes the folder that a killed run left behind', async () => {
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const stale = path.join(os.tmpdir(), `${PULL_TEMP_PREFIX}${deadPid}-left`);
    fs.mkdirSync(path.join(stale, 'out', 'meta'), { recursive: true });
    fs.writeFileSync(path.join(stale, 'out', '0000_left_behind.sql'), '-- left behind\n');
    await pullTypes({ target: app, schemas: ['public'] });
    assert.equal(fs.existsSync(stale), false);
  });

  it('fails in one sentence on a wrong password, quickly, and leaves the output folder alone', async () => {
    const outDir = tempDir();
    const sentinels = { 'schema.ts': 'old schema\n', 'relations.ts': 'old relations\n', 'keep.txt': 'mine\n' };
    for (const [name, text] of Object.entries(sentinels)) fs.writeFileSync(path.join(outDir, name), text);
    const wrong = parseTarget(`postgres://app_user:${encodeURIComponent('not-' + PASSWORD)}@127.0.0.1:${server.port}/app?sslmode=disable`);

    const started = Date.now();
    const error = await pullThenWrite(wrong, outDir);
    assert.ok(Date.now() - started < 5000, 'took too long');
    assert.match(error.message, /^Password authentication failed for user "app_user" on 127\.0\.0\.1:\d+; check the password\.$/);
    assertNoPassword([error.message, String(error.cause)]);
    for (const [name, text] of Object.entries(sentinels)) assert.equal(fs.readFileSync(path.join(outDir, name), 'utf8'), text);
    assert.deepEqual(fs.readdirSync(outDir).sort(), Object.keys(sentinels).sort());
  });

  it('fails in one sentence when nothing listens on the port', async () => {
    const port = await freePort();
    const closed = parseTarget(`postgres://app_user:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/app?sslmode=disable`);
    const error = await failure(pullTypes({ target: closed, schemas: ['public'] }));
    assert.match(error.message, new RegExp(`^Could not connect to 127\\.0\\.0\\.1:${port}: the connection was refused`));
    assertNoPassword([error.message]);
  });

  it('fails within the bound on a server that accepts and never answers', async () => {
    const stalled = await listen(() => {});
    try {
      const target = parseTarget(`postgres://app_user:${encodeURIComponent(PASSWORD)}@127.0.0.1:${stalled.port}/app?sslmode=disable`);
      const started = Date.now();
      const error = await failure(pullTypes({ target, schemas: ['public'], timeoutMs: 2000 }));
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
      assert.match(error.message, /did not answer within 2 s/);
      assertNoPassword([error.message]);
    } finally {
      await stalled.close();
    }
  });

  it('kills drizzle-kit when the pull itself stalls, and throws one sentence', async () => {
    // the first connection (sqlfirst's own check) reaches the server; drizzle-kit's then hangs
    let connections = 0;
    const proxy = await listen((socket) => {
      if (++connections > 1) return;
      const upstream = net.connect(server.port, '127.0.0.1');
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    const before = pullFolders();
    let folders: string[] = [];
    try {
      const target = parseTarget(`postgres://app_user:${encodeURIComponent(PASSWORD)}@127.0.0.1:${proxy.port}/app?sslmode=disable`);
      const started = Date.now();
      const error = await failure(
        pullTypes({
          target,
          schemas: ['public'],
          timeoutMs: 3000,
          onOutput: () => {
            folders = newPullFolders(before);
          },
        }),
      );
      assert.ok(Date.now() - started < 6000, `took ${Date.now() - started} ms`);
      assert.match(error.message, /^drizzle-kit pull did not finish within 3 s; /);
      assertNoPassword([error.message]);
    } finally {
      await proxy.close();
    }
    assert.ok(folders.length > 0, 'drizzle-kit printed nothing before it stalled');
    assert.deepEqual(newPullFolders(before), [], 'the temporary folder was left behind');
    if (process.platform !== 'win32') {
      const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
      for (const folder of folders) assert.ok(!processes.includes(folder), `drizzle-kit still runs in ${folder}`);
    }
  });

  it('fails in one sentence with drizzle-kit\'s last line when the pull itself fails', async () => {
    const url = await server.createDatabase('broken');
    // drizzle-kit needs format_type() for columns: without it, it exits 1 and says nothing more
    await server.query(url, 'create table t (id int); revoke execute on function format_type(oid, integer) from public');
    const target = parseTarget(`postgres://app_user:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}/broken?sslmode=disable`);
    const error = await failure(pullTypes({ target, schemas: ['public'] }));
    assert.match(error.message, /^drizzle-kit pull failed with exit code 1 \(its last output was "\[✓\] [^"]+"\) although the connection works; check that user "app_user" can read schemas public in postgres:\/\/app_user:\*\*\*\*@/);
    assertNoPassword([error.message]);
  });

  it('writes a config without the password, with TLS as sslmode says', () => {
    const dir = tempDir();
    const load = (url: string, password?: string) => {
      const file = path.join(dir, `${randomBytes(4).toString('hex')}.cjs`);
      writePullConfig(file, parseTarget(url), ['public', 'audit'], path.join(dir, 'out'));
      assertNoPassword([fs.readFileSync(file, 'utf8')]);
      const saved = process.env[PASSWORD_VARIABLE];
      process.env[PASSWORD_VARIABLE] = password;
      if (password === undefined) delete process.env[PASSWORD_VARIABLE];
      try {
        return createRequire(import.meta.url)(file) as { schemaFilter: string[]; dbCredentials: Record<string, unknown> };
      } finally {
        if (saved === undefined) delete process.env[PASSWORD_VARIABLE];
        else process.env[PASSWORD_VARIABLE] = saved;
      }
    };
    const secure = load(`postgres://u:${encodeURIComponent(PASSWORD)}@db.example.com:6543/app?sslmode=require`, PASSWORD);
    assert.deepEqual(secure.schemaFilter, ['public', 'audit']);
    assert.deepEqual(secure.dbCredentials, {
      host: 'db.example.com',
      port: 6543,
      user: 'u',
      database: 'app',
      ssl: { rejectUnauthorized: false },
      password: PASSWORD,
    });
    const plain = load('postgres://u@localhost/app?sslmode=disable');
    assert.equal(plain.dbCredentials.ssl, false);
    assert.equal('password' in plain.dbCredentials, false);
  });

  it('maps bytea and range columns to custom types that compile', async () => {
    const url = await server.createDatabase('typed');
    // an empty schema: drizzle-kit declares it without importing pgSchema
    await server.query(
      url,
      `create schema nothing_here;
       create table blobs (
         id int primary key,
         data bytea not null,
         pieces bytea[],
         during tstzrange not null,
         ids int4range,
         search tsvector
       );
       create view blob_view as select data, id, during from blobs`,
    );
    const files = await pullTypes({ target: parseTarget(url), schemas: ['public', 'nothing_here'] });
    const schema = files['schema.ts'];
    assert.doesNotMatch(schema, /unknown\(|TODO/);
    assert.match(schema, /data: sqlfirstBuffer\("data", \{ type: "bytea" \}\)\.notNull\(\)/);
    assert.match(schema, /pieces: sqlfirstBuffer\("pieces", \{ type: "bytea" \}\)\.array\(\)/);
    assert.match(schema, /during: sqlfirstString\("during", \{ type: "tstzrange" \}\)\.notNull\(\)/);
    assert.match(schema, /pgView\("blob_view", \{\n\tdata: sqlfirstBuffer\("data", \{ type: "bytea" \}\),/);
    typecheck(files, `
      import { blobs } from './schema.js';
      type Row = typeof blobs.$inferSelect;
      export const row: Row = { id: 1, data: Buffer.from('x'), pieces: null, during: '[2026-01-01,2026-02-01)', ids: '[1,5)', search: null };
    `);
  });

  it('names the table, column and type it cannot map', async () => {
    const url = await server.createDatabase('odd');
    await server.query(
      url,
      `create schema extra;
       create type pair as (a int, b text);
       create domain positive as int check (value > 0);
       create table extra.things (id int primary key, both_parts pair, amount positive)`,
    );
    const error = await failure(pullTypes({ target: parseTarget(url), schemas: ['extra'] }));
    assert.match(error.message, /^Drizzle has no column type for the PostgreSQL type of extra\.things\.both_parts \(pair\), extra\.things\.amount \(positive\); /);
  });

  it('writes only the files that changed, and compares', async () => {
    const outDir = path.join(tempDir(), 'schema');
    const files: GeneratedTypes = { 'schema.ts': 'export const a = 1;\n', 'relations.ts': 'export const b = 2;\n' };
    assert.deepEqual(await compareTypes(outDir, files), ['schema.ts', 'relations.ts']);
    assert.deepEqual(await writeTypes(outDir, files), ['schema.ts', 'relations.ts']);
    fs.writeFileSync(path.join(outDir, 'index.ts'), 'untouched\n');
    const written = fs.statSync(path.join(outDir, 'schema.ts')).mtimeMs;

    assert.deepEqual(await compareTypes(outDir, files), []);
    assert.deepEqual(await writeTypes(outDir, files), []);
    const changed = { ...files, 'relations.ts': 'export const b = 3;\n' };
    assert.deepEqual(await compareTypes(outDir, changed), ['relations.ts']);
    assert.deepEqual(await writeTypes(outDir, changed), ['relations.ts']);

    assert.equal(fs.readFileSync(path.join(outDir, 'relations.ts'), 'utf8'), changed['relations.ts']);
    assert.equal(fs.statSync(path.join(outDir, 'schema.ts')).mtimeMs, written);
    assert.deepEqual(fs.readdirSync(outDir).sort(), ['index.ts', 'relations.ts', 'schema.ts']);
  });
});

/** Password checks for everyone but the superuser, whom the test setup uses without one. */
async function requirePasswords(server: TestServer): Promise<void> {
  const hba = path.join(server.dataDir, 'pg_hba.conf');
  fs.writeFileSync(hba, 'host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
  await server.query(server.url, 'select pg_reload_conf()');
}

function pullFolders(): Set<string> {
  return new Set(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(PULL_TEMP_PREFIX)));
}

function newPullFolders(before: Set<string>): string[] {
  return [...pullFolders()].filter((name) => !before.has(name));
}

function holdsPassword(folder: string): boolean {
  const root = path.join(os.tmpdir(), folder);
  const files = fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return files.some((entry) => fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8').includes(PASSWORD));
}

function assertNoPassword(texts: string[]): void {
  for (const text of texts) {
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD)]) assert.ok(!text.includes(form), `the password leaked: ${text}`);
  }
}

/** What a workflow does: pull, then write only if the pull succeeded. */
async function pullThenWrite(target: ConnectionTarget, outDir: string): Promise<SqlfirstError> {
  return failure(pullTypes({ target, schemas: ['public', 'audit'] }).then((files) => writeTypes(outDir, files)));
}

async function failure(promise: Promise<unknown>): Promise<SqlfirstError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SqlfirstError, `not a SqlfirstError: ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/, 'more than one line');
    return error;
  }
  assert.fail('expected a failure');
}

/** A TCP server on loopback; close() also ends the sockets it accepted. */
async function listen(onSocket: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Type-checks the generated files (plus a usage sample) in a temporary folder where drizzle-orm resolves, as the database package would. */
function typecheck(files: GeneratedTypes, usage: string): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-typegen-typecheck-'));
  try {
    fs.symlinkSync(path.join(DATABASE_PACKAGE, '..', '..', 'node_modules'), path.join(dir, 'node_modules'), 'junction');
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    fs.writeFileSync(path.join(dir, 'usage.ts'), usage);
    const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
    const flags = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node'];
    const result = spawnSync(process.execPath, [tsc, ...flags, 'schema.ts', 'relations.ts', 'usage.ts'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, `tsc failed:\n${result.stdout}${result.stderr}\n--- schema.ts ---\n${files['schema.ts']}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
