/**
 * The three environments of packages/database/atlas.hcl and the everyday scripts
 * (scripts/sync-schema, scripts/apply-schema-sandbox), end to end, as child
 * processes against real PostgreSQL servers this file starts: one plain (local)
 * and one that accepts the application role over TLS only (sandbox, production).
 * Tests within a group run side by side, each on its own database; the secrets
 * check runs last, over the output of every run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runCli, type CliResult } from './support/cli.js';
import { requirePasswords, startTestServer, type TestServer } from './support/server.js';
import { enableTls, sessionIsEncrypted } from './support/tls.js';
import { escapeRegExp } from '../text.js';

// dist/test → the repository root (packages/sqlfirst/dist/test/../../../..)
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const ATLAS = path.join(REPO, 'packages', 'database', 'atlas.hcl');
const SCHEMA = path.join(REPO, 'packages', 'database', 'schema.sql');
const TYPES_DIR = path.join(REPO, 'packages', 'database', 'src', 'schema');
const SYNC_SCRIPT = path.join(REPO, 'scripts', 'dist', 'sync-schema.js');
const SANDBOX_SCRIPT = path.join(REPO, 'scripts', 'dist', 'apply-schema-sandbox.js');

/**
 * Product bug, reported to the lead: `sync` pulls the types from the target after apply, so
 * they follow the order the engine created the objects in (and drizzle-kit's index opclasses
 * follow the catalog too); `sqlfirst types` pulls from the shadow (schema.sql's order). The
 * committed files match neither, so a fresh clone's `npm run db:sync` rewrites them.
 */

const USER = 'livermore';
const PASSWORD = 'S@nd:b/x%#?& 1';
/** the password in every form a URL or a careless message could carry it */
const PASSWORD_FORMS = [PASSWORD, encodeURIComponent(PASSWORD), passwordAsUrlWouldEncodeIt()];

const LOCAL_NAMES = ['DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_LIVERMORE_USERNAME', 'DATABASE_LIVERMORE_PASSWORD', 'LIVERMORE_DATABASE_NAME'];
const SANDBOX_NAMES = ['PG_SANDBOX_HOST', 'PG_SANDBOX_USER', 'PG_SANDBOX_PASSWORD'];
const PRODUCTION_NAMES = ['PG_PRODUCTION_HOST', 'PG_PRODUCTION_USER', 'PG_PRODUCTION_PASSWORD'];

let plain: TestServer;
let tls: TestServer;
/** a folder laid out as a repository: package.json with workspaces, atlas.hcl copies, schema.sql */
let configRepo: string;
/** cwd for the one run that uses the embedded database: its .sqlfirst/ lands here */
let embeddedRepo: string;
/** the real atlas.hcl beside a copy of schema.sql; PG_SANDBOX_PORT / PG_PRODUCTION_PORT pick the test server */
let config: string;
let recorder: ConnectionRecorder;
/** the TLS server's self-signed certificate: the CA that verify-full needs, given as PGSSLROOTCERT */
let tlsCa: string;
/** the TLS test config, managing one more schema: legacy */
let legacyConfig: string;

const allOutputs: string[] = [];
const failureOutputs: string[] = [];

before(async () => {
  // one at a time: if the second start fails, the first is already assigned and after() stops it
  plain = await startTestServer();
  // private: its TLS setup and pg_hba.conf would refuse every other test file's connections
  tls = await startTestServer({ private: true });
  await requirePasswords(plain, USER, PASSWORD);
  await requirePasswords(tls, USER, PASSWORD);
  await enableTls(tls);
  // the application role may only connect over TLS: any unencrypted session sqlfirst opened would be refused
  fs.writeFileSync(
    path.join(tls.dataDir, 'pg_hba.conf'),
    [
      'host all postgres 127.0.0.1/32 trust',
      'hostnossl all all 127.0.0.1/32 reject',
      'hostnossl all all ::1/128 reject',
      'hostssl all all 127.0.0.1/32 scram-sha-256',
      'hostssl all all ::1/128 scram-sha-256',
      '',
    ].join('\n'),
  );
  await tls.query(tls.url, 'SELECT pg_reload_conf()');
  await waitUntilPlainRefused(tls);

  configRepo = tempRepo('sqlfirst-envs-config-');
  fs.copyFileSync(SCHEMA, path.join(configRepo, 'schema.sql'));
  config = writeConfig('atlas.hcl');
  tlsCa = path.join(configRepo, 'tls-server.crt');
  fs.copyFileSync(path.join(tls.dataDir, 'server.crt'), tlsCa);
  recorder = await startRecorder();
  legacyConfig = writeConfig('atlas-legacy.hcl', ['legacy']);
  embeddedRepo = tempRepo('sqlfirst-envs-embedded-');
});

after(async () => {
  await recorder?.close();
  await Promise.all([plain?.stop(), tls?.stop()]);
  if (embeddedRepo) {
    await stopLeftoverEmbedded(embeddedRepo);
    fs.rmSync(embeddedRepo, { recursive: true, force: true });
  }
  if (configRepo) fs.rmSync(configRepo, { recursive: true, force: true });
});

describe('local', { concurrency: true }, () => {
  test('scripts/sync-schema brings the database to schema.sql and shows what it did', async () => {
    const db = await database(plain);
    const env = localEnv(plain, db);
    // cwd: a temporary repository, so the run's state (.sqlfirst/) stays out of the real one
    const first = await script(SYNC_SCRIPT, ['--no-types'], { env, cwd: configRepo });
    assert.equal(first.code, 0, first.output);
    const out = first.stdout;
    assert.match(out, /Environment\s+local\b/);
    assert.match(out, new RegExp(`Config\\s+\\S*${escapeRegExp(path.join('packages', 'database', 'atlas.hcl'))}\\n`));
    assert.match(out, new RegExp(`Target\\s+postgres://${USER}:\\*\\*\\*\\*@127\\.0\\.0\\.1:${plain.port}/${db}\\?sslmode=disable`));
    for (const step of ['connect', 'load schema', 'plan', 'apply', 'verify']) {
      assert.match(out, new RegExp(`✓ ${escapeRegExp(step)}\\s+\\d+(?: ms|\\.\\d s)`), `step "${step}" with a duration:\n${out}`);
    }
    assert.match(out, /Plan: \d+ to create, \d+ to alter, \d+ to drop/);
    assert.match(out, /✔ Synced: \d+ statements? applied\. \(\d+(?: ms|\.\d s)\)\n?$/);
    assert.equal((await plain.query(urlOf(plain, db), "SELECT to_regclass('audit.events') IS NOT NULL AS ok"))[0].ok, true);

    // the second sync with nothing changed takes the fast path (one catalog query) …
    const second = await script(SYNC_SCRIPT, ['--no-types'], { env, cwd: configRepo });
    assert.equal(second.code, 0, second.output);
    assert.match(second.stdout, /✔ Nothing changed since the last sync/);
    assert.doesNotMatch(second.stdout, /✓ load schema/);
    // … and a full plan agrees: nothing left to apply
    const plan = await runCli(['plan', '--env', 'local', '--config', ATLAS, '--exit-code'], { env, cwd: configRepo });
    record(plan);
    assert.equal(plan.code, 0, plan.output);
    assert.match(plan.stdout, /No changes: the database already matches the schema\./);
  });

  test('scripts/sync-schema with types generates exactly the committed Drizzle files', async () => {
    const db = await database(plain);
    // sqlfirst writes the types under the repository root found from the cwd: a temporary
    // one here, so the run cannot change (or race over) the committed files, only be compared with them
    const typesRepo = tempRepo('sqlfirst-envs-types-');
    // the repository's own settings (types folder, generated header), as in the real one
    const { sqlfirst } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { sqlfirst: unknown };
    fs.writeFileSync(path.join(typesRepo, 'package.json'), JSON.stringify({ workspaces: [], sqlfirst }));
    try {
      const result = await script(SYNC_SCRIPT, [], { env: localEnv(plain, db), cwd: typesRepo });
      assert.equal(result.code, 0, result.output);
      assert.match(result.stdout, /✓ write types\s.*updated schema\.ts, relations\.ts/);
      assert.match(result.stdout, /✔ Synced: \d+ statements? applied\. Drizzle types updated \(schema\.ts, relations\.ts\)\./);
      for (const name of ['schema.ts', 'relations.ts']) {
        const generated = fs.readFileSync(path.join(typesRepo, 'packages', 'database', 'src', 'schema', name));
        const committed = fs.readFileSync(path.join(TYPES_DIR, name));
        assert.ok(generated.equals(committed), `packages/database/src/schema/${name} differs from what npm run db:sync generates from schema.sql`);
      }
    } finally {
      fs.rmSync(typesRepo, { recursive: true, force: true });
    }
  });

  test('with none of its variables set, it says so and uses the embedded database, and stops it', async () => {
    const result = await runCli(['plan', '--env', 'local', '--config', ATLAS], { env: childEnv({}), cwd: embeddedRepo });
    record(result);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /No database configured: using the embedded PostgreSQL in \.sqlfirst[\\/]postgres\./);
    assert.match(result.stdout, /Target\s+postgres:\/\/postgres@127\.0\.0\.1:\d+\/sqlfirst\?sslmode=disable/);
    assert.match(result.stdout, /Plan: \d+ to create/);
    const dataDir = path.join(embeddedRepo, '.sqlfirst', 'postgres');
    assert.ok(fs.existsSync(path.join(dataDir, 'PG_VERSION')), 'the embedded data lives in the temporary repository');
    assert.equal(runningPostmaster(dataDir), undefined, 'the embedded server was stopped before exiting');
  });

  test('with some of its variables set, one error lists exactly the missing ones, before any connection', async () => {
    const connectionsBefore = recorder.connections;
    const env = childEnv({ DATABASE_HOST: '127.0.0.1', DATABASE_PORT: String(recorder.port), DATABASE_LIVERMORE_USERNAME: USER });
    const result = await failing(script(SYNC_SCRIPT, ['--no-types'], { env, cwd: configRepo }));
    const message = oneLine(result);
    for (const name of ['DATABASE_LIVERMORE_PASSWORD', 'LIVERMORE_DATABASE_NAME']) assert.match(message, new RegExp(`\\b${name}\\b`));
    for (const name of ['DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_LIVERMORE_USERNAME']) assert.doesNotMatch(message, new RegExp(`\\b${name}\\b`));
    assert.equal(recorder.connections, connectionsBefore, 'nothing may connect when variables are missing');
    assert.ok(!fs.existsSync(path.join(configRepo, '.sqlfirst', 'postgres')), 'no embedded server either');
  });
});

describe('sandbox', { concurrency: true }, () => {
  test('the test server really encrypts and refuses the application role without TLS', async () => {
    const db = await database(tls);
    assert.equal(await sessionIsEncrypted(urlOf(tls, db)), true);
    await assert.rejects(connectWithoutTls(tls, db), /no pg_hba\.conf entry|no encryption/);
  });

  test('scripts/apply-schema-sandbox applies over verified TLS (sslmode=verify-full) and converges', async () => {
    const db = await database(tls);
    const env = sandboxEnv(tls);
    // the script passes its own --config first; a later --config (the copy beside the test's schema.sql) wins
    const args = ['--config', config, '--var', `sandbox_database=${db}`, '--auto-approve'];
    const result = await script(SANDBOX_SCRIPT, args, { env, cwd: configRepo });
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /Environment\s+sandbox\b/);
    assert.match(result.stdout, new RegExp(`Target\\s+postgres://${USER}:\\*\\*\\*\\*@127\\.0\\.0\\.1:${tls.port}/${db}\\?sslmode=verify-full`));
    assert.match(result.stdout, /^sqlfirst apply$/m);
    assert.match(result.stdout, /✔ Applied \d+ statements? \(.*\); the database matches the schema\./);
    assert.equal((await tls.query(urlOf(tls, db), "SELECT to_regclass('audit.events') IS NOT NULL AS ok"))[0].ok, true);
    // the script is `apply`: a second run finds nothing to do …
    const again = await script(SANDBOX_SCRIPT, args, { env, cwd: configRepo });
    assert.equal(again.code, 0, again.output);
    assert.match(again.stdout, /✔ Nothing to apply: the database already matches the schema\./);
    // … and a full plan agrees
    const plan = await runCli(['plan', '--env', 'sandbox', '--config', config, '--var', `sandbox_database=${db}`, '--exit-code'], { env, cwd: configRepo });
    record(plan);
    assert.equal(plan.code, 0, plan.output);
  });

  test('a server without TLS is refused with one sentence about TLS', async () => {
    const db = await database(plain);
    const result = await failing(runCli(['sync', '--no-types', '--env', 'sandbox', '--config', config, '--var', `sandbox_database=${db}`, '--auto-approve'], { env: sandboxEnv(plain), cwd: configRepo }));
    assert.match(oneLine(result), /does not accept TLS connections, but sslmode=verify-full requires TLS/);
    assert.equal(await tableCount(plain, db), 0);
  });

  test('a certificate this machine cannot verify is refused, saying to set PGSSLROOTCERT', async () => {
    const db = await database(tls);
    const env = { ...sandboxEnv(tls), PGSSLROOTCERT: undefined };
    const result = await failing(runCli(['sync', '--no-types', '--env', 'sandbox', '--config', config, '--var', `sandbox_database=${db}`, '--auto-approve'], { env, cwd: configRepo }));
    assert.match(oneLine(result), /presented a TLS certificate that could not be verified .*set PGSSLROOTCERT \(or sslrootcert=FILE in the URL\) to that CA's certificate file, and run again\.$/);
    assert.equal(await tableCount(tls, db), 0);
  });

  test('a host variable holding a port is named, with where the port goes, before any connection', async () => {
    const connectionsBefore = recorder.connections;
    const env = { ...sandboxEnv(tls), PG_SANDBOX_HOST: `127.0.0.1:${recorder.port}` };
    const result = await failing(script(SANDBOX_SCRIPT, ['--config', config, '--auto-approve'], { env, cwd: configRepo }));
    assert.match(oneLine(result), new RegExp(`PG_SANDBOX_HOST is "127\\.0\\.0\\.1:${recorder.port}"; it must be a host name only — put the port in PG_SANDBOX_PORT\\.$`));
    assert.equal(recorder.connections, connectionsBefore);
  });

  test('without --auto-approve and without a terminal, it refuses and applies nothing', async () => {
    const db = await database(tls);
    const viaScript = await failing(script(SANDBOX_SCRIPT, ['--config', config, '--var', `sandbox_database=${db}`], { env: sandboxEnv(tls), cwd: configRepo }));
    assert.match(oneLine(viaScript), /--auto-approve/);
    const viaApply = await failing(runCli(['apply', '--env', 'sandbox', '--config', config, '--var', `sandbox_database=${db}`], { env: sandboxEnv(tls), cwd: configRepo }));
    assert.match(oneLine(viaApply), /--auto-approve/);
    assert.equal(await tableCount(tls, db), 0);
    assert.deepEqual(await tls.query(urlOf(tls, db), "SELECT 1 FROM pg_namespace WHERE nspname = 'audit'"), []);
  });

  test('a missing password is named in one sentence, before any connection', async () => {
    const connectionsBefore = recorder.connections;
    const env = childEnv({ PG_SANDBOX_HOST: '127.0.0.1', PG_SANDBOX_PORT: String(recorder.port), PG_SANDBOX_USER: USER });
    const result = await failing(script(SANDBOX_SCRIPT, ['--config', config, '--auto-approve'], { env, cwd: configRepo }));
    const message = oneLine(result);
    for (const name of SANDBOX_NAMES) {
      if (name === 'PG_SANDBOX_PASSWORD') assert.match(message, new RegExp(`\\b${name}\\b`));
      else assert.doesNotMatch(message, new RegExp(`\\b${name}\\b`));
    }
    assert.equal(recorder.connections, connectionsBefore);
  });
});

describe('production', () => {
  test('with all three variables missing, one sentence lists all three', async () => {
    const connectionsBefore = recorder.connections;
    const result = await failing(runCli(['plan', '--env', 'production', '--config', config], { env: childEnv({ PG_PRODUCTION_PORT: String(recorder.port) }), cwd: configRepo }));
    const message = oneLine(result);
    for (const name of PRODUCTION_NAMES) assert.match(message, new RegExp(`\\b${name}\\b`));
    assert.equal(recorder.connections, connectionsBefore);
  });
});

describe('policies on a real server', { concurrency: true }, () => {
  const LEGACY = `CREATE SCHEMA legacy; CREATE TABLE legacy.old_things (id int); INSERT INTO legacy.old_things VALUES (1);`;

  for (const envName of ['local', 'sandbox', 'production'] as const) {
    test(`${envName} never drops a schema it manages, even with --allow-data-loss`, async () => {
      const server = envName === 'local' ? plain : tls;
      const db = await database(server, LEGACY);
      // the test config manages "legacy" too (schemas = [..., "legacy"]), so the engine plans DROP SCHEMA for it
      const result = await applyWith(envName, server, db, ['--allow-data-loss', '--auto-approve'], legacyConfig);
      assert.equal(result.code, 0, result.output);
      assert.match(result.stdout, /-- skipped by policy \(drop_schema\): schema legacy is kept/);
      assert.match(result.stdout, /Plan: .*\d+ skipped by policy/);
      const [{ exists }] = await server.query(urlOf(server, db), "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'legacy') AS exists");
      assert.equal(exists, true, 'schema legacy must survive');
      // a kept schema is kept whole, as Atlas's skipped DROP SCHEMA (… CASCADE) keeps it: its tables and rows stay
      assert.deepEqual(await server.query(urlOf(server, db), 'SELECT id FROM legacy.old_things'), [{ id: 1 }]);
      assert.doesNotMatch(result.stdout, /DROP TABLE "legacy"/);
      assert.equal((await server.query(urlOf(server, db), "SELECT to_regclass('audit.events') IS NOT NULL AS ok"))[0].ok, true, 'the rest was applied');
    });
  }

  test('a schema outside atlas.hcl\'s schemas is left alone entirely', async () => {
    const db = await database(tls, LEGACY);
    const result = await applyWith('sandbox', tls, db, ['--allow-data-loss', '--auto-approve']);
    assert.equal(result.code, 0, result.output);
    assert.doesNotMatch(result.stdout, /legacy/);
    assert.deepEqual(await tls.query(urlOf(tls, db), 'SELECT id FROM legacy.old_things'), [{ id: 1 }]);
  });

  const OBSOLETE = `CREATE TABLE public.obsolete (id int PRIMARY KEY, note text); INSERT INTO public.obsolete VALUES (1, 'a'), (2, 'b'), (3, 'c');`;

  test('production never drops a table, even with --allow-data-loss', async () => {
    const db = await database(tls, OBSOLETE);
    const result = await applyWith('production', tls, db, ['--allow-data-loss', '--auto-approve']);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /-- skipped by policy \(drop_table\): table public\.obsolete is kept/);
    assert.deepEqual(await tls.query(urlOf(tls, db), 'SELECT id, note FROM public.obsolete ORDER BY id'), [
      { id: 1, note: 'a' },
      { id: 2, note: 'b' },
      { id: 3, note: 'c' },
    ]);
    const again = await applyWith('production', tls, db, ['--allow-data-loss', '--auto-approve']);
    assert.equal(again.code, 0, again.output);
    assert.equal((await tls.query(urlOf(tls, db), 'SELECT count(*)::int AS n FROM public.obsolete'))[0].n, 3);
  });

  test('sandbox with --allow-data-loss does drop that table', async () => {
    const db = await database(tls, OBSOLETE);
    const result = await applyWith('sandbox', tls, db, ['--allow-data-loss', '--auto-approve']);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /DROP TABLE "?public"?\."?obsolete"?;\s+-- DATA LOSS/);
    assert.doesNotMatch(result.stdout, /skipped by policy \(drop_table\)/);
    assert.equal((await tls.query(urlOf(tls, db), "SELECT to_regclass('public.obsolete') AS t"))[0].t, null);
  });
});

describe('--json', { concurrency: true }, () => {
  test('scripts/sync-schema --json prints exactly one JSON document with ok and the steps', async () => {
    const db = await database(plain);
    const result = await script(SYNC_SCRIPT, ['--no-types', '--json'], { env: localEnv(plain, db), cwd: configRepo });
    assert.equal(result.code, 0, result.output);
    const parsed = JSON.parse(result.stdout);
    assert.equal(parsed.ok, true);
    assert.equal(parsed.environment, 'local');
    assert.match(parsed.target, /:\*\*\*\*@/);
    const steps = (parsed.steps as { step: string; ms: number }[]).map((s) => s.step);
    for (const step of ['connect', 'load schema', 'plan', 'apply', 'verify']) assert.ok(steps.includes(step), `step ${step} in ${steps.join(', ')}`);
    assert.ok((parsed.steps as { ms: number }[]).every((s) => Number.isInteger(s.ms) && s.ms >= 0));
  });

  test('a failure with --json is one JSON document too', async () => {
    const env = childEnv({ PG_SANDBOX_HOST: '127.0.0.1', PG_SANDBOX_PORT: String(recorder.port), PG_SANDBOX_USER: USER });
    const result = await failing(script(SANDBOX_SCRIPT, ['--config', config, '--json'], { env, cwd: configRepo }), { json: true });
    const parsed = JSON.parse(result.stdout);
    assert.equal(parsed.ok, false);
    assert.match(parsed.error, /PG_SANDBOX_PASSWORD/);
  });
});

describe('secrets', () => {
  test('no output of this file, failing or not, holds the password in any form', () => {
    assert.ok(failureOutputs.length >= 7, `the failing cases ran (${failureOutputs.length})`);
    for (const output of [...failureOutputs, ...allOutputs]) {
      for (const form of PASSWORD_FORMS) assert.ok(!output.includes(form), `the password (${form === PASSWORD ? 'raw' : 'encoded'}) appeared in:\n${output}`);
    }
  });
});

// ---------------------------------------------------------------------------

/** The child environment: none of the three environments' variables but those given, no colour. */
function childEnv(set: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { NO_COLOR: '1' };
  for (const name of Object.keys(process.env)) {
    // ours, and libpq's PGHOST, PGPASSWORD, … which node-postgres would also read
    if (LOCAL_NAMES.includes(name) || /^PG_(SANDBOX|PRODUCTION)_/.test(name) || /^PG[A-Z]+$/.test(name)) env[name] = undefined;
  }
  return { ...env, ...set };
}

function localEnv(server: TestServer, db: string): Record<string, string | undefined> {
  return childEnv({
    DATABASE_HOST: '127.0.0.1',
    DATABASE_PORT: String(server.port),
    DATABASE_LIVERMORE_USERNAME: USER,
    DATABASE_LIVERMORE_PASSWORD: PASSWORD,
    LIVERMORE_DATABASE_NAME: db,
  });
}

function sandboxEnv(server: TestServer): Record<string, string | undefined> {
  return childEnv({ PG_SANDBOX_HOST: '127.0.0.1', PG_SANDBOX_PORT: String(server.port), PG_SANDBOX_USER: USER, PG_SANDBOX_PASSWORD: PASSWORD, PGSSLROOTCERT: tlsCa });
}

function productionEnv(server: TestServer): Record<string, string | undefined> {
  return childEnv({ PG_PRODUCTION_HOST: '127.0.0.1', PG_PRODUCTION_PORT: String(server.port), PG_PRODUCTION_USER: USER, PG_PRODUCTION_PASSWORD: PASSWORD, PGSSLROOTCERT: tlsCa });
}

/** `sqlfirst apply --env NAME` with the variables of that environment pointing at `db`. */
async function applyWith(envName: 'local' | 'sandbox' | 'production', server: TestServer, db: string, extra: string[], configFile?: string): Promise<CliResult> {
  const args = ['apply', '--env', envName];
  let env: Record<string, string | undefined>;
  if (envName === 'local') {
    args.push('--config', configFile ?? ATLAS);
    env = localEnv(server, db);
  } else {
    args.push('--config', configFile ?? config, '--var', `${envName}_database=${db}`);
    env = envName === 'sandbox' ? sandboxEnv(server) : productionEnv(server);
  }
  const result = await runCli([...args, ...extra], { env, cwd: configRepo });
  return record(result);
}

/** Runs a compiled script the way `npm run db:…` does: node, the script, the arguments. */
function script(file: string, args: string[], options: { env: Record<string, string | undefined>; cwd: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    const child = spawn(process.execPath, [file, ...args], { cwd: options.cwd, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(record({ code, pid: child.pid ?? 0, stdout, stderr, output: stdout + stderr }));
    });
  });
}

function record(result: CliResult): CliResult {
  allOutputs.push(result.output);
  return result;
}

/** A run that must fail: exit 1, no stack trace, kept for the secrets check. */
async function failing(run: Promise<CliResult>, options: { json?: boolean } = {}): Promise<CliResult> {
  const result = await run;
  failureOutputs.push(result.output);
  assert.equal(result.code, 1, `exit code 1 expected, got ${result.code}:\n${result.output}`);
  assert.doesNotMatch(result.output, /\n\s+at .+:\d+:\d+\)?/, 'no stack trace without --verbose');
  if (!options.json) assert.equal(result.stderr.trim().split('\n').length, 1, `one line on stderr:\n${result.stderr}`);
  return result;
}

/** The single failure line. */
function oneLine(result: CliResult): string {
  return result.stderr.trim();
}

/** A database owned by the application role, with optional setup run as that role. */
let dbCounter = 0;
async function database(server: TestServer, setup?: string): Promise<string> {
  const name = `env_${process.pid}_${++dbCounter}`;
  await server.createDatabase(name);
  await server.query(server.url, `ALTER DATABASE "${name}" OWNER TO ${USER}`);
  const superuser = new URL(server.url);
  superuser.pathname = `/${name}`;
  await server.query(superuser.toString(), `ALTER SCHEMA public OWNER TO ${USER}`);
  if (setup) await asOwner(server, name, setup);
  return name;
}

/** Runs SQL as the application role (TLS on the TLS server). */
async function asOwner(server: TestServer, db: string, sql: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: USER, password: PASSWORD, database: db, ssl: server === tls ? { rejectUnauthorized: false } : false });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The superuser URL of a database (trust auth; TLS not needed for the superuser). */
function urlOf(server: TestServer, db: string): string {
  const url = new URL(server.url);
  url.pathname = `/${db}`;
  return url.toString();
}

async function tableCount(server: TestServer, db: string): Promise<number> {
  const [{ n }] = await server.query(urlOf(server, db), "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')");
  return n;
}

async function connectWithoutTls(server: TestServer, db: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: USER, password: PASSWORD, database: db, ssl: false });
  client.on('error', () => {});
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => {});
  }
}

/** pg_hba.conf reloads asynchronously: wait until the application role is refused without TLS. */
async function waitUntilPlainRefused(server: TestServer): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await connectWithoutTls(server, 'postgres');
    } catch (error) {
      if (/no pg_hba\.conf entry|no encryption/.test(String((error as Error).message))) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the TLS test server still accepts the application role without TLS');
}

/** A temporary folder that sqlfirst takes for a repository root (its .sqlfirst/ lands here). */
function tempRepo(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // the embedded server runs as the postgres user when the tests run as root
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'package.json'), '{"workspaces":[]}\n');
  return dir;
}

/**
 * A copy of the real atlas.hcl beside the copy of schema.sql, optionally managing more
 * schemas (its `schemas` list); nothing else changes: the test servers' ports come from
 * PG_SANDBOX_PORT and PG_PRODUCTION_PORT.
 */
function writeConfig(name: string, extraSchemas: string[] = []): string {
  let text = fs.readFileSync(ATLAS, 'utf8');
  if (extraSchemas.length > 0) {
    const before = text;
    text = text.replace(/(\n\s*schemas\s*=\s*\[[^\]]*)\]/, (_, list: string) => `${list}, ${extraSchemas.map((s) => JSON.stringify(s)).join(', ')}]`);
    assert.notEqual(text, before, 'atlas.hcl has a schemas list');
  }
  const file = path.join(configRepo, name);
  fs.writeFileSync(file, text);
  return file;
}

interface ConnectionRecorder {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** A TCP server that only counts who connects. */
function startRecorder(): Promise<ConnectionRecorder> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<net.Socket>();
    const recorded: ConnectionRecorder = {
      port: 0,
      connections: 0,
      close: () =>
        new Promise((done) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => done());
        }),
    };
    const server = net.createServer((socket) => {
      recorded.connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.destroy();
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      recorded.port = (server.address() as net.AddressInfo).port;
      resolve(recorded);
    });
  });
}

/** The pid of a live postmaster for dataDir, from its postmaster.pid (portable: no ps). */
function runningPostmaster(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!(pid > 0)) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** Stops an embedded server a failed run of this file left in its temporary repository. */
async function stopLeftoverEmbedded(repo: string): Promise<void> {
  const dataDir = path.join(repo, '.sqlfirst', 'postgres');
  const pid = runningPostmaster(dataDir);
  if (pid === undefined) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && runningPostmaster(dataDir) !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

function passwordAsUrlWouldEncodeIt(): string {
  const url = new URL('postgres://u@h/d');
  url.password = PASSWORD;
  return url.password;
}

