/**
 * The bad-input corpus: malformed or hostile schema files, configs, URLs and
 * flags, each run through the built CLI against a real PostgreSQL whose target
 * already holds a schema with rows. Every case must end in one clear sentence
 * (with file and line where there is one), exit code 1, no stack trace, an
 * unchanged server (schema, rows, databases, roles) and no shadow database left.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEnvironment } from '../config/environment.js';
import { SqlfirstError } from '../errors.js';
import { runCli, type CliResult } from './support/cli.js';
import { startTestServer, type TestServer } from './support/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// tests run from dist/test; the fixtures stay in the sources
const FIXTURES = path.resolve(here, '../../src/test/fixtures/bad-input');
const fixture = (name: string) => path.join(FIXTURES, name);

const STACK_TRACE = /\n\s+at .+:\d+:\d+/;

let server: TestServer;
/** the target: v1 applied by sqlfirst, plus rows */
let target: string;
let work: string;

before(async () => {
  // private: the check that a refused input changed nothing covers the server's databases and roles
  server = await startTestServer({ private: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-bad-input-'));
  target = await server.createDatabase('bad_input_target');
  const applied = await runCli(['apply', '--url', target, '--to', `file://${fixture('v1.sql')}`, '--auto-approve']);
  assert.equal(applied.code, 0, applied.output);
  await server.query(target, `INSERT INTO items VALUES (1, 'bolt', 1.5), (2, 'nut', 0.25); INSERT INTO orders VALUES (10, 1, 3), (11, 2, 7);`);
});

after(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Everything a failed run must leave as it was: the target's schema and rows, and the server's databases and roles. */
async function snapshot(): Promise<string> {
  const [schema] = await server.query(
    target,
    `SELECT
       (SELECT string_agg(format('%s.%s %s %s %s %s', table_schema, table_name, column_name, data_type, is_nullable, column_default), E'\\n'
               ORDER BY table_schema, table_name, column_name)
          FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')) AS columns,
       (SELECT string_agg(format('%s %s', conname, pg_get_constraintdef(oid)), E'\\n' ORDER BY conname)
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace) AS constraints,
       (SELECT string_agg(indexdef, E'\\n' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public') AS indexes,
       (SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc WHERE pronamespace = 'public'::regnamespace) AS functions,
       (SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace) AS schemas`,
  );
  const items = await server.query(target, 'SELECT id, name, price::text FROM items ORDER BY id');
  const orders = await server.query(target, 'SELECT * FROM orders ORDER BY id');
  const databases = await server.query(server.url, 'SELECT datname FROM pg_database ORDER BY datname');
  const roles = await server.query(server.url, 'SELECT rolname FROM pg_roles ORDER BY rolname');
  return JSON.stringify({ schema, items, orders, databases, roles }, null, 1);
}

async function shadowsLeft(): Promise<string[]> {
  const rows = await server.query<{ datname: string }>(server.url, "SELECT datname FROM pg_database WHERE datname LIKE 'sqlfirst\\_shadow\\_%'");
  return rows.map((row) => row.datname);
}

interface Expectation {
  /** what the first (or only) line of stderr must say */
  message: RegExp;
  /** the message may be followed by a list (data-loss-like messages); only the first line is checked */
  list?: boolean;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

/** Runs the CLI, expecting the failure shape every bad input must produce, and an untouched server. */
async function refused(args: string[], expected: Expectation): Promise<CliResult> {
  const before = await snapshot();
  const started = Date.now();
  const result = await runCli(args, { cwd: expected.cwd ?? work, env: expected.env, timeoutMs: 60_000 });
  const elapsed = Date.now() - started;
  assert.equal(result.code, 1, `exit code 1 expected, got ${result.code}:\n${result.output}`);
  assert.ok(elapsed < 30_000, `a bad input must be refused quickly, took ${elapsed} ms`);
  assert.doesNotMatch(result.output, STACK_TRACE, `a stack trace was printed:\n${result.output}`);
  const lines = result.stderr.replace(/\n$/, '').split('\n');
  if (!expected.list) assert.equal(lines.length, 1, `one line of stderr expected:\n${result.stderr}`);
  const [first] = lines;
  // "✖ Failed at <step>: <one sentence>." — the sentence ends the line, and nothing but it is on it
  assert.match(first, /^✖ (?:Failed at [a-z -]+: )?[A-Z"-].*[.)]$/, `not one sentence: ${first}`);
  assert.doesNotMatch(first, /Unexpected error/, `an unexpected error reached the user: ${first}`);
  assert.match(first, expected.message);
  assert.equal(await snapshot(), before, 'the server changed');
  assert.deepEqual(await shadowsLeft(), [], 'a shadow database was left behind');
  return result;
}

/** A file:// URL for a fixture copied into the working folder (so the message names a short relative path). */
function schema(name: string): string {
  fs.copyFileSync(fixture(name), path.join(work, name));
  return `file://${name}`;
}

/** plan and apply both must refuse; apply is the one that could do harm */
const apply = (to: string, ...extra: string[]) => ['apply', '--url', target, '--to', to, '--auto-approve', ...extra];

describe('schema files that do not load', () => {
  test('a syntax error names the file, the line and the statement, before anything connects', async () => {
    await refused(apply(schema('syntax-error.sql')), {
      message: /Failed at read schema: syntax-error\.sql line 7: syntax error at or near "TABEL", in "CREATE TABEL broken \(id int\);"; fix the statement \(no database was touched\)\.$/,
    });
  });

  test('an unknown type', async () => {
    await refused(apply(schema('unknown-type.sql')), {
      message: /unknown-type\.sql line 3: type "notatype" does not exist, in "CREATE TABLE t \(x notatype\)"; no statement in the schema creates it, so add it or fix the name/,
    });
  });

  test('a table nobody creates, used by a statement before one that loads', async () => {
    await refused(apply(schema('missing-table.sql')), {
      message: /missing-table\.sql line 3: relation "items" does not exist, in "CREATE TABLE orders \("; no statement in the schema creates it, so add it or fix the name \(the target was not changed\)\.$/,
    });
  });

  test('statements out of dependency order load, as PostgreSQL would load them in order', async () => {
    const result = await runCli(['plan', '--url', target, '--to', schema('out-of-order.sql')], { cwd: work });
    assert.equal(result.code, 0, result.output);
  });

  test('the same table twice', async () => {
    await refused(apply(schema('duplicate.sql')), {
      message: /duplicate\.sql line 6: relation "items" already exists, in "CREATE TABLE items \(id int PRIMARY KEY, name text NOT NULL\)"; fix the statement \(/,
    });
  });

  test('a SQL function whose body uses a missing table', async () => {
    await refused(apply(schema('sql-function.sql')), {
      message: /sql-function\.sql line 6: relation "missing_orders" does not exist, in "CREATE FUNCTION order_count\(\) RETURNS bigint"/,
    });
  });

  test('a CHECK constraint on a missing column', async () => {
    await refused(apply(schema('check-missing-column.sql')), {
      message: /check-missing-column\.sql line 4: column "cost" does not exist, in "CREATE TABLE items \("/,
    });
  });
});

describe('schema files that are not a schema', () => {
  test('an empty file', async () => {
    await refused(apply(schema('empty.sql')), {
      message: /The schema file empty\.sql has no SQL statements that describe a schema; an empty schema would drop everything/,
    });
  });

  test('a file with only comments', async () => {
    await refused(apply(schema('only-comments.sql')), {
      message: /The schema file only-comments\.sql has no SQL statements/,
    });
  });

  test('a file that is not UTF-8 names the line of the first bad byte', async () => {
    fs.writeFileSync(path.join(work, 'latin1.sql'), Buffer.from('CREATE TABLE items (id int);\nCREATE TABLE caf\xe9 (id int);\n', 'latin1'));
    await refused(apply('file://latin1.sql'), {
      message: /The schema file latin1\.sql is not valid UTF-8 text \(the first invalid byte is on line 2\); save it as UTF-8\.$/,
    });
  });

  test('a UTF-16 file (bytes 0xff 0xfe first), as Windows PowerShell 5 writes', async () => {
    const text = Buffer.from('CREATE TABLE items (id int);\n', 'utf16le');
    fs.writeFileSync(path.join(work, 'utf16.sql'), Buffer.concat([Buffer.from([0xff, 0xfe]), text]));
    await refused(apply('file://utf16.sql'), { message: /The schema file utf16\.sql is UTF-16 text \(as Windows PowerShell 5 writes with > or Out-File\); save it as UTF-8\.$/ });
  });

  test('a UTF-8 byte-order mark (as Notepad may save) is not an error', async () => {
    fs.writeFileSync(path.join(work, 'bom.sql'), `\uFEFF${fs.readFileSync(fixture('v1.sql'), 'utf8')}`);
    const result = await runCli(['plan', '--url', target, '--to', 'file://bom.sql', '--exit-code'], { cwd: work });
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /No changes/);
  });

  test('a NUL byte', async () => {
    fs.writeFileSync(path.join(work, 'nul.sql'), 'CREATE TABLE items (id int);\n\nCREATE TABLE b (id int);\0\n');
    await refused(apply('file://nul.sql'), { message: /The schema file nul\.sql holds a NUL byte on line 3, which PostgreSQL cannot read; remove it/ });
  });

  test('a folder given as the schema file', async () => {
    fs.mkdirSync(path.join(work, 'schema-folder'), { recursive: true });
    await refused(apply('file://schema-folder'), { message: /The schema file schema-folder is a folder; pass the \.sql file itself/ });
  });

  test('a psql meta-command, as in some dumps', async () => {
    fs.writeFileSync(path.join(work, 'meta.sql'), 'CREATE TABLE items (id int);\n\\connect other\nCREATE TABLE b (id int);\n');
    await refused(apply('file://meta.sql'), { message: /Failed at read schema: meta\.sql line 2: syntax error at or near "\\", in "\\connect other"/ });
  });

  test('a missing file', async () => {
    await refused(apply('file://no-such-schema.sql'), {
      message: /The schema file no-such-schema\.sql does not exist; check the path given by --to or by src in atlas\.hcl\.$/,
    });
  });

  test('INSERT', async () => {
    await refused(apply(schema('insert.sql')), { message: /insert\.sql line 4: INSERT does not belong in a schema file .*remove "INSERT INTO items VALUES \(1, 'bolt'\)"\.$/ });
  });

  test('DELETE', async () => {
    await refused(apply(schema('delete.sql')), { message: /delete\.sql line 5: DELETE does not belong in a schema file/ });
  });

  test('DROP DATABASE', async () => {
    await refused(apply(schema('drop-database.sql')), { message: /drop-database\.sql line 2: DROP DATABASE does not belong in a schema file/ });
  });

  test('BEGIN and COMMIT', async () => {
    await refused(apply(schema('transaction.sql')), { message: /transaction\.sql line 2: BEGIN does not belong in a schema file/ });
  });

  test('INSERT hidden in a DO block', async () => {
    fs.writeFileSync(path.join(work, 'do-insert.sql'), "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);\nDO $$ BEGIN INSERT INTO items VALUES (1, 'x'); END $$;\n");
    await refused(apply('file://do-insert.sql'), {
      message: /do-insert\.sql line 2: the statement wrote rows into public\.items, in "DO \$\$ BEGIN INSERT INTO items VALUES \(1, 'x'\); END \$\$", but a schema file describes tables, not their rows; remove what writes them/,
    });
  });

  test('CREATE ROLE hidden in a DO block', async () => {
    fs.writeFileSync(path.join(work, 'do-role.sql'), "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);\nDO $$ BEGIN EXECUTE 'CREATE ROLE sneaky'; END $$;\n");
    await refused(apply('file://do-role.sql'), { message: /do-role\.sql line 2: the statement created role sneaky, in "DO \$\$ BEGIN EXECUTE 'CREATE ROLE sneaky'; END \$\$", but roles belong to the server/ });
  });

  test('CREATE ROLE', async () => {
    await refused(apply(schema('create-role.sql')), { message: /create-role\.sql line 3: CREATE ROLE does not belong in a schema file/ });
  });
});

/** A temporary repository (a .git folder) holding `files`; returns its folder. */
function repository(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(work, 'repo-'));
  fs.mkdirSync(path.join(root, '.git'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), content);
  }
  return root;
}

const V1 = () => fs.readFileSync(fixture('v1.sql'), 'utf8');

describe('atlas.hcl', () => {
  const withUrl = () => ({ BAD_INPUT_URL: target });

  test('a syntax error names the line', async () => {
    const cwd = repository({ 'atlas.hcl': fs.readFileSync(fixture('broken.hcl'), 'utf8'), 'schema.sql': V1() });
    await refused(['apply', '--config', 'atlas.hcl', '--auto-approve'], {
      cwd,
      env: withUrl(),
      message: /Failed at config: atlas\.hcl line \d+: .*; fix the syntax and run again\.$/,
    });
  });

  test('an unknown environment lists the known ones', async () => {
    const cwd = repository({ 'atlas.hcl': fs.readFileSync(fixture('good.hcl'), 'utf8'), 'schema.sql': V1() });
    await refused(['apply', '--config', 'atlas.hcl', '--env', 'staging', '--auto-approve'], {
      cwd,
      env: withUrl(),
      message: /atlas\.hcl has no environment "staging"; use one of "local"\.$/,
    });
  });

  test('an unsupported expression is named with its line', async () => {
    const cwd = repository({ 'atlas.hcl': fs.readFileSync(fixture('unsupported-expression.hcl'), 'utf8'), 'schema.sql': V1() });
    await refused(['apply', '--config', 'atlas.hcl', '--auto-approve'], {
      cwd,
      env: withUrl(),
      message: /atlas\.hcl line 3: the expression lower\("SCHEMA\.sql"\) is not supported \(lower\(\) is not one of its functions\); .*so simplify it\.$/,
    });
  });

  test('a variable without a default and without --var', async () => {
    const cwd = repository({ 'atlas.hcl': fs.readFileSync(fixture('variable-without-default.hcl'), 'utf8'), 'schema.sql': V1() });
    await refused(['apply', '--config', 'atlas.hcl', '--auto-approve'], {
      cwd,
      env: withUrl(),
      message: /atlas\.hcl line 7: variable "schema_file" has no default and no value was given; pass --var schema_file=VALUE\.$/,
    });
  });

  test('--var without "="', async () => {
    const cwd = repository({ 'atlas.hcl': fs.readFileSync(fixture('good.hcl'), 'utf8'), 'schema.sql': V1() });
    await refused(['apply', '--config', 'atlas.hcl', '--var', 'schema_file', '--auto-approve'], {
      cwd,
      env: withUrl(),
      message: /--var schema_file is not of the form name=value; write it as --var schema_file=value\.$/,
    });
  });

  test('a src outside the repository is refused, naming the path; --to outside it stays allowed', async () => {
    const outside = path.join(work, 'outside.sql');
    fs.writeFileSync(outside, V1());
    const hcl = 'env "local" {\n  url = getenv("BAD_INPUT_URL")\n  src = "file://../../outside.sql"\n}\n';
    const cwd = repository({ 'db/atlas.hcl': hcl, 'db/schema.sql': V1() });
    // ../../outside.sql from <work>/repo-x/db is <work>/outside.sql: outside <work>/repo-x
    const result = await refused(['apply', '--config', 'db/atlas.hcl', '--auto-approve'], {
      cwd,
      env: withUrl(),
      message: /Failed at config: db\/atlas\.hcl line 3: src "file:\/\/\.\.\/\.\.\/outside\.sql" names .*outside\.sql, which is outside the repository /,
    });
    assert.ok(result.stderr.includes(outside), result.stderr);
    // the same file named on the command line is the user's explicit choice
    const good = repository({ 'db/atlas.hcl': hcl.replace('../../outside.sql', 'schema.sql'), 'db/schema.sql': 'CREATE TABLE other (id int);\n' });
    const explicit = await runCli(['plan', '--config', 'db/atlas.hcl', '--to', `file://${outside}`], { cwd: good, env: withUrl() });
    assert.equal(explicit.code, 0, explicit.output);
    assert.match(explicit.stdout, /No changes/);
  });

  test('the repository root is the workspace root, else .git, else the config folder', async () => {
    const hcl = (src: string) => `env "local" {\n  url = "postgres://u@h/db"\n  src = "${src}"\n}\n`;
    // a workspace: packages/database/atlas.hcl may name a file at the workspace root
    const workspace = repository({
      'package.json': JSON.stringify({ workspaces: ['packages/*'] }),
      'packages/database/atlas.hcl': hcl('file://../../schema.sql'),
      'schema.sql': V1(),
    });
    fs.rmSync(path.join(workspace, '.git'), { recursive: true });
    const inWorkspace = await loadEnvironment({ configPath: path.join(workspace, 'packages/database/atlas.hcl'), envName: 'local', env: {} });
    assert.deepEqual(inWorkspace.schemaFiles, [path.join(workspace, 'schema.sql')]);
    // no repository marker at all: the config's own folder is the limit
    const bare = fs.mkdtempSync(path.join(work, 'bare-'));
    fs.mkdirSync(path.join(bare, 'db'));
    fs.writeFileSync(path.join(bare, 'schema.sql'), V1());
    fs.writeFileSync(path.join(bare, 'db', 'atlas.hcl'), hcl('file://../schema.sql'));
    await assert.rejects(loadEnvironment({ configPath: path.join(bare, 'db', 'atlas.hcl'), envName: 'local', env: {} }), (error: Error) => {
      assert.ok(error instanceof SqlfirstError);
      assert.match(error.message, /line 3: src "file:\/\/\.\.\/schema\.sql" names .*schema\.sql, which is outside the repository/);
      return true;
    });
    // a symbolic link inside the repository that leads outside it is outside too
    const linked = repository({ 'atlas.hcl': hcl('file://schema.sql') });
    fs.symlinkSync(path.join(bare, 'schema.sql'), path.join(linked, 'schema.sql'));
    await assert.rejects(loadEnvironment({ configPath: path.join(linked, 'atlas.hcl'), envName: 'local', env: {} }), /which is outside the repository/);
  });
});

describe('URLs and flags', () => {
  const to = () => `file://${fixture('v1.sql')}`;
  const port = () => server.port;
  const withQuery = (url: string, query: string) => `${url.replace(/\?.*$/, '')}?${query}`;

  test('a URL without a database name', async () => {
    await refused(['plan', '--url', `postgres://someone:secret-pw@127.0.0.1:${port()}`, '--to', to()], {
      message: /^✖ Failed at connect: The database URL postgres:\/\/someone:\*\*\*\*@127\.0\.0\.1:\d+ names no database; add one after the host, as in postgres:\/\/user@host:5432\/dbname\.$/,
    });
  });

  test('a password that is not percent-encoded', async () => {
    await refused(['plan', '--url', `postgres://someone:se/cret@127.0.0.1:${port()}/db`, '--to', to()], {
      message: /^✖ Failed at connect: The database URL has an @ after its host part; if the user name or password holds characters such as @ : \/ \? # % or spaces, percent-encode them \(urlescape\(\) in atlas\.hcl, encodeURIComponent\(\) in JavaScript\) and run again\.$/,
    });
  });

  test('a % that is not percent-encoding', async () => {
    await refused(['plan', '--url', `postgres://someone:100%zz@127.0.0.1:${port()}/db`, '--to', to()], {
      message: /^✖ Failed at connect: The database URL postgres:\/\/someone:\*\*\*\*@127\.0\.0\.1:\d+\/db has a % in its password that is not followed by two hexadecimal digits; write a literal % as %25\.$/,
    });
  });

  test('an unknown sslmode', async () => {
    await refused(['plan', '--url', withQuery(target, 'sslmode=bogus'), '--to', to()], {
      message: /bad_input_target\?sslmode=bogus has an unknown sslmode "bogus"; use one of disable, allow, prefer, require, verify-ca, verify-full\.$/,
    });
  });

  test('a URL that is not postgres://', async () => {
    await refused(['plan', '--url', `mysql://someone:secret-pw@127.0.0.1:${port()}/db`, '--to', to()], {
      message: /^✖ Failed at connect: The database URL mysql:\/\/someone:\*\*\*\*@127\.0\.0\.1:\d+\/db does not start with postgres:\/\/; write it as postgres:\/\/user@host:5432\/dbname \(with user:password before the @ when there is a password\)\.$/,
    });
  });

  test('--to with a URL that is not a file', async () => {
    await refused(['plan', '--url', target, '--to', 'https://example.com/schema.sql'], {
      message: /--to https:\/\/example\.com\/schema\.sql is not a file; sqlfirst reads the desired schema from SQL files/,
    });
  });

  test('--connect-timeout that is not a number', async () => {
    await refused(['plan', '--url', target, '--to', to(), '--connect-timeout', 'soon'], {
      message: /--connect-timeout soon is not a number of seconds/,
    });
  });
});
