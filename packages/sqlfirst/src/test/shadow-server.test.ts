/**
 * `plan` changes nothing on the target's server. By default the shadow lives
 * on a local throwaway PostgreSQL of the target's major version, so a DO
 * block in schema.sql runs where nobody works; statements acting on a
 * database, a role or the server are refused before anything connects. Shown
 * with a non-superuser target role without CREATEDB: the target's database,
 * its settings, its ACL and the server's other databases stay exactly as they were.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/cli.js';
import { requirePasswords, startTestServer, urlFor, type TestServer } from './support/server.js';

const USER = 'shadow_server_user';
const PASSWORD = 'sh@dow:p/w%';
let server: TestServer;
let work: string;

before(async () => {
  // private: the test compares every database and role of the server before and after
  server = await startTestServer({ private: true });
  await requirePasswords(server, USER, PASSWORD);
  // the applying role may not create databases: no shadow can be made on the target's server
  await server.query(server.url, `ALTER ROLE ${USER} NOCREATEDB`);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-shadow-server-'));
  fs.chmodSync(work, 0o755);
  fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ workspaces: [] }));
});
after(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** Everything about the server a plan must leave alone. */
async function serverState(database: string): Promise<string> {
  const databases = await server.query(server.url, 'SELECT datname, datacl::text, datconnlimit FROM pg_database ORDER BY 1');
  const settings = await server.query(server.url, 'SELECT setdatabase, setrole, setconfig::text FROM pg_db_role_setting ORDER BY 1, 2');
  const roles = await server.query(server.url, 'SELECT rolname, rolcanlogin, rolconnlimit FROM pg_roles ORDER BY 1');
  const comment = await server.query(server.url, "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1", [database]);
  return JSON.stringify({ databases, settings, roles, comment });
}

describe('the shadow on a local throwaway server', () => {
  test('plan runs schema.sql, DO block included, on a local PostgreSQL of the target\'s major; the target server stays exactly as it was', async () => {
    const admin = await server.createDatabase();
    const name = new URL(admin).pathname.slice(1);
    await server.query(server.url, `ALTER DATABASE "${name}" OWNER TO ${USER}`);
    await server.query(admin, `ALTER SCHEMA public OWNER TO ${USER}`);
    const url = urlFor(server, USER, PASSWORD, name);
    const schema = path.join(work, 'schema.sql');
    fs.writeFileSync(
      schema,
      `CREATE TABLE items (id int PRIMARY KEY);
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '78kB');
  EXECUTE format('ALTER DATABASE %I CONNECTION LIMIT 0', current_database());
END $$;
`,
    );
    const before = await serverState(name);
    const result = await runCli(['plan', '--url', url, '--to', schema], { cwd: work, env: { SQLFIRST_SHADOW: undefined } });
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /Shadow\s+a local PostgreSQL 18 \(\.sqlfirst\/shadow-pg18\)/);
    assert.match(result.stdout, /CREATE TABLE "public"\."items"/);
    assert.equal(await serverState(name), before);
    assert.ok(!result.output.includes(PASSWORD));
    // the local server was stopped with the run
    const pidFile = path.join(work, '.sqlfirst', 'shadow-pg18', 'postmaster.pid');
    assert.equal(fs.existsSync(pidFile), false, 'the local shadow server is still running');
  });

  test('statements on the database or the server are refused before anything connects', async () => {
    const schema = path.join(work, 'hostile.sql');
    for (const statement of ["alter/**/database scratchdb set work_mem = '78kB'", 'REVOKE CONNECT ON DATABASE scratchdb FROM PUBLIC', "COMMENT ON DATABASE scratchdb IS 'x'"]) {
      fs.writeFileSync(schema, `CREATE TABLE t (id int);\n${statement};\n`);
      const result = await runCli(['plan', '--url', 'postgres://nobody@127.0.0.1:1/none?sslmode=disable', '--to', schema], { cwd: work, env: { SQLFIRST_SHADOW: undefined } });
      assert.equal(result.code, 1, result.output);
      assert.match(result.stderr, /hostile\.sql line 2: .* does not belong in a schema file/);
      assert.match(result.stderr, /^✖ Failed at read schema: /, 'refused before connecting');
    }
  });
});
