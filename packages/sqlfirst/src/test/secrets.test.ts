/**
 * Secrets under every failure: with a password full of characters that break
 * URLs, shells and JSON, every way a run can fail (bad input, wrong password,
 * unreachable, stalled, TLS refused, drizzle-kit failing, the engine failing,
 * missing variables) — plain, with --verbose and with --json — must print the
 * password in no form, and leave it in no file the run wrote.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../embedded/server.js';
import { runCli, type CliResult } from './support/cli.js';
import { requirePasswords, startTestServer, urlFor, type TestServer } from './support/server.js';

// taken before anything of this file runs: whatever appears in the temporary folder after it is scanned
const STARTED = Date.now();
const TMP = os.tmpdir();
const TMP_BEFORE = new Set(fs.readdirSync(TMP));

const here = path.dirname(fileURLToPath(import.meta.url));
const REAL_CONFIG = path.resolve(here, '../../../database/atlas.hcl');
const MAIN_STATE = path.resolve(here, '../../../../.sqlfirst');

const USER = 'secrets_user';
const PASSWORD = `Pa$$:w@rd/%#?&=+ 'é"`;
const WRONG = `${PASSWORD}~wrong`;

/** Every form the password could be printed or written in; WRONG starts with PASSWORD, so these catch it too. */
const FORMS = [
  PASSWORD,
  encodeURIComponent(PASSWORD),
  encodeURI(PASSWORD),
  // as it appears inside a JSON string
  JSON.stringify(PASSWORD).slice(1, -1),
  // enough of it to be unmistakable, for partial leaks
  'Pa$$:w@rd',
  encodeURIComponent('Pa$$:w@rd'),
];

const STACK_TRACE = /\n\s+at .+:\d+:\d+/;

let server: TestServer;
/** a temporary repository the CLI runs in */
let repo: string;
/** v1 with duplicate names: adding a UNIQUE constraint fails on the target only */
let target: string;
const sockets: net.Socket[] = [];
const listeners: net.Server[] = [];
let stalledPort: number;
let closedPort: number;
const outputs: { name: string; result: CliResult }[] = [];

const V1 = 'CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(20,8));\n';

before(async () => {
  // private: the test scans the server's own files for the password
  server = await startTestServer({ private: true });
  await requirePasswords(server, USER, PASSWORD);
  repo = fs.mkdtempSync(path.join(TMP, 'sqlfirst-secrets-'));
  fs.mkdirSync(path.join(repo, '.git'));
  const files: Record<string, string | Buffer> = {
    'atlas.hcl': ATLAS_HCL,
    'sandbox/atlas.hcl': fs.readFileSync(REAL_CONFIG, 'utf8'),
    'sandbox/schema.sql': V1,
    'schema.sql': V1,
    'syntax-error.sql': `${V1}\nCREATE TABEL broken (id int);\n`,
    'insert.sql': `${V1}INSERT INTO items VALUES (1, 'x', 1);\n`,
    'missing.sql': `${V1}CREATE TABLE orders (id int, item_id int REFERENCES nowhere (id));\n`,
    'composite.sql': 'CREATE TYPE pair AS (a int, b text);\nCREATE TABLE things (id int PRIMARY KEY, both_parts pair);\n',
    'empty.sql': '',
    'latin1.sql': Buffer.from('CREATE TABLE caf\xe9 (id int);\n', 'latin1'),
    'check.sql': 'CREATE TABLE items (id int PRIMARY KEY, price numeric CHECK (cost > 0));\n',
    'unique.sql': `${V1}ALTER TABLE items ADD CONSTRAINT items_name_key UNIQUE (name);\nCREATE TABLE extra (id int);\n`,
    'v2.sql': `${V1}CREATE TABLE extra (id int);\n`,
  };
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(repo, name)), { recursive: true });
    fs.writeFileSync(path.join(repo, name), content);
  }
  target = await database('secrets_target');
  const applied = await runCli(['apply', '--url', target, '--to', 'file://schema.sql', '--auto-approve'], { cwd: repo });
  assert.equal(applied.code, 0, applied.output);
  await server.query(target, "INSERT INTO items VALUES (1, 'same', 1), (2, 'same', 2)");

  closedPort = await freePort();
  // accepts and never answers
  stalledPort = await listen((socket) => sockets.push(socket));
});

after(async () => {
  sockets.forEach((socket) => socket.destroy());
  await Promise.all(listeners.map((listener) => new Promise((resolve) => listener.close(resolve))));
  await server?.stop();
  if (repo) fs.rmSync(repo, { recursive: true, force: true });
});

function listen(onConnection: (socket: net.Socket) => void): Promise<number> {
  const listener = net.createServer(onConnection);
  listeners.push(listener);
  return new Promise((resolve) => listener.listen(0, '127.0.0.1', () => resolve((listener.address() as net.AddressInfo).port)));
}

/** A database owned by the password-checked user, as a URL with the password in it. */
async function database(name: string): Promise<string> {
  const admin = await server.createDatabase(name);
  await server.query(server.url, `ALTER DATABASE "${name}" OWNER TO ${USER}`);
  await server.query(admin, `ALTER SCHEMA public OWNER TO ${USER}`);
  return urlFor(server, USER, PASSWORD, name);
}

/** The test server's URL for the user, with another password, port, database or query. */
function url(options: { password?: string; port?: number; database?: string; query?: string } = {}): string {
  const password = encodeURIComponent(options.password ?? PASSWORD);
  const base = `postgres://${USER}:${password}@127.0.0.1:${options.port ?? server.port}`;
  return `${base}/${options.database ?? 'secrets_target'}?${options.query ?? 'sslmode=disable'}`;
}

/**
 * A config whose environments take the password from the environment, as the real one
 * does: urlescape(getenv(...)), a var, and an expression the config stage refuses.
 */
const ATLAS_HCL = `
variable "password" {
  type    = string
  default = ""
}

locals {
  url = "postgres://\${urlescape(getenv("T_USER"))}:\${urlescape(getenv("T_PASSWORD"))}@127.0.0.1:\${getenv("T_PORT")}/secrets_target?sslmode=disable"
}

env "local" {
  src = "file://schema.sql"
  url = local.url
}

env "bad_schema" {
  src = "file://syntax-error.sql"
  url = local.url
}

env "by_var" {
  src = "file://schema.sql"
  url = "postgres://secrets_user:\${urlescape(var.password)}@127.0.0.1:\${getenv("T_PORT")}/secrets_target?sslmode=disable"
}

env "unsupported" {
  src = "file://schema.sql"
  url = "postgres://secrets_user:\${upper(getenv("T_PASSWORD"))}@127.0.0.1:5432/secrets_target"
}
`;

const tcpEnv = (password = PASSWORD, port?: number) => ({ T_USER: USER, T_PASSWORD: password, T_PORT: String(port ?? server.port) });

interface FailureMode {
  name: string;
  args: () => string[];
  env?: () => Record<string, string | undefined>;
  /** what the failure must say, to prove the intended failure happened */
  message: RegExp;
  todo?: string;
}

const SANDBOX_UNSET = { PG_SANDBOX_HOST: undefined, PG_SANDBOX_USER: undefined, PG_SANDBOX_PASSWORD: undefined };

const MODES: FailureMode[] = [
  // bad inputs that reach a connection
  { name: 'a syntax error in the schema', args: () => ['apply', '--url', target, '--to', 'file://syntax-error.sql', '--auto-approve'], message: /syntax-error\.sql line 3: syntax error/ },
  { name: 'INSERT in the schema', args: () => ['apply', '--url', target, '--to', 'file://insert.sql', '--auto-approve'], message: /insert\.sql line 2: INSERT does not belong/ },
  { name: 'an object no statement creates', args: () => ['plan', '--url', target, '--to', 'file://missing.sql'], message: /relation "nowhere" does not exist/ },
  { name: 'a missing schema file', args: () => ['plan', '--url', target, '--to', 'file://nope.sql'], message: /nope\.sql does not exist/ },
  { name: 'an empty schema file', args: () => ['plan', '--url', target, '--to', 'file://empty.sql'], message: /has no SQL statements/ },
  { name: 'a schema file that is not UTF-8', args: () => ['plan', '--url', target, '--to', 'file://latin1.sql'], message: /is not valid UTF-8/ },
  { name: 'a CHECK on a missing column', args: () => ['plan', '--url', target, '--to', 'file://check.sql'], message: /column "cost" does not exist/ },
  { name: 'an unknown sslmode', args: () => ['plan', '--url', url({ query: 'sslmode=bogus' }), '--to', 'file://schema.sql'], message: /unknown sslmode "bogus"/ },
  { name: 'a URL without a database', args: () => ['plan', '--url', url().replace(/\/secrets_target\?.*$/, ''), '--to', 'file://schema.sql'], message: /names no database/ },
  { name: 'a mysql:// URL', args: () => ['plan', '--url', url().replace(/^postgres:/, 'mysql:'), '--to', 'file://schema.sql'], message: /does not start with postgres:\/\// },
  {
    name: 'a URL whose password is not percent-encoded',
    args: () => ['plan', '--url', `postgres://${USER}:${PASSWORD}@127.0.0.1:${server.port}/secrets_target`, '--to', 'file://schema.sql'],
    message: /has an @ after its host part; if the user name or password holds characters such as @ : \/ \? # % or spaces, percent-encode them/,
  },
  { name: '--to given a database URL', args: () => ['plan', '--url', target, '--to', url()], message: /is not a file/ },
  {
    name: '--to given an https URL with the password',
    args: () => ['plan', '--url', target, '--to', `https://${USER}:${encodeURIComponent(PASSWORD)}@example.com/schema.sql`],
    message: /is not a file/,
  },
  { name: '--dev-url on a closed port', args: () => ['plan', '--url', target, '--to', 'file://schema.sql', '--dev-url', url({ port: closedPort, database: 'postgres' })], message: /connection was refused/ },
  { name: 'an atlas.hcl env whose schema does not load', args: () => ['apply', '--env', 'bad_schema', '--auto-approve'], env: () => tcpEnv(), message: /syntax-error\.sql line 3: syntax error/ },
  { name: 'an atlas.hcl expression the config refuses', args: () => ['plan', '--env', 'unsupported'], env: () => tcpEnv(), message: /the expression upper\(getenv\("T_PASSWORD"\)\) is not supported/ },
  { name: '--var naming no variable', args: () => ['plan', '--env', 'by_var', '--var', `pasword=${PASSWORD}`], env: () => tcpEnv(), message: /--var pasword names no variable/ },
  { name: '--var without "="', args: () => ['plan', '--env', 'by_var', '--var', 'password'], env: () => tcpEnv(), message: /--var password is not of the form name=value/ },
  // connection failures
  { name: 'a wrong password', args: () => ['apply', '--url', url({ password: WRONG }), '--to', 'file://v2.sql', '--auto-approve'], message: /Password authentication failed for user "secrets_user"/ },
  { name: 'a wrong password from the environment', args: () => ['apply', '--auto-approve'], env: () => tcpEnv(WRONG), message: /Password authentication failed for user "secrets_user"/ },
  { name: 'a wrong password given by --var', args: () => ['plan', '--env', 'by_var', '--var', `password=${WRONG}`], env: () => tcpEnv(), message: /Password authentication failed for user "secrets_user"/ },
  { name: 'an unreachable host (closed port)', args: () => ['plan', '--url', url({ port: closedPort }), '--to', 'file://schema.sql'], message: /connection was refused/ },
  { name: 'an unreachable host from the environment', args: () => ['plan'], env: () => tcpEnv(PASSWORD, closedPort), message: /connection was refused/ },
  {
    name: 'a stalled server',
    args: () => ['plan', '--url', url({ port: stalledPort }), '--to', 'file://schema.sql', '--connect-timeout', '2'],
    message: /did not answer within 2 s/,
  },
  { name: 'TLS refused', args: () => ['plan', '--url', url({ query: 'sslmode=require' }), '--to', 'file://schema.sql'], message: /does not accept TLS connections/ },
  // later stages
  {
    name: 'a column type Drizzle cannot express (types)',
    args: () => ['types', '--url', target, '--to', 'file://composite.sql', '--types-dir', 'types'],
    message: /Drizzle has no column type for the PostgreSQL type of things\.both_parts \(pair\)/,
  },
  {
    name: 'a column type Drizzle cannot express (sync)',
    args: () => ['sync', '--url', target, '--to', 'file://composite.sql', '--types-dir', 'types', '--force', '--auto-approve'],
    message: /Drizzle has no column type/,
  },
  { name: 'the engine failing on the target', args: () => ['apply', '--url', target, '--to', 'file://unique.sql', '--auto-approve'], message: /could not create unique index/ },
  {
    name: 'missing environment variables for sandbox',
    args: () => ['apply', '--config', 'sandbox/atlas.hcl', '--env', 'sandbox', '--auto-approve'],
    env: () => ({ ...SANDBOX_UNSET, PG_SANDBOX_PASSWORD: PASSWORD, PG_SANDBOX_USER: USER }),
    message: /Environment "sandbox" needs PG_SANDBOX_HOST, which is not set/,
  },
  {
    name: 'sandbox with every variable set, on a closed port',
    args: () => ['plan', '--config', 'sandbox/atlas.hcl', '--env', 'sandbox', '--connect-timeout', '2'],
    // atlas.hcl fixes port 5432; 127.0.0.2 answers nothing there
    env: () => ({ PG_SANDBOX_HOST: '127.0.0.2', PG_SANDBOX_PASSWORD: PASSWORD, PG_SANDBOX_USER: USER }),
    message: /127\.0\.0\.2:5432/,
  },
];

function assertNoSecret(text: string, where: string): void {
  for (const form of FORMS) assert.ok(!text.includes(form), `the password (as ${JSON.stringify(form)}) appears in ${where}:\n${text}`);
}

for (const mode of MODES) {
  // the three variants of a mode run side by side
  describe(mode.name, { concurrency: 3 }, () => {
    for (const variant of ['plain', '--verbose', '--json'] as const) {
      test(variant, { todo: mode.todo }, async () => {
        const args = [...mode.args(), ...(variant === 'plain' ? [] : [variant])];
        const result = await runCli(args, { cwd: repo, env: { ...mode.env?.() }, timeoutMs: 90_000 });
        outputs.push({ name: `${mode.name} ${variant}`, result });
        assertNoSecret(result.output, `the output of ${mode.name} (${variant})`);
        assert.equal(result.code, 1, `exit code 1 expected, got ${result.code}:\n${result.output}`);
        if (variant === '--json') {
          const parsed = JSON.parse(result.stdout) as { ok: boolean; error: string };
          assert.equal(parsed.ok, false);
          assert.match(parsed.error, mode.message);
          assert.equal(result.stderr, '', 'with --json, nothing on stderr');
        } else {
          assert.match(result.stderr.split('\n')[0], mode.message);
        }
        if (variant === 'plain') assert.doesNotMatch(result.output, STACK_TRACE, 'a stack trace without --verbose');
      });
    }
  });
}

describe('a reviewed plan that went stale', () => {
  test('plan --out writes no password, and apply --plan refuses without printing one', async () => {
    const planned = await runCli(['plan', '--url', target, '--to', 'file://v2.sql', '--out', 'reviewed.json'], { cwd: repo });
    assert.equal(planned.code, 0, planned.output);
    assertNoSecret(fs.readFileSync(path.join(repo, 'reviewed.json'), 'utf8'), 'reviewed.json');
    await server.query(target, 'CREATE TABLE drift (id int)');
    for (const variant of [[], ['--verbose'], ['--json']]) {
      const result = await runCli(['apply', '--url', target, '--to', 'file://v2.sql', '--plan', 'reviewed.json', '--auto-approve', ...variant], { cwd: repo });
      outputs.push({ name: `stale plan ${variant.join(' ')}`, result });
      assertNoSecret(result.output, 'the output of apply --plan');
      assert.equal(result.code, 1, result.output);
    }
  });
});

describe('files written during the runs', () => {
  test('every failure mode ran', () => {
    assert.ok(outputs.length >= MODES.length * 3, `only ${outputs.length} runs recorded`);
  });

  test('hold the password in no form', () => {
    const files = [
      ...fs
        .readdirSync(TMP)
        .filter((name) => !TMP_BEFORE.has(name))
        .flatMap((name) => walk(path.join(TMP, name))),
      ...walk(repo),
      ...walk(MAIN_STATE).filter((file) => modifiedSince(file, STARTED)),
    ];
    assert.ok(files.some((file) => file.startsWith(repo)), 'the scan missed the working folder');
    assert.ok(files.some((file) => file.startsWith(server.dataDir)), 'the scan missed the temporary folder');
    const needles = FORMS.map((form) => Buffer.from(form));
    const leaks: string[] = [];
    for (const file of new Set(files)) {
      let content: Buffer;
      try {
        content = fs.readFileSync(file);
      } catch {
        continue; // removed meanwhile (other test runs share the temporary folder)
      }
      for (const needle of needles) if (content.includes(needle)) leaks.push(`${file} holds ${JSON.stringify(needle.toString())}`);
    }
    assert.deepEqual(leaks, []);
  });
});

/** Regular files under `root` (not following links); [] when it is gone. */
function walk(root: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(root);
  } catch {
    return [];
  }
  if (stat.isFile()) return [root];
  if (!stat.isDirectory()) return [];
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  return names.flatMap((name) => walk(path.join(root, name)));
}

function modifiedSince(file: string, time: number): boolean {
  try {
    return fs.statSync(file).mtimeMs >= time;
  } catch {
    return false;
  }
}
