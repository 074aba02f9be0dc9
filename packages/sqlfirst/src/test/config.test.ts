import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseRegQueryOutput } from '../config/credentials.js';
import { findConfigFile, loadEnvironment, parseDuration, parseVarFlags, type LoadEnvironmentOptions } from '../config/environment.js';
import { urlEscape } from '../config/expressions.js';
import { SqlfirstError } from '../errors.js';
import { redact } from '../target/secrets.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// tests run from dist/test; fixtures and the real config stay in the sources
const FIXTURES = path.resolve(here, '../../src/test/fixtures/config');
const REAL_CONFIG = path.resolve(here, '../../../database/atlas.hcl');

const PASSWORD = 'p@ss: w/o%rd#? x';
const LOCAL_VARS = {
  DATABASE_HOST: 'localhost',
  DATABASE_PORT: '5433',
  DATABASE_LIVERMORE_USERNAME: 'livermore',
  DATABASE_LIVERMORE_PASSWORD: PASSWORD,
  LIVERMORE_DATABASE_NAME: 'livermore_dev',
};
const SANDBOX_VARS = {
  PG_SANDBOX_HOST: 'livermore-sandbox.postgres.database.azure.com',
  PG_SANDBOX_USER: 'livermore_admin',
  PG_SANDBOX_PASSWORD: 'sandbox-Secret#1',
};
const PRODUCTION_VARS = {
  PG_PRODUCTION_HOST: 'livermore.postgres.database.azure.com',
  PG_PRODUCTION_USER: 'livermore_owner',
  PG_PRODUCTION_PASSWORD: 'production-Secret/2',
};
const SECRETS = [PASSWORD, encodeURIComponent(PASSWORD), SANDBOX_VARS.PG_SANDBOX_PASSWORD, PRODUCTION_VARS.PG_PRODUCTION_PASSWORD];

/** parsed configs are cached here, not in the working tree */
const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-config-cache-'));

function load(options: Partial<LoadEnvironmentOptions> & { envName: string }) {
  return loadEnvironment({ configPath: REAL_CONFIG, env: {}, userEnvironment: () => ({}), cacheDir: CACHE, ...options });
}

/** The SqlfirstError the promise rejects with; its message must reveal no password. */
async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('expected a SqlfirstError'),
    (rejection: unknown) => rejection,
  );
  assert.ok(error instanceof SqlfirstError, `not a SqlfirstError: ${String(error)}`);
  for (const secret of SECRETS) assert.ok(!error.message.includes(secret), `the message reveals a password: ${error.message}`);
  return error.message;
}

const folders: string[] = [CACHE];
after(() => folders.forEach((folder) => fs.rmSync(folder, { recursive: true, force: true })));

/** A temporary project folder with an atlas.hcl and the given files; returns the config path. */
function project(hcl: string, files: Record<string, string> = { 'schema.sql': '' }): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-config-'));
  folders.push(folder);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    fs.writeFileSync(path.join(folder, name), content);
  }
  fs.writeFileSync(path.join(folder, 'atlas.hcl'), hcl);
  return path.join(folder, 'atlas.hcl');
}

describe('packages/database/atlas.hcl', () => {
  test('local: url from the DATABASE_* variables, one schema file, schemas, no drop_schema', async () => {
    const env = await load({ envName: 'local', env: LOCAL_VARS });
    const url = new URL(env.url!);
    assert.equal(url.protocol, 'postgres:');
    assert.equal(url.username, 'livermore');
    assert.equal(decodeURIComponent(url.password), PASSWORD);
    assert.equal(url.host, 'localhost:5433');
    assert.equal(url.pathname, '/livermore_dev');
    assert.equal(url.searchParams.get('sslmode'), 'disable');
    assert.equal(env.name, 'local');
    assert.equal(env.configPath, REAL_CONFIG);
    assert.deepEqual(env.schemaFiles, [path.resolve(REAL_CONFIG, '../schema.sql')]);
    assert.deepEqual(env.schemas, ['public', 'audit']);
    assert.deepEqual(env.policy, { skipDropSchema: true, skipDropTable: false });
    assert.equal(env.devUrl, undefined);
    assert.equal(env.lockTimeoutMs, undefined);
    assert.equal(env.statementTimeoutMs, undefined);
  });

  test('sandbox: url from PG_SANDBOX_*, database "livermore", TLS required, timeouts', async () => {
    const env = await load({ envName: 'sandbox', env: SANDBOX_VARS });
    assert.equal(env.url, 'postgres://livermore_admin:sandbox-Secret%231@livermore-sandbox.postgres.database.azure.com:5432/livermore?sslmode=verify-full');
    assert.deepEqual(env.policy, { skipDropSchema: true, skipDropTable: false });
    assert.deepEqual(env.schemaFiles, [path.resolve(REAL_CONFIG, '../schema.sql')]);
    assert.ok(path.isAbsolute(env.schemaFiles[0]));
    assert.equal(env.lockTimeoutMs, 5_000);
    assert.equal(env.statementTimeoutMs, 300_000);
  });

  test('production: never drops a schema or a table', async () => {
    const env = await load({ envName: 'production', env: PRODUCTION_VARS });
    assert.equal(env.url, 'postgres://livermore_owner:production-Secret%2F2@livermore.postgres.database.azure.com:5432/livermore?sslmode=verify-full');
    assert.deepEqual(env.policy, { skipDropSchema: true, skipDropTable: true });
    assert.equal(env.lockTimeoutMs, 5_000);
    assert.equal(env.statementTimeoutMs, 300_000);
  });

  test('a password with @ : / % # ? and spaces round-trips through the URL and is registered as a secret', async () => {
    const env = await load({ envName: 'sandbox', env: { ...SANDBOX_VARS, PG_SANDBOX_PASSWORD: PASSWORD } });
    assert.equal(decodeURIComponent(new URL(env.url!).password), PASSWORD);
    assert.equal(redact(`password ${PASSWORD} and ${encodeURIComponent(PASSWORD)}`), 'password **** and ****');
  });

  test('--var overrides a variable default', async () => {
    const env = await load({ envName: 'sandbox', env: SANDBOX_VARS, vars: parseVarFlags(['sandbox_database=livermore_pr42']) });
    assert.equal(new URL(env.url!).pathname, '/livermore_pr42');
  });

  test('local with none of its variables set uses the embedded database', async () => {
    const env = await load({ envName: 'local', env: { PG_SANDBOX_PASSWORD: SANDBOX_VARS.PG_SANDBOX_PASSWORD } });
    assert.equal(env.url, undefined);
    assert.deepEqual(env.policy, { skipDropSchema: true, skipDropTable: false });
  });

  test('local with some variables set names exactly the missing ones, in one error', async () => {
    const message = await failure(
      load({ envName: 'local', env: { DATABASE_HOST: 'localhost', DATABASE_LIVERMORE_PASSWORD: PASSWORD, DATABASE_PORT: '' } }),
    );
    assert.equal(
      message,
      'Environment "local" needs DATABASE_LIVERMORE_USERNAME, DATABASE_PORT and LIVERMORE_DATABASE_NAME, which are not set; ' +
        'set them in your environment (on Windows: your user environment variables) and run again.',
    );
  });

  test('sandbox with missing variables names them all, and the sandbox is not treated as local', async () => {
    const message = await failure(load({ envName: 'sandbox', env: { PG_SANDBOX_PASSWORD: SANDBOX_VARS.PG_SANDBOX_PASSWORD } }));
    assert.match(message, /^Environment "sandbox" needs PG_SANDBOX_USER and PG_SANDBOX_HOST, which are not set; set them/);
    const none = await failure(load({ envName: 'sandbox' }));
    assert.match(none, /needs PG_SANDBOX_USER, PG_SANDBOX_PASSWORD and PG_SANDBOX_HOST, which are not set/);
  });

  test('an unknown environment lists the ones that exist', async () => {
    const message = await failure(load({ envName: 'staging', env: LOCAL_VARS }));
    assert.match(message, /atlas\.hcl has no environment "staging"; use one of "local", "production", "sandbox"\.$/);
  });

  test('a --var for a variable the file does not declare is refused', async () => {
    const message = await failure(load({ envName: 'sandbox', env: SANDBOX_VARS, vars: { sandbox_db: 'x' } }));
    assert.match(message, /--var sandbox_db names no variable of .*atlas\.hcl \(it declares "production_database", "sandbox_database"\); fix the name\./);
  });
});

describe('Windows user environment', () => {
  test('a variable missing from the process environment is read from the user environment, once', async () => {
    let reads = 0;
    const userEnvironment = () => {
      reads++;
      return { PG_SANDBOX_PASSWORD: PASSWORD, pg_sandbox_user: 'from_registry' };
    };
    const env = await load({ envName: 'sandbox', env: { PG_SANDBOX_HOST: SANDBOX_VARS.PG_SANDBOX_HOST }, userEnvironment });
    const url = new URL(env.url!);
    assert.equal(url.username, 'from_registry', 'names are case-insensitive, as on Windows');
    assert.equal(decodeURIComponent(url.password), PASSWORD);
    assert.equal(reads, 1);
    assert.equal(redact(PASSWORD), '****');
  });

  test('the registry is not read when the process environment has everything', async () => {
    const userEnvironment = () => assert.fail('the user environment was read');
    // PG_SANDBOX_PORT is optional, but a missing one is looked for in the registry too
    await load({ envName: 'sandbox', env: { ...SANDBOX_VARS, PG_SANDBOX_PORT: '5432' }, userEnvironment });
  });

  test('the process environment wins over the user environment', async () => {
    const env = await load({ envName: 'sandbox', env: SANDBOX_VARS, userEnvironment: () => ({ PG_SANDBOX_USER: 'stale' }) });
    assert.equal(new URL(env.url!).username, SANDBOX_VARS.PG_SANDBOX_USER);
  });

  test('an empty value in the user environment still counts as missing', async () => {
    const message = await failure(
      load({ envName: 'sandbox', env: { ...SANDBOX_VARS, PG_SANDBOX_HOST: '' }, userEnvironment: () => ({ PG_SANDBOX_HOST: '' }) }),
    );
    assert.match(message, /needs PG_SANDBOX_HOST, which is not set; set it in your environment/);
  });
});

describe('parseRegQueryOutput (recorded reg query HKCU\\Environment)', () => {
  const processEnv = { USERPROFILE: 'C:\\Users\\alice', LocalAppData: 'C:\\Users\\alice\\AppData\\Local' };

  test('REG_SZ, REG_EXPAND_SZ, spaces, empty values, CRLF', () => {
    const text = fs.readFileSync(path.join(FIXTURES, 'reg-query-crlf.txt'), 'utf8');
    assert.ok(text.includes('\r\n'), 'the fixture keeps its CRLF line endings');
    const values = parseRegQueryOutput(text, processEnv);
    assert.deepEqual(values, {
      OneDrive: 'C:\\Users\\alice\\OneDrive',
      Path: 'C:\\Users\\alice\\AppData\\Local\\Microsoft\\WindowsApps;C:\\Users\\alice\\.dotnet\\tools',
      TEMP: 'C:\\Users\\alice\\AppData\\Local\\Temp',
      TMP: 'C:\\Users\\alice\\AppData\\Local\\Temp',
      PG_SANDBOX_HOST: 'livermore-sandbox.postgres.database.azure.com',
      PG_SANDBOX_USER: 'livermore_admin',
      // REG_SZ is never expanded
      PG_SANDBOX_PASSWORD: 'c0rrect horse:battery@staple %NOT_EXPANDED%',
      DATABASE_LIVERMORE_PASSWORD: '',
      'My Tool Home': 'D:\\Program Files\\My Tool',
      // %LOCALAPPDATA% matches LocalAppData; an unknown reference stays as written
      TOOL_CACHE: 'C:\\Users\\alice\\AppData\\Local\\cache\\%UNDEFINED_VAR%',
    });
  });

  test('LF line endings, a value without padding, subkeys ignored', () => {
    const text = fs.readFileSync(path.join(FIXTURES, 'reg-query-lf.txt'), 'utf8');
    assert.deepEqual(parseRegQueryOutput(text, {}), {
      PG_PRODUCTION_HOST: 'livermore.postgres.database.azure.com',
      EMPTY_NO_PADDING: '',
    });
  });

  test('an empty registry value is a missing variable', async () => {
    const user = parseRegQueryOutput(fs.readFileSync(path.join(FIXTURES, 'reg-query-crlf.txt'), 'utf8'), processEnv);
    const message = await failure(load({ envName: 'local', env: { ...LOCAL_VARS, DATABASE_LIVERMORE_PASSWORD: undefined }, userEnvironment: () => user }));
    assert.match(message, /^Environment "local" needs DATABASE_LIVERMORE_PASSWORD, which is not set/);
  });
});

describe('expressions', () => {
  const env = { DB_USER: 'app', DB_PASSWORD: PASSWORD, HOST: 'db.internal' };

  test('locals referencing locals, variables with defaults, getenv in a variable default, $${ escapes', async () => {
    const configPath = project(`
variable "port" {
  type    = number
  default = 6543
}
variable "user" {
  type    = string
  default = getenv("DB_USER")
}
locals {
  credentials = "\${urlescape(var.user)}:\${urlescape(getenv("DB_PASSWORD"))}"
  server      = "\${getenv("HOST")}:\${var.port}"
  url         = "postgres://\${local.credentials}@\${local.server}/app?application_name=\${urlescape("a \\"b\\" $\${c}")}"
}
env "dev" {
  url = local.url
  dev = "postgres://\${local.credentials}@\${local.server}/shadow"
  src = "file://schema.sql"
}
`);
    const result = await loadEnvironment({ cacheDir: CACHE, configPath, envName: 'dev', env, userEnvironment: () => ({}) });
    const url = new URL(result.url!);
    assert.equal(url.username, 'app');
    assert.equal(decodeURIComponent(url.password), PASSWORD);
    assert.equal(url.host, 'db.internal:6543');
    assert.equal(url.searchParams.get('application_name'), 'a "b" ${c}');
    assert.equal(result.devUrl, result.url!.replace('/app?application_name=a%20%22b%22%20%24%7Bc%7D', '/shadow'));
    assert.deepEqual(result.policy, { skipDropSchema: false, skipDropTable: false });
    assert.deepEqual(result.schemas, []);
  });

  test('urlescape encodes like Go url.QueryEscape, but a space as %20', () => {
    assert.equal(urlEscape("a b@c:d/e%f#g?h&i=j+k!l*m'n(o)p~q.r_s-t"), 'a%20b%40c%3Ad%2Fe%25f%23g%3Fh%26i%3Dj%2Bk%21l%2Am%27n%28o%29p~q.r_s-t');
  });

  test('a docker:// dev URL is ignored: sqlfirst makes its own shadow database', async () => {
    const configPath = project('env "local" {\n  url = "postgres://u@h/db"\n  dev = "docker://postgres/16/dev"\n  src = "file://schema.sql"\n}\n');
    const result = await loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env: {} });
    assert.equal(result.devUrl, undefined);
    assert.equal(result.url, 'postgres://u@h/db');
  });

  test('a variable without a default needs --var', async () => {
    const configPath = project(`variable "db" {
  type = string
}
env "ci" {
  url = "postgres://u:\${urlescape(getenv("DB_PASSWORD"))}@h/\${var.db}"
}
`);
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'ci', env }));
    assert.match(message, /atlas\.hcl line 5: variable "db" has no default and no value was given; pass --var db=VALUE\.$/);
    const result = await loadEnvironment({ cacheDir: CACHE, configPath, envName: 'ci', env, vars: { db: 'ci_db' } });
    assert.equal(new URL(result.url!).pathname, '/ci_db');
  });

  test('only the chosen environment is evaluated', async () => {
    const configPath = project(`variable "needed_by_other" {
  type = string
}
env "other" {
  url = "postgres://\${var.needed_by_other}@\${getenv("OTHER_HOST")}/x"
}
env "this" {
  url = "postgres://u@h/db"
}
`);
    const result = await loadEnvironment({ cacheDir: CACHE, configPath, envName: 'this', env: {} });
    assert.equal(result.url, 'postgres://u@h/db');
  });

  // [expression, how the message names it, hint]
  const unsupported: [string, string, string][] = [
    ['upper(getenv("DB_USER"))', 'upper(getenv("DB_USER"))', 'upper() is not one of its functions'],
    ['1 + 2', '1 + 2', ''],
    // hcl2json turns a conditional into a template directive
    ['getenv("A") == "" ? "x" : "y"', '%{if getenv("A") == ""}', 'template directives'],
    ['[for s in local.list : s]', '[for s in local.list : s]', ''],
    ['env.other.url', 'env.other.url', ''],
    ['local.list[0]', 'local.list[0]', ''],
    ['getenv("A", "B")', 'getenv("A", "B")', 'getenv() takes one argument'],
  ];
  for (const [expression, named, hint] of unsupported) {
    test(`an unsupported expression is named with its line: ${expression}`, async () => {
      const configPath = project(`locals {
  list = ["a"]
  url  = "postgres://\${getenv("DB_PASSWORD")}@\${${expression}}/db"
}

env "local" {
  url = local.url
}
`);
      const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env }));
      assert.ok(message.includes(`atlas.hcl line 3: the expression ${named} is not supported`), message);
      if (hint) assert.ok(message.includes(`(${hint})`), message);
      assert.match(message, /so simplify it\.$/);
    });
  }

  test('a bare unsupported expression (no quotes) is found on its line', async () => {
    const configPath = project('env "local" {\n  src = "file://schema.sql"\n\n  url = upper(getenv("DB_PASSWORD"))\n}\n');
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env }));
    assert.match(message, /atlas\.hcl line 4: the expression upper\(getenv\("DB_PASSWORD"\)\) is not supported/);
  });

  test('a template directive is refused', async () => {
    const configPath = project('env "local" {\n  url = "postgres://%{ if true }u%{ endif }@h/db"\n}\n');
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env }));
    assert.match(message, /atlas\.hcl line 2: the expression %\{if true\} is not supported \(template directives\)/);
  });

  test('an undefined local, an undeclared variable and a cycle are named with their line', async () => {
    const configPath = project(`locals {
  a = local.b
  b = "\${local.a}/x"
}
env "missing_local" {
  url = local.nope
}
env "missing_var" {
  url = "postgres://\${var.nope}@h/db"
}
env "cycle" {
  url = local.a
}
`);
    const run = (envName: string) => failure(loadEnvironment({ cacheDir: CACHE, configPath, envName, env }));
    assert.match(await run('missing_local'), /atlas\.hcl line 6: local\.nope is not defined; add it to a locals block or fix the name\.$/);
    assert.match(await run('missing_var'), /atlas\.hcl line 9: var\.nope is not declared; add a variable "nope" block or fix the name\.$/);
    // reported where the cycle closes: b refers back to a, which is being evaluated
    assert.match(await run('cycle'), /atlas\.hcl line 3: local\.a refers back to itself; break the cycle\.$/);
  });

  test('broken HCL syntax names the file and the line', async () => {
    const configPath = project('env "local" {\n  src = "file://schema.sql"\n  url = \n}\n');
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env }));
    assert.match(message, /atlas\.hcl line 3: Invalid expression \(Expected the start of an expression, but found an invalid expression token\); fix the syntax and run again\.$/);
  });

  test('of several parser diagnostics, the first is reported', async () => {
    const configPath = project('locals {\n  a = "x"\n}\n\nenv "local" {\n  url = "postgres://${getenv("DB_PASSWORD")\n}\n');
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env }));
    // the unclosed string on line 6 runs into line 7, where the parser notices it
    assert.match(message, /atlas\.hcl line 7: Invalid multi-line string \(Quoted strings may not be split over multiple lines\. .*heredoc" multi-line template syntax\); fix the syntax and run again\.$/);
  });

  test('a missing variable is reported as missing, not as a bad value where it is used', async () => {
    const configPath = project('env "local" {\n  url = "postgres://u@h/db"\n  src = "file://${getenv("SCHEMA_DIR")}"\n  lock_timeout = getenv("LOCK_TIMEOUT")\n}\n');
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env }));
    assert.match(message, /^Environment "local" needs SCHEMA_DIR and LOCK_TIMEOUT, which are not set; set them/);
  });

  test('a structural HCL error is one sentence too', async () => {
    const configPath = project('env "local" {\n  url = "postgres://u@h/db"\n}\nenv {\n  name = atlas.env\n}\n');
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env }));
    assert.match(message, /atlas\.hcl: invalid HCL detected for "env" block, cannot have blocks with and without labels; fix the syntax and run again\.$/);
  });

  test('a missing config file is one clear sentence', async () => {
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath: path.join(os.tmpdir(), 'no-such-dir', 'atlas.hcl'), envName: 'local' }));
    assert.match(message, /^Cannot read the config file .*atlas\.hcl; check that it exists or pass --config PATH\.$/);
  });

  test('a timeout that is not a duration is named with its line', async () => {
    const configPath = project('env "local" {\n  url = "postgres://u@h/db"\n  lock_timeout = "5 seconds"\n}\n');
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env }));
    assert.match(message, /atlas\.hcl line 3: lock_timeout "5 seconds" is not a duration; write it like "500ms", "5s" or "2m"\.$/);
  });

  test('an env other than local without a url is an error', async () => {
    const configPath = project('env "staging" {\n  src = "file://schema.sql"\n}\n');
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'staging', env }));
    assert.match(message, /atlas\.hcl line 1: environment "staging" has no url; add url = "postgres:\/\/\.\.\." to it\.$/);
  });

  test('diff skip values must be booleans', async () => {
    const configPath = project('env "local" {\n  diff {\n    skip {\n      drop_table = "yes"\n    }\n  }\n}\n');
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env }));
    assert.match(message, /atlas\.hcl line 4: drop_table must be true or false\.$/);
  });
});

describe('schema sources', () => {
  const hcl = (src: string) => `env "local" {\n  url = "postgres://u@h/db"\n  src = ${src}\n}\n`;

  test('a list of files, relative to the config folder, in the order given', async () => {
    const configPath = project(hcl('["file://b.sql", "file://sub/a.sql"]'), { 'b.sql': '', 'sub/a.sql': '' });
    const result = await loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env: {} });
    const folder = path.dirname(configPath);
    assert.deepEqual(result.schemaFiles, [path.join(folder, 'b.sql'), path.join(folder, 'sub/a.sql')]);
  });

  test('a directory gives its .sql files sorted by name', async () => {
    const configPath = project(hcl('"file://schema"'), { 'schema/20_tables.sql': '', 'schema/10_types.sql': '', 'schema/README.md': '', 'schema/30_views.sql': '' });
    const result = await loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env: {} });
    const folder = path.join(path.dirname(configPath), 'schema');
    assert.deepEqual(result.schemaFiles, ['10_types.sql', '20_tables.sql', '30_views.sql'].map((file) => path.join(folder, file)));
  });

  test('an absolute file:/// URL', async () => {
    const configPath = project(hcl('"file://schema.sql"'));
    const absolute = path.join(path.dirname(configPath), 'schema.sql');
    // a second config in the same repository names it by its absolute path
    const other = path.join(path.dirname(configPath), 'absolute.hcl');
    fs.writeFileSync(other, hcl(JSON.stringify(`file://${absolute}`)));
    const result = await loadEnvironment({ cacheDir: CACHE, configPath: other, envName: 'local', env: {} });
    assert.deepEqual(result.schemaFiles, [absolute]);
  });

  test('a missing file, a non-SQL file, an empty directory and a non-file URL are refused', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['"file://nope.sql"', {}, /line 3: src "file:\/\/nope\.sql" does not exist \(.*nope\.sql\); create it or fix src\.$/],
      ['"file://schema.hcl"', { 'schema.hcl': '' }, /line 3: src "file:\/\/schema\.hcl" is not a \.sql file/],
      ['"file://empty"', { 'empty/notes.txt': '' }, /line 3: src "file:\/\/empty" is a directory with no \.sql files/],
      ['"atlas://livermore"', {}, /line 3: src "atlas:\/\/livermore" is not a file:\/\/ URL/],
    ];
    for (const [src, files, expected] of cases) {
      const configPath = project(hcl(src), files);
      assert.match(await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env: {} })), expected);
    }
  });
});

describe('parseVarFlags', () => {
  test('splits on the first "="', () => {
    assert.deepEqual(parseVarFlags(['k=v', 'a=b=c', 'empty=']), { k: 'v', a: 'b=c', empty: '' });
  });

  test('a flag without a name or without "=" is an error that does not echo a value', async () => {
    assert.throws(() => parseVarFlags(['sandbox_database']), (error: Error) => {
      assert.ok(error instanceof SqlfirstError);
      assert.equal(error.message, '--var sandbox_database is not of the form name=value; write it as --var sandbox_database=value.');
      return true;
    });
    assert.throws(() => parseVarFlags([`=${PASSWORD}`]), (error: Error) => {
      assert.ok(error instanceof SqlfirstError);
      assert.ok(!error.message.includes(PASSWORD));
      return true;
    });
  });
});

describe('parseDuration', () => {
  test('Go-style durations in milliseconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('5s'), 5_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1.5s'), 1_500);
    for (const bad of ['5', '5 s', 's', '-1s', '5sec', '']) assert.equal(parseDuration(bad), undefined, bad);
  });
});

describe('findConfigFile', () => {
  test('explicit path, then ./atlas.hcl, then packages/database/atlas.hcl of the workspace root', () => {
    const configPath = project('', {
      'package.json': JSON.stringify({ workspaces: ['packages/*'] }),
      'packages/database/atlas.hcl': '',
      'packages/app/src/.keep': '',
    });
    const root = path.dirname(configPath);
    const database = path.join(root, 'packages/database/atlas.hcl');
    assert.equal(findConfigFile(root), configPath, './atlas.hcl comes first');
    assert.equal(findConfigFile(path.join(root, 'packages/app/src')), database);
    assert.equal(findConfigFile(path.join(root, 'packages/app'), '../../atlas.hcl'), configPath);
    assert.equal(findConfigFile(root, 'missing.hcl'), undefined);
  });

  test('undefined when there is no atlas.hcl and no workspace root', () => {
    const folder = path.dirname(project('', {}));
    fs.rmSync(path.join(folder, 'atlas.hcl'));
    const nested = path.join(folder, 'a', 'b');
    fs.mkdirSync(nested, { recursive: true });
    // the temporary folder's ancestors are assumed to hold no workspace package.json
    assert.equal(findConfigFile(nested), undefined);
  });
});

describe('variables named in URL errors (packages/database/atlas.hcl)', () => {
  test('PG_SANDBOX_PORT is optional: 5432 when not set, its value when set', async () => {
    assert.equal(new URL((await load({ envName: 'sandbox', env: SANDBOX_VARS })).url!).port, '5432');
    assert.equal(new URL((await load({ envName: 'sandbox', env: { ...SANDBOX_VARS, PG_SANDBOX_PORT: '6432' } })).url!).port, '6432');
    assert.equal(new URL((await load({ envName: 'production', env: { ...PRODUCTION_VARS, PG_PRODUCTION_PORT: '7432' } })).url!).port, '7432');
  });

  test('a host with a port names the host variable and the port variable', async () => {
    const message = await failure(load({ envName: 'sandbox', env: { ...SANDBOX_VARS, PG_SANDBOX_HOST: 'myhost:5433' } }));
    assert.match(message, /atlas\.hcl line \d+: PG_SANDBOX_HOST is "myhost:5433"; it must be a host name only — put the port in PG_SANDBOX_PORT\.$/);
  });

  test('a URL where a host belongs, and a port that is not a number, are named', async () => {
    const url = await failure(load({ envName: 'production', env: { ...PRODUCTION_VARS, PG_PRODUCTION_HOST: 'postgres://db.example.com' } }));
    assert.match(url, /PG_PRODUCTION_HOST is "postgres:\/\/db\.example\.com"; it must be a host name only \(such as db\.example\.com\), not a URL\.$/);
    const port = await failure(load({ envName: 'sandbox', env: { ...SANDBOX_VARS, PG_SANDBOX_PORT: '54 32' } }));
    assert.match(port, /PG_SANDBOX_PORT is "54 32"; it must be a port number \(1–65535\) such as 5432\.$/);
  });

  test('a password that is not urlescape()d is named without showing it', async () => {
    const configPath = project('env "local" {\n  url = "postgres://${getenv("APP_USER")}:${getenv("APP_PASSWORD")}@db:5432/app"\n}\n');
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env: { APP_USER: 'app', APP_PASSWORD: PASSWORD } }));
    assert.match(message, /atlas\.hcl line 2: APP_PASSWORD holds characters that break a URL \(\/ \? # % or spaces\); write urlescape\(getenv\("APP_PASSWORD"\)\) in atlas\.hcl\.$/);
  });

  test('values read by getenv() are masked, except the URL\'s user, host, port and database', async () => {
    const configPath = project(
      'env "local" {\n  url = "postgres://${getenv("U_NAME")}@${getenv("U_HOST")}:${getenv("U_PORT")}/${getenv("U_DB")}?application_name=${getenv("U_TAG")}"\n}\n',
    );
    const env = { U_NAME: 'alice_user', U_HOST: 'db-host.internal', U_PORT: '6543', U_DB: 'orders_db', U_TAG: 'tag-secret-value' };
    await loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env });
    assert.equal(redact('alice_user db-host.internal 6543 orders_db tag-secret-value'), 'alice_user db-host.internal 6543 orders_db ****');
  });
});

describe('a hostile atlas.hcl fails in one sentence that names the limit', () => {
  const locals = (lines: string[], url: string) => `locals {\n${lines.join('\n')}\n}\nenv "local" {\n  url = ${url}\n}\n`;

  test('a long chain of locals stops at the reference depth limit', async () => {
    const chain = ['  l0 = "x"', ...Array.from({ length: 2000 }, (_, i) => `  l${i + 1} = local.l${i}`)];
    const configPath = project(locals(chain, '"postgres://u@h/${local.l2000}"'));
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env: {} }));
    assert.match(message, /atlas\.hcl line \d+: local\.l\d+ is reached through more than 32 nested locals and variables \(the limit\); shorten the chain\.$/);
  });

  test('locals that double a string stop at the value size limit, quickly', async () => {
    const doubling = ['  d0 = "ab"', ...Array.from({ length: 24 }, (_, i) => `  d${i + 1} = "\${local.d${i}}\${local.d${i}}"`)];
    const configPath = project(locals(doubling, '"postgres://u@h/${local.d24}"'));
    const started = performance.now();
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env: {} }));
    assert.match(message, /atlas\.hcl line \d+: a value in local\.d16 is longer than 65536 characters \(the limit for one value\); shorten it\.$/);
    assert.ok(performance.now() - started < 5_000, 'bounded in time');
  });

  test('evaluation that runs too long stops at the time limit', async () => {
    const wide = Array.from({ length: 3000 }, (_, i) => `  w${i} = "v${i}"`);
    const configPath = project(locals(wide, '"postgres://u@h/db"').replace('}\n', `}\n`) + '');
    fs.appendFileSync(configPath, `env "wide" {\n  url = "postgres://u@h/db"\n  schemas = [${wide.map((_, i) => `local.w${i}`).join(', ')}]\n}\n`);
    const { EVALUATION_LIMITS } = await import('../config/document.js');
    const saved = EVALUATION_LIMITS.milliseconds;
    EVALUATION_LIMITS.milliseconds = 1;
    try {
      const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'wide', env: {} }));
      assert.match(message, /evaluating the environment took longer than 0\.001 s \(the limit\)(?: in local\.w\d+)?; simplify the locals\.$/);
    } finally {
      EVALUATION_LIMITS.milliseconds = saved;
    }
  });

  test('a config file larger than the limit is refused before parsing', async () => {
    const configPath = project(`# ${'x'.repeat(300 * 1024)}\nenv "local" {\n  url = "postgres://u@h/db"\n}\n`);
    const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env: {} }));
    assert.match(message, /^The config file .*atlas\.hcl is \d+ bytes, more than the limit of 262144; /);
  });

  test('deeply nested lists and expressions stop at the nesting limit', async () => {
    for (const schemas of [`${'['.repeat(40)}"a"${']'.repeat(40)}`, `"\${${'['.repeat(40)}"a"${']'.repeat(40)}}"`]) {
      const configPath = project(`env "local" {\n  url = "postgres://u@h/db"\n  schemas = ${schemas}\n}\n`);
      const message = await failure(loadEnvironment({ cacheDir: CACHE, configPath, envName: 'local', env: {} }));
      assert.match(message, /atlas\.hcl line 3: .*nested more than 32 levels deep \(the limit\); flatten it\.$/);
    }
  });
});

describe('parse cache', () => {
  const hcl = 'env "local" {\n  url = "postgres://u@h/db"\n}\n';

  test('an unchanged atlas.hcl is read from the cache, keyed by its bytes', async () => {
    const cacheDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-cache-')), 'cache');
    folders.push(path.dirname(cacheDir));
    const configPath = project(hcl);
    await loadEnvironment({ configPath, envName: 'local', env: {}, cacheDir });
    const [file] = fs.readdirSync(cacheDir);
    assert.match(file, /^hcl-[0-9a-f]{64}\.json$/);
    // a changed cached result is what the next load returns: the parser did not run again
    const cached = JSON.parse(fs.readFileSync(path.join(cacheDir, file), 'utf8'));
    cached.env.local[0].url = 'postgres://u@from-cache/db';
    fs.writeFileSync(path.join(cacheDir, file), JSON.stringify(cached));
    assert.equal((await loadEnvironment({ configPath, envName: 'local', env: {}, cacheDir })).url, 'postgres://u@from-cache/db');
    // one byte more is another key
    fs.appendFileSync(configPath, '\n');
    assert.equal((await loadEnvironment({ configPath, envName: 'local', env: {}, cacheDir })).url, 'postgres://u@h/db');
    assert.equal(fs.readdirSync(cacheDir).length, 2);
  });

  test('a cache folder that cannot be written is skipped, not an error', async () => {
    const configPath = project(hcl);
    const blocked = path.join(path.dirname(configPath), 'a-file');
    fs.writeFileSync(blocked, '');
    const result = await loadEnvironment({ configPath, envName: 'local', env: {}, cacheDir: path.join(blocked, 'cache') });
    assert.equal(result.url, 'postgres://u@h/db');
  });
});
