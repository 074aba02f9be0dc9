import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlfirstError } from '../errors.js';
import { parseStatements, refusal } from './statements.js';

const parse = (sql: string) => parseStatements(sql, 'schema.sql');

describe('statement boundaries', () => {
  test('each statement with the line of its first keyword, after comments and blank lines', async () => {
    const statements = await parse('-- café, a comment with a multi-byte character\n\nCREATE TABLE a (id int);\n/* two\n   lines */ CREATE TABLE b (id int)\n');
    assert.deepEqual(
      statements.map((s) => [s.line, s.text, s.kind]),
      [
        [3, 'CREATE TABLE a (id int)', 'CreateStmt'],
        [5, 'CREATE TABLE b (id int)', 'CreateStmt'],
      ],
    );
  });

  test('semicolons in strings, quoted names, comments and dollar quotes do not end a statement', async () => {
    const sql = [
      "COMMENT ON SCHEMA public IS 'a; b';",
      'CREATE TABLE "x;y" (id int); -- done; really',
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$;',
      'CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $$ SELECT \';\' $$;',
    ].join('\n');
    const statements = await parse(sql);
    assert.deepEqual(statements.map((s) => s.line), [1, 2, 3, 4]);
    assert.equal(statements[2].text, 'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$');
  });

  test('a BEGIN ATOMIC body is one statement, for functions and procedures', async () => {
    const sql = [
      'CREATE FUNCTION total() RETURNS bigint LANGUAGE sql',
      'BEGIN ATOMIC',
      '  SELECT 1;',
      '  SELECT count(*) FROM items;',
      'END;',
      'CREATE PROCEDURE touch() LANGUAGE sql BEGIN ATOMIC SELECT 1; END;',
      'CREATE TABLE after_them (id int);',
    ].join('\n');
    const statements = await parse(sql);
    assert.deepEqual(statements.map((s) => [s.line, s.kind]), [[1, 'CreateFunctionStmt'], [6, 'CreateFunctionStmt'], [7, 'CreateStmt']]);
    assert.match(statements[0].text, /^CREATE FUNCTION total\(\)[\s\S]*END$/);
    assert.equal(refusal(statements[0]), undefined);
  });

  test('only comments, or nothing at all: no statements', async () => {
    assert.deepEqual(await parse('-- nothing\n/* still nothing; */\n'), []);
    assert.deepEqual(await parse(''), []);
    assert.deepEqual(await parse(' \n'), []);
  });

  test('a syntax error names the line of the error and the statement it is in', async () => {
    await assert.rejects(parse('CREATE TABLE a (id int);\n\nCREATE TABLE b (\n  id int,\n  name txet text\n);\n'), (error: Error) => {
      assert.ok(error instanceof SqlfirstError);
      assert.equal(error.message, 'schema.sql line 5: syntax error at or near "text", in "CREATE TABLE b ("; fix the statement (no database was touched).');
      return true;
    });
  });

  test('a syntax error after a BEGIN ATOMIC body is placed in its own statement', async () => {
    const sql = 'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\nCREATE TABEL t (id int);\n';
    await assert.rejects(parse(sql), /^SqlfirstError: schema\.sql line 2: syntax error at or near "TABEL", in "CREATE TABEL t \(id int\);"/);
  });

  test('a psql meta-command is a syntax error on its line', async () => {
    await assert.rejects(parse('CREATE TABLE a (id int);\n\\connect other\n'), /schema\.sql line 2: syntax error at or near "\\", in "\\connect other"/);
  });

  test('an unterminated string names the line it starts on', async () => {
    await assert.rejects(parse("CREATE TABLE a (id int);\nCOMMENT ON TABLE a IS 'open\n"), /schema\.sql line 2: unterminated quoted string/);
  });
});

describe('session settings', () => {
  test('each statement knows the SET statements of its file before it', async () => {
    const statements = await parse(
      "SET check_function_bodies = false;\nSELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE a (id int);\nSET LOCAL search_path = x;\nSET search_path = public;\nCREATE TABLE b (id int);\n",
    );
    const [checks, searchPath, a, local, publicPath, b] = statements;
    assert.deepEqual(statements.map((s) => s.setsSession), [true, true, false, false, true, false]);
    assert.deepEqual(a.session, [checks, searchPath]);
    assert.deepEqual(local.session, [checks, searchPath]);
    assert.deepEqual(b.session, [checks, searchPath, publicPath]);
  });

  test('SELECT of anything but set_config is not a setting; DO, CALL and SELECT run code', async () => {
    const statements = await parse("SELECT set_config('search_path', 'x', false), now();\nDO $$ BEGIN END $$;\nCALL p();\nCREATE TABLE t (id int);\n");
    assert.deepEqual(statements.map((s) => [s.setsSession, s.runsCode]), [[false, true], [false, true], [false, true], [false, false]]);
  });
});

describe('what does not belong in a schema file', () => {
  const refused: [string, string][] = [
    ['INSERT INTO t VALUES (1)', 'INSERT'],
    ['UPDATE t SET a = 1', 'UPDATE'],
    ['delete from t', 'DELETE'],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', 'MERGE'],
    ['TRUNCATE t', 'TRUNCATE'],
    ['COPY t FROM stdin', 'COPY'],
    ['CREATE DATABASE other', 'CREATE DATABASE'],
    ['DROP DATABASE postgres', 'DROP DATABASE'],
    ["alter/**/database x set work_mem = '1GB'", 'ALTER DATABASE'],
    ['ALTER DATABASE x CONNECTION LIMIT 1', 'ALTER DATABASE'],
    ['ALTER DATABASE x RENAME TO y', 'ALTER DATABASE'],
    ['ALTER DATABASE x OWNER TO someone', 'ALTER DATABASE'],
    ["COMMENT ON DATABASE x IS 'y'", 'COMMENT ON DATABASE'],
    ['GRANT CONNECT ON DATABASE x TO someone', 'GRANT … ON DATABASE'],
    ['REVOKE CREATE ON DATABASE x FROM PUBLIC', 'REVOKE … ON DATABASE'],
    ['GRANT SET ON PARAMETER work_mem TO someone', 'GRANT … ON PARAMETER'],
    ['GRANT CREATE ON TABLESPACE pg_default TO someone', 'GRANT … ON TABLESPACE'],
    ["SECURITY LABEL ON ROLE x IS 'secret'", 'SECURITY LABEL ON ROLE'],
    ["SECURITY LABEL ON DATABASE x IS 'secret'", 'SECURITY LABEL ON DATABASE'],
    ["SECURITY LABEL ON TABLESPACE x IS 'secret'", 'SECURITY LABEL ON TABLESPACE'],
    ["CREATE ROLE reporting LOGIN PASSWORD 'x'", 'CREATE ROLE'],
    ['CREATE USER reporting', 'CREATE ROLE'],
    ['CREATE GROUP readers', 'CREATE ROLE'],
    ['ALTER ROLE reporting SUPERUSER', 'ALTER ROLE'],
    ['ALTER USER reporting SET work_mem = 1', 'ALTER ROLE'],
    ['ALTER ROLE reporting RENAME TO r', 'ALTER ROLE'],
    ['DROP USER reporting', 'DROP ROLE'],
    ['GRANT admin TO reporting', 'GRANT or REVOKE of a role'],
    ['REVOKE admin FROM reporting', 'GRANT or REVOKE of a role'],
    ['REASSIGN OWNED BY a TO b', 'REASSIGN OWNED'],
    ['DROP OWNED BY a', 'DROP OWNED'],
    ['ALTER SYSTEM SET work_mem = 1', 'ALTER SYSTEM'],
    ["CREATE TABLESPACE fast LOCATION '/tmp'", 'CREATE TABLESPACE'],
    ['ALTER TABLESPACE fast RENAME TO slow', 'ALTER TABLESPACE'],
    ['ALTER TABLESPACE fast SET (random_page_cost = 1)', 'ALTER TABLESPACE'],
    ['DROP TABLESPACE fast', 'DROP TABLESPACE'],
    ['ALTER TABLE t SET TABLESPACE fast', 'SET TABLESPACE'],
    ['ALTER TABLE ALL IN TABLESPACE a SET TABLESPACE b', 'ALTER … ALL IN TABLESPACE'],
    ["CREATE SUBSCRIPTION s CONNECTION 'host=elsewhere' PUBLICATION p", 'CREATE SUBSCRIPTION'],
    ["LOAD 'auto_explain'", 'LOAD'],
    ['CHECKPOINT', 'CHECKPOINT'],
    ['VACUUM', 'VACUUM'],
    ['ANALYZE t', 'ANALYZE'],
    ['CLUSTER t USING t_pkey', 'CLUSTER'],
    ['REINDEX TABLE t', 'REINDEX'],
    ['LISTEN channel', 'LISTEN'],
    ['NOTIFY channel', 'NOTIFY'],
    ['BEGIN', 'BEGIN'],
    ['START TRANSACTION', 'START TRANSACTION'],
    ['COMMIT', 'COMMIT'],
    ['END', 'COMMIT'],
    ['ROLLBACK', 'ROLLBACK'],
    ['SAVEPOINT s', 'SAVEPOINT'],
    ['SET ROLE admin', 'SET ROLE'],
    ['SET SESSION AUTHORIZATION admin', 'SET SESSION AUTHORIZATION'],
    ['RESET SESSION AUTHORIZATION', 'RESET SESSION AUTHORIZATION'],
    ["SELECT pg_catalog.set_config('statement_timeout', '0', false)", "set_config('statement_timeout')"],
    ["CREATE TABLE t AS SELECT set_config('ROLE', 'admin', false)", "set_config('role')"],
  ];
  test('timeouts a file sets are left out (pg_dump writes them), not refused: the tool\'s limits apply', async () => {
    const statements = await parse("SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET idle_in_transaction_session_timeout = 0;\nRESET statement_timeout;\nSET search_path = app;\nCREATE TABLE t (id int);\n");
    assert.deepEqual(statements.map((s) => s.kind), ['VariableSetStmt', 'CreateStmt']);
    assert.equal(statements[1].session.length, 1, 'the search_path setting stays');
  });

  for (const [sql, label] of refused) {
    test(`${sql} → ${label}`, async () => {
      const [statement] = await parse(`${sql};`);
      assert.equal(refusal(statement)?.label, label);
    });
  }

  const allowed = [
    'CREATE TABLE t (id int PRIMARY KEY)',
    'ALTER TABLE t ADD COLUMN name text',
    'CREATE INDEX CONCURRENTLY t_name ON t (name)',
    'CREATE SCHEMA app',
    'CREATE EXTENSION IF NOT EXISTS pgcrypto',
    "COMMENT ON TABLE t IS 'things'",
    'GRANT SELECT ON t TO PUBLIC',
    'ALTER TABLE t OWNER TO CURRENT_USER',
    'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC',
    'CREATE USER MAPPING FOR CURRENT_USER SERVER s',
    'DROP TABLE IF EXISTS t',
    "SET search_path = app, public",
    'SET check_function_bodies = false',
    "SELECT pg_catalog.set_config('search_path', '', false)",
    'SET client_min_messages = warning',
    'DO $$ BEGIN NULL; END $$',
    'CALL refresh()',
    'CREATE MATERIALIZED VIEW m AS SELECT 1 AS one',
  ];
  for (const sql of allowed) {
    test(`${sql} is allowed`, async () => {
      const [statement] = await parse(`${sql};`);
      assert.equal(refusal(statement), undefined);
    });
  }
});
