/**
 * The no-op fast path of `sqlfirst sync`, against a real PostgreSQL: a second
 * sync with nothing changed is proved unchanged with one catalog query and
 * skips the shadow, the plan and drizzle-kit; a change to the schema file,
 * to the target behind sqlfirst's back, or to a generated file takes the full
 * path. The catalog fingerprint itself is checked kind by kind.
 *
 * Every run writes its types and its .sqlfirst/state into temporary folders:
 * the committed packages/database/src/schema files are never touched.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_SKIPS } from '../policy/index.js';
import { parseTarget } from '../target/url.js';
import { readProject } from '../config/project.js';
import { fingerprintDatabase, SKIP_MESSAGE, STATE_DIR } from '../fastpath/index.js';
import { runCommand } from '../workflow/index.js';
import type { RunRequest } from '../workflow/request.js';
import { runCli } from './support/cli.js';
import { quietReporter } from './support/inprocess.js';
import { requirePasswords, startTestServer, urlFor, type TestServer } from './support/server.js';

const USER = 'fastpath_user';
const PASSWORD = 'f@st:p/ss%#word';
const COMMITTED_TYPES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../database/src/schema');

const V1 = `CREATE TYPE status AS ENUM ('active', 'closed');
CREATE TABLE items (
  id integer PRIMARY KEY,
  name text NOT NULL,
  status status NOT NULL DEFAULT 'active'
);
CREATE TABLE notes (id integer PRIMARY KEY, item_id integer NOT NULL REFERENCES items (id), body text);
CREATE INDEX notes_item_idx ON notes (item_id);
`;

let server: TestServer;
let work: string;

before(async () => {
  server = await startTestServer();
  await requirePasswords(server, USER, PASSWORD);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-fastpath-'));
});

after(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

let counter = 0;

/** A database owned by the password-checked user, as a URL with the password in it. */
async function database(setup?: string): Promise<string> {
  const admin = await server.createDatabase(`fastpath_${++counter}`);
  const name = new URL(admin).pathname.slice(1);
  await server.query(server.url, `ALTER DATABASE "${name}" OWNER TO ${USER}`);
  await server.query(admin, `ALTER SCHEMA public OWNER TO ${USER}`);
  const url = urlFor(server, USER, PASSWORD, name);
  if (setup) await server.query(url, setup);
  return url;
}

/** A temporary repository root (for .sqlfirst/state), a schema file and a types folder, all in `work`. */
function project(sql: string): { root: string; schema: string; types: string } {
  const root = path.join(work, `project${++counter}`);
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, 'package.json'), '{"workspaces":[]}\n');
  const schema = path.join(root, 'schema.sql');
  fs.writeFileSync(schema, sql);
  return { root, schema, types: path.join(root, 'types') };
}

async function sync(url: string, where: { root: string; schema: string; types: string }, extra: Partial<RunRequest> = {}) {
  const { reporter, text } = quietReporter();
  const outcome = await runCommand(
    'sync',
    { url, schemaFiles: [where.schema], schemas: [], policy: NO_SKIPS, autoApprove: true, writeTypes: true, typeCheck: false, typesDir: where.types, ...extra },
    reporter,
    readProject(where.root),
  );
  reporter.finish('sync', outcome);
  const steps = reporter.steps.map((s) => s.step);
  return { code: outcome.exitCode, output: text(), steps, full: steps.includes('load schema'), outcome };
}

function assertFast(run: Awaited<ReturnType<typeof sync>>): void {
  assert.equal(run.code, 0, run.output);
  assert.ok(run.output.includes(SKIP_MESSAGE), run.output);
  assert.equal(run.full, false, `no shadow may be created on the fast path: ${run.steps.join(', ')}`);
  assert.ok(!run.steps.includes('plan'), run.steps.join(', '));
  assert.deepEqual(run.steps, ['read schema', 'connect', 'check changes'], 'the fast path ends after the change check');
}

function assertFull(run: Awaited<ReturnType<typeof sync>>, why: RegExp): void {
  assert.equal(run.code, 0, run.output);
  assert.ok(!run.output.includes(SKIP_MESSAGE), run.output);
  assert.ok(run.full, `the full path loads the schema into a shadow: ${run.steps.join(', ')}`);
  assert.ok(run.steps.includes('write types'), run.steps.join(', '));
  assert.match(run.output, why);
}

describe('sync fast path', () => {
  test('a second sync with nothing changed is skipped; the record holds no password or URL', async () => {
    const url = await database();
    const where = project(V1);
    const committed = fs.readdirSync(COMMITTED_TYPES).map((name) => fs.readFileSync(path.join(COMMITTED_TYPES, name), 'utf8'));

    const first = await sync(url, where);
    assertFull(first, /check changes .*no record of a previous sync/);
    assert.ok(fs.existsSync(path.join(where.types, 'schema.ts')));

    const second = await sync(url, where);
    assertFast(second);
    assert.match(second.output, /check changes .*unchanged since the last sync/);

    const records = fs.readdirSync(path.join(where.root, STATE_DIR));
    assert.equal(records.length, 1);
    const record = fs.readFileSync(path.join(where.root, STATE_DIR, records[0]), 'utf8');
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), 'postgres://']) assert.ok(!record.includes(secret), record);
    assert.match(record, new RegExp(`"target": "${USER}@127\\.0\\.0\\.1:${server.port}/fastpath_\\d+"`));

    // the committed Drizzle files were never written
    assert.deepEqual(
      fs.readdirSync(COMMITTED_TYPES).map((name) => fs.readFileSync(path.join(COMMITTED_TYPES, name), 'utf8')),
      committed,
    );
  });

  test('(a) an edited schema file takes the full path and applies the edit', async () => {
    const url = await database();
    const where = project(V1);
    assertFull(await sync(url, where), /no record/);
    assertFast(await sync(url, where));

    fs.writeFileSync(where.schema, V1.replace('body text', 'body text, pinned boolean NOT NULL DEFAULT false'));
    const edited = await sync(url, where);
    assertFull(edited, /check changes .*schema changed/);
    assert.match(edited.output, /ADD COLUMN "pinned"/);
    assert.match(fs.readFileSync(path.join(where.types, 'schema.ts'), 'utf8'), /pinned: boolean\(\)\.default\(false\)\.notNull\(\)/);
    assertFast(await sync(url, where));
  });

  test('(b) a change to the target behind sqlfirst\'s back takes the full path, which converges it back', async () => {
    const url = await database();
    const where = project(V1);
    assertFull(await sync(url, where), /no record/);
    assertFast(await sync(url, where));

    await server.query(url, "COMMENT ON TABLE items IS 'added by hand'");
    const commented = await sync(url, where);
    assertFull(commented, /check changes .*database changed/);
    // exactly the statement that undoes the change made by hand
    assert.deepEqual(commented.outcome.plan?.changes.map((c) => c.sql), ['COMMENT ON TABLE "public"."items" IS NULL']);
    assert.equal(commented.outcome.applied, 1);
    assert.equal((await server.query(url, "SELECT obj_description('items'::regclass, 'pg_class') AS d"))[0].d, null);
    assertFast(await sync(url, where));

    await server.query(url, 'ALTER TABLE notes ADD COLUMN added_by_hand integer');
    const added = await sync(url, where, { allowDataLoss: true });
    assertFull(added, /check changes .*database changed/);
    assert.match(added.output, /DROP COLUMN "added_by_hand"/);
    const columns = await server.query(url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'notes' ORDER BY ordinal_position");
    assert.deepEqual(columns.map((c) => c.column_name), ['id', 'item_id', 'body']);
    assertFast(await sync(url, where));
  });

  test('(c) an edited generated file takes the full path and is regenerated', async () => {
    const url = await database();
    const where = project(V1);
    assertFull(await sync(url, where), /no record/);
    const file = path.join(where.types, 'schema.ts');
    const generated = fs.readFileSync(file, 'utf8');
    assertFast(await sync(url, where));

    fs.writeFileSync(file, `${generated}\nexport const editedByHand = true;\n`);
    const edited = await sync(url, where);
    assertFull(edited, /check changes .*types changed/);
    assert.match(edited.output, /write types .*updated schema\.ts/);
    assert.equal(fs.readFileSync(file, 'utf8'), generated);
    assertFast(await sync(url, where));

    fs.rmSync(path.join(where.types, 'relations.ts'));
    const removed = await sync(url, where);
    assertFull(removed, /types changed/);
    assert.ok(fs.existsSync(path.join(where.types, 'relations.ts')));
  });

  test('--force, another types folder and --no-types', async () => {
    const url = await database();
    const where = project(V1);
    assertFull(await sync(url, where), /no record/);
    assertFull(await sync(url, where, { force: true }), /full sync forced/);
    assertFast(await sync(url, where));
    // the record vouches only for the folder it wrote
    assertFull(await sync(url, where, { typesDir: path.join(where.root, 'other-types') }), /types folder changed \(last sync wrote types\)/);
    // apply only: the schema and the database are compared, not the types
    const applyOnly = await sync(url, where, { writeTypes: false });
    assertFast({ ...applyOnly, output: applyOnly.output.replace('schema and database match', 'schema, database and types match') });
    await server.query(url, "COMMENT ON TABLE items IS 'by hand'");
    const applyAgain = await sync(url, where, { writeTypes: false });
    assert.equal(applyAgain.code, 0, applyAgain.output);
    assert.ok(applyAgain.full);
    assert.ok(!applyAgain.steps.includes('drizzle-kit pull'));
    // the record of an apply-only sync vouches for no types
    assertFull(await sync(url, where, { typesDir: path.join(where.root, 'other-types') }), /types not generated by the last sync/);
    assertFast(await sync(url, where, { typesDir: path.join(where.root, 'other-types') }));
  });

  test('a failed full sync leaves no record to vouch for it', async () => {
    const url = await database();
    const where = project(V1);
    assertFull(await sync(url, where), /no record/);
    // dropping a column loses data: refused without --allow-data-loss
    fs.writeFileSync(where.schema, V1.replace(', body text', ''));
    await assert.rejects(sync(url, where), /lose data/);
    fs.writeFileSync(where.schema, V1);
    // back to the synced schema, but the record is gone: the full path runs
    assertFull(await sync(url, where), /no record/);
  });

  test('the embedded database (no URL): the record holds across restarts on new ports', async () => {
    const where = project(V1);
    // the embedded server runs as the postgres user when the tests run as root
    for (let dir = where.root; dir !== path.dirname(work); dir = path.dirname(dir)) fs.chmodSync(dir, 0o755);
    const env = Object.fromEntries(['DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_LIVERMORE_USERNAME', 'DATABASE_LIVERMORE_PASSWORD', 'LIVERMORE_DATABASE_NAME'].map((v) => [v, undefined]));
    const args = ['sync', '--to', `file://${where.schema}`, '--types-dir', where.types];
    const first = await runCli(args, { cwd: where.root, env });
    assert.equal(first.code, 0, first.output);
    assert.match(first.stdout, /using the embedded PostgreSQL/);
    assert.match(first.stdout, /load schema/);
    const second = await runCli(args, { cwd: where.root, env });
    assert.equal(second.code, 0, second.output);
    assert.match(second.stdout, /Nothing changed since the last sync/);
    assert.doesNotMatch(second.stdout, /load schema/);
    const [record] = fs.readdirSync(path.join(where.root, STATE_DIR));
    assert.match(fs.readFileSync(path.join(where.root, STATE_DIR, record), 'utf8'), /"target": "embedded\/sqlfirst"/);
    // both runs stopped the server they started
    assert.ok(!fs.existsSync(path.join(where.root, '.sqlfirst', 'postgres', 'postmaster.pid')));
  });

  test('through the CLI: --types-dir, the one-line skip, and --force', async () => {
    const url = await database();
    const where = project(V1);
    // a pasted URL may be any database: sync asks like apply (here: no terminal, so it refuses)
    const unasked = await runCli(['sync', '--url', url, '--to', `file://${where.schema}`, '--types-dir', where.types], { cwd: where.root });
    assert.equal(unasked.code, 1, unasked.output);
    assert.match(unasked.stderr, /no terminal to ask on.*--auto-approve/);
    assert.equal((await server.query(url, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'"))[0].n, 0, 'nothing applied');
    const args = ['sync', '--url', url, '--to', `file://${where.schema}`, '--types-dir', where.types, '--auto-approve'];
    const first = await runCli(args, { cwd: where.root });
    assert.equal(first.code, 0, first.output);
    assert.ok(fs.existsSync(path.join(where.types, 'relations.ts')));
    assert.ok(fs.existsSync(path.join(where.root, STATE_DIR)));
    const second = await runCli(args, { cwd: where.root });
    assert.equal(second.code, 0, second.output);
    assert.match(second.stdout, /✔ Nothing changed since the last sync \(schema, database and types match\); skipped\./);
    assert.doesNotMatch(second.stdout, /load schema|drizzle-kit pull/);
    assert.ok(!second.output.includes(PASSWORD));
    const forced = await runCli([...args, '--force', '--json'], { cwd: where.root });
    assert.equal(forced.code, 0, forced.output);
    assert.ok(JSON.parse(forced.stdout).steps.some((s: { step: string }) => s.step === 'load schema'));
  });
});

/**
 * Every kind of object schema.sql can describe, so that each change below
 * has something to change.
 */
const BASE = `CREATE SCHEMA app;
CREATE TYPE app.status AS ENUM ('active', 'closed');
CREATE DOMAIN app.positive AS integer CHECK (VALUE > 0);
CREATE SEQUENCE app.counter;
CREATE TABLE app.items (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name varchar(100) NOT NULL,
  qty app.positive NOT NULL DEFAULT 1,
  note text,
  status app.status NOT NULL DEFAULT 'active',
  CONSTRAINT items_name_key UNIQUE (name)
);
CREATE TABLE app.tags (id integer PRIMARY KEY, item_id integer REFERENCES app.items (id) ON DELETE CASCADE, label text);
CREATE INDEX tags_item_idx ON app.tags (item_id);
CREATE VIEW app.item_names AS SELECT id, name FROM app.items;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := 'touched'; RETURN NEW; END $$;
CREATE TRIGGER items_touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();
COMMENT ON TABLE app.items IS 'Things.';
COMMENT ON COLUMN app.items.note IS 'Free text.';
`;

const CHANGES: Record<string, string> = {
  'a new table': 'CREATE TABLE app.more (id int)',
  'a new column': 'ALTER TABLE app.items ADD COLUMN extra integer',
  'a renamed column': 'ALTER TABLE app.tags RENAME COLUMN label TO title',
  'a renamed table': 'ALTER TABLE app.tags RENAME TO labels',
  'a renamed index': 'ALTER INDEX app.tags_item_idx RENAME TO tags_item_index',
  'a renamed constraint': 'ALTER TABLE app.items RENAME CONSTRAINT items_name_key TO items_name_unique',
  'a table moved to another schema': 'CREATE SCHEMA other; ALTER TABLE app.tags SET SCHEMA other',
  'a dropped and recreated view': 'DROP VIEW app.item_names; CREATE VIEW app.item_names AS SELECT id, name FROM app.items',
  'a column type': 'ALTER TABLE app.tags ALTER COLUMN label TYPE varchar(200)',
  'a default': 'ALTER TABLE app.items ALTER COLUMN qty SET DEFAULT 2',
  'a removed default': "ALTER TABLE app.items ALTER COLUMN status DROP DEFAULT",
  nullability: 'ALTER TABLE app.items ALTER COLUMN note SET NOT NULL',
  'a check constraint': 'ALTER TABLE app.items ADD CONSTRAINT items_qty_small CHECK (qty < 1000)',
  'a foreign key action': 'ALTER TABLE app.tags DROP CONSTRAINT tags_item_id_fkey, ADD CONSTRAINT tags_item_id_fkey FOREIGN KEY (item_id) REFERENCES app.items (id)',
  'a unique constraint made deferrable': 'ALTER TABLE app.items DROP CONSTRAINT items_name_key, ADD CONSTRAINT items_name_key UNIQUE (name) DEFERRABLE',
  'an index': 'CREATE INDEX items_note_idx ON app.items (note)',
  'an index definition': 'DROP INDEX app.tags_item_idx; CREATE INDEX tags_item_idx ON app.tags (item_id, label)',
  'a view definition': 'CREATE OR REPLACE VIEW app.item_names AS SELECT id, name FROM app.items WHERE qty > 1',
  'a function body': "CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := 'changed'; RETURN NEW; END $$",
  'a function attribute': 'ALTER FUNCTION app.touch() SECURITY DEFINER',
  'a trigger': 'DROP TRIGGER items_touch ON app.items',
  'a disabled trigger': 'ALTER TABLE app.items DISABLE TRIGGER items_touch',
  'an enum value': "ALTER TYPE app.status ADD VALUE 'archived'",
  'a domain constraint': 'ALTER DOMAIN app.positive ADD CONSTRAINT positive_small CHECK (VALUE < 100000)',
  'a table comment': "COMMENT ON TABLE app.items IS 'Other things.'",
  'a column comment': 'COMMENT ON COLUMN app.items.note IS NULL',
  'a function comment': "COMMENT ON FUNCTION app.touch() IS 'Sets note.'",
  'a schema': 'CREATE SCHEMA extra',
  'a schema comment': "COMMENT ON SCHEMA app IS 'The app.'",
  'a sequence option': 'ALTER SEQUENCE app.counter INCREMENT BY 5',
  'a grant': 'GRANT SELECT ON app.items TO PUBLIC',
  'a column grant': 'GRANT UPDATE (note) ON app.items TO PUBLIC',
  'row-level security': 'ALTER TABLE app.items ENABLE ROW LEVEL SECURITY',
  'a policy': "CREATE POLICY items_mine ON app.items USING (name = current_user)",
  'an owner': 'ALTER TABLE app.tags OWNER TO fastpath_other',
  'an unlogged table': 'ALTER TABLE app.tags SET UNLOGGED',
  'a storage parameter': 'ALTER TABLE app.tags SET (fillfactor = 70)',
  'an extension': 'CREATE EXTENSION IF NOT EXISTS pg_trgm',
  'a materialized view': 'CREATE MATERIALIZED VIEW app.counts AS SELECT count(*) AS n FROM app.items',
  'a partitioned table': 'CREATE TABLE app.events (at date NOT NULL) PARTITION BY RANGE (at); CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM (\'2026-01-01\') TO (\'2027-01-01\')',
  'a default privilege': 'ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO PUBLIC',
};

/** A database set up by the superuser (changes of owner, extensions). */
async function superuserDatabase(setup: string): Promise<string> {
  const url = await server.createDatabase(`fingerprint_${++counter}`);
  await server.query(url, setup);
  return url;
}

describe('target fingerprint', () => {
  let serverVersion: number;

  before(async () => {
    // made before the run on a shared server (roles are server-wide)
    await server.query(server.url, 'DO $$ BEGIN CREATE ROLE fastpath_other; EXCEPTION WHEN duplicate_object THEN NULL; END $$');
    const [{ v }] = await server.query(server.url, "SELECT current_setting('server_version_num')::int AS v");
    serverVersion = v;
  });

  test('stays the same while the schema does: rows, sequence values, statistics, vacuum', async () => {
    const url = await superuserDatabase(BASE);
    const before = await fingerprintDatabase(parseTarget(url), serverVersion);
    assert.equal(await fingerprintDatabase(parseTarget(url), serverVersion), before);
    await server.query(url, "INSERT INTO app.items (name, qty) VALUES ('a', 1), ('b', 2); UPDATE app.items SET qty = 3; INSERT INTO app.tags VALUES (1, 1, 'x'); SELECT nextval('app.counter'); ANALYZE");
    await server.query(url, 'VACUUM app.items');
    await server.query(url, 'VACUUM FULL app.tags');
    assert.equal(await fingerprintDatabase(parseTarget(url), serverVersion), before);
  });

  test('costs far less than reading the state with the engine', async () => {
    const url = await superuserDatabase(BASE);
    const { readState } = await import('../engine/index.js');
    const { openPool } = await import('../target/connect.js');
    const pool = openPool(parseTarget(url));
    try {
      await readState(pool);
      let start = performance.now();
      await readState(pool);
      const extract = performance.now() - start;
      start = performance.now();
      await fingerprintDatabase(parseTarget(url), serverVersion);
      const fingerprint = performance.now() - start;
      assert.ok(fingerprint < extract, `fingerprint ${fingerprint.toFixed(0)} ms, extract ${extract.toFixed(0)} ms`);
    } finally {
      await pool.end();
    }
  });

  for (const [what, sql] of Object.entries(CHANGES)) {
    test(`changes with ${what}`, async () => {
      const url = await superuserDatabase(BASE);
      const before = await fingerprintDatabase(parseTarget(url), serverVersion);
      await server.query(url, sql);
      assert.notEqual(await fingerprintDatabase(parseTarget(url), serverVersion), before);
    });
  }
});
