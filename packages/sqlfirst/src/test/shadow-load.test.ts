/**
 * Schema files loaded into a real shadow database: what PostgreSQL accepts
 * loads (pg_dump output, any statement order, BEGIN ATOMIC bodies), failures
 * name file and line, and what does not belong in a schema is refused before
 * anything connects.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import { LoadError, loadState } from '../engine/load.js';
import { planChanges, readState, type SchemaState } from '../engine/index.js';
import { createShadow, loadSchema, readSchemaFiles, type Shadow } from '../shadow/index.js';
import { openPool } from '../target/connect.js';
import { parseTarget } from '../target/url.js';
import { runCli } from './support/cli.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let work: string;

before(async () => {
  server = await startTestServer();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-shadow-load-'));
});

after(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Writes the files into the work folder and returns their paths. */
function write(files: Record<string, string>): string[] {
  return Object.entries(files).map(([name, sql]) => {
    fs.writeFileSync(path.join(work, name), sql);
    return path.join(work, name);
  });
}

/** Loads the files into a fresh shadow; `inspect` sees the shadow before it is dropped. */
async function load(files: Record<string, string>, inspect?: (shadow: Shadow) => Promise<void>): Promise<SchemaState> {
  const schema = await readSchemaFiles(write(files), { cwd: work });
  const shadow = await createShadow(parseTarget(server.url, 'test server URL'));
  try {
    const state = await loadSchema(schema, shadow);
    await inspect?.(shadow);
    return state;
  } finally {
    await shadow.drop();
  }
}

/** The schema `sql` makes when PostgreSQL runs it as one script, as psql -f would. */
async function runDirectly(sql: string): Promise<SchemaState> {
  const url = await server.createDatabase();
  await server.query(url, sql);
  const pool = openPool(parseTarget(url, 'test database URL'));
  try {
    return await readState(pool);
  } finally {
    await pool.end();
  }
}

function assertSameSchema(actual: SchemaState, expected: SchemaState): void {
  assert.deepEqual(planChanges(expected, actual).changes.map((c) => c.sql), []);
}

async function assertLoadFails(files: Record<string, string>, message: RegExp): Promise<void> {
  await assert.rejects(load(files), (error: Error) => {
    assert.ok(error instanceof SqlfirstError, String(error));
    assert.equal(error.step, 'load schema');
    assert.match(error.message, message);
    return true;
  });
}

/** pg_dump's preamble and a function that reads a table dumped after it (as in the pagila sample database). */
const PG_DUMP = `--
-- PostgreSQL database dump
--

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

CREATE FUNCTION public.film_in_stock(p_film_id integer) RETURNS SETOF integer
    LANGUAGE sql
    AS $_$
     SELECT inventory_id
     FROM inventory
     WHERE film_id = $1;
$_$;

SET default_tablespace = '';
SET default_table_access_method = heap;

CREATE TABLE public.inventory (
    inventory_id integer NOT NULL,
    film_id integer NOT NULL
);

ALTER TABLE ONLY public.inventory
    ADD CONSTRAINT inventory_pkey PRIMARY KEY (inventory_id);
`;

describe('what PostgreSQL accepts loads', () => {
  test('pg_dump output: check_function_bodies = false and a LANGUAGE sql function before its table', async () => {
    assertSameSchema(await load({ 'dump.sql': PG_DUMP }), await runDirectly(PG_DUMP));
  });

  test('with the checks on, a LANGUAGE sql function may still come before the table it reads', async () => {
    const sql = 'CREATE FUNCTION stock() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM inventory $$;\nCREATE TABLE inventory (id int);\n';
    const reordered = 'CREATE TABLE inventory (id int);\nCREATE FUNCTION stock() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM inventory $$;\n';
    assertSameSchema(await load({ 'schema.sql': sql }), await runDirectly(reordered));
  });

  test('a file in reverse dependency order', async () => {
    const forward = [
      'CREATE SCHEMA shop;',
      'CREATE TYPE shop.status AS ENUM (\'open\', \'closed\');',
      'CREATE TABLE shop.items (id int PRIMARY KEY, name text NOT NULL);',
      'CREATE TABLE shop.orders (id int PRIMARY KEY, item_id int NOT NULL REFERENCES shop.items (id), status shop.status NOT NULL);',
      'CREATE INDEX orders_item ON shop.orders (item_id);',
      'CREATE VIEW shop.open_orders AS SELECT o.id, i.name FROM shop.orders o JOIN shop.items i ON i.id = o.item_id WHERE o.status = \'open\';',
      "COMMENT ON VIEW shop.open_orders IS 'orders not yet closed';",
    ];
    const reverse = [...forward].reverse().join('\n');
    assertSameSchema(await load({ 'schema.sql': reverse }), await runDirectly(forward.join('\n')));
  });

  test('SQL-standard bodies: BEGIN ATOMIC functions and procedures, before the table they use', async () => {
    const sql = [
      'CREATE FUNCTION item_count() RETURNS bigint LANGUAGE sql',
      'BEGIN ATOMIC',
      '  SELECT count(*) FROM items;',
      'END;',
      'CREATE PROCEDURE add_item(n text) LANGUAGE sql',
      'BEGIN ATOMIC',
      '  INSERT INTO items (name) VALUES (n);',
      'END;',
      'CREATE TABLE items (id int GENERATED ALWAYS AS IDENTITY, name text);',
    ];
    const inOrder = [sql[8], ...sql.slice(0, 8)].join('\n');
    assertSameSchema(await load({ 'schema.sql': sql.join('\n') }), await runDirectly(inOrder));
  });

  test('CREATE INDEX CONCURRENTLY, which cannot run in a transaction block', async () => {
    await load({ 'schema.sql': 'CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n' });
  });

  test('each file has its own session settings, kept when its statements are retried', async () => {
    const files = {
      'a.sql': 'SET search_path = app;\nCREATE VIEW v AS SELECT id FROM t;\n',
      'b.sql': 'CREATE SCHEMA app;\nCREATE TABLE app.t (id int);\nCREATE TABLE plain (id int);\n',
    };
    await load(files, async (shadow) => {
      const { rows } = await shadow.pool.query(
        "SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname IN ('v', 'plain') ORDER BY 1",
      );
      assert.deepEqual(rows.map((r) => r.name), ['app.v', 'public.plain']);
    });
  });
});

describe('what does not load names file and line', () => {
  test('a LANGUAGE sql function with the checks on and a table nobody creates', async () => {
    const sql = 'CREATE TABLE film (id int);\n\nCREATE FUNCTION film_in_stock(p_film_id integer) RETURNS SETOF integer\n    LANGUAGE sql\n    AS $_$\n     SELECT inventory_id FROM inventory WHERE film_id = $1;\n$_$;\n';
    await assertLoadFails(
      { 'schema.sql': sql },
      /^schema\.sql line 6: relation "inventory" does not exist, in "CREATE FUNCTION film_in_stock\(p_film_id integer\) RETURNS SETOF integer"; no statement in the schema creates it, so add it or fix the name \(the target was not changed\)\.$/,
    );
  });

  test('the error of the second of two files names that file', async () => {
    await assertLoadFails({ 'one.sql': 'CREATE TABLE a (id int);\n', 'two.sql': '\n\nCREATE TABLE a (id int);\n' }, /^two\.sql line 3: relation "a" already exists, in "CREATE TABLE a \(id int\)"; fix the statement/);
  });

  test('SET statement_timeout = 0 in the file (as pg_dump writes it) is left out: the limit still stops a long statement', async () => {
    const [file] = write({ 'dumped.sql': 'SET statement_timeout = 0;\nCREATE TABLE t (id int);\nSELECT pg_sleep(60);\n' });
    const [schema] = await readSchemaFiles([file], { cwd: work });
    const shadow = await createShadow(parseTarget(server.url, 'test server URL'));
    try {
      await assert.rejects(loadState(schema.statements, shadow.pool, { statementTimeoutMs: 500 }), (error: Error) => {
        assert.ok(error instanceof LoadError, String(error));
        assert.deepEqual([error.failure.reason, error.failure.line], ['timeout', 3]);
        return true;
      });
    } finally {
      await shadow.drop();
    }
  });

  test('a statement that runs longer than the limit is stopped, even after code switched the limit off', async () => {
    const [file] = write({ 'slow.sql': "CREATE TABLE t (id int);\nDO $$ BEGIN PERFORM set_config('statement_timeout', '0', false); END $$;\nSELECT pg_sleep(60);\n" });
    const [schema] = await readSchemaFiles([file], { cwd: work });
    const shadow = await createShadow(parseTarget(server.url, 'test server URL'));
    const started = Date.now();
    try {
      await assert.rejects(loadState(schema.statements, shadow.pool, { statementTimeoutMs: 500 }), (error: Error) => {
        assert.ok(error instanceof LoadError, String(error));
        assert.deepEqual([error.failure.reason, error.failure.line], ['timeout', 3]);
        return true;
      });
    } finally {
      await shadow.drop();
    }
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });
});

describe('refused before anything connects', () => {
  /** A port that records every connection made to it. */
  async function listener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
    let count = 0;
    const socket = net.createServer((connection) => {
      count++;
      connection.destroy();
    });
    await new Promise<void>((resolve) => socket.listen(0, '127.0.0.1', resolve));
    return {
      port: (socket.address() as net.AddressInfo).port,
      connections: () => count,
      close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    };
  }

  for (const [name, sql, message] of [
    ['alter-database.sql', "CREATE TABLE t (id int);\n\nalter/**/database livermore set work_mem = '1GB';\n", /alter-database\.sql line 3: ALTER DATABASE does not belong in a schema file \(.*\); remove "alter\/\*\*\/database livermore set work_mem = '1GB'"\.$/],
    ['set-role.sql', 'SET ROLE admin;\nCREATE TABLE t (id int);\n', /set-role\.sql line 1: SET ROLE does not belong in a schema file \(it would run the rest of the schema as another role\); remove "SET ROLE admin"\.$/],
  ] as const) {
    test(name, async () => {
      write({ [name]: sql });
      const port = await listener();
      try {
        const result = await runCli(['apply', '--url', `postgres://someone@127.0.0.1:${port.port}/db?sslmode=disable`, '--to', `file://${name}`, '--auto-approve'], { cwd: work, timeoutMs: 60_000 });
        assert.equal(result.code, 1, result.output);
        assert.match(result.stderr.trim(), message);
        assert.equal(port.connections(), 0, 'the CLI connected to the server');
      } finally {
        await port.close();
      }
    });
  }

  test('an empty schema file only when the caller allows it', async () => {
    const files = write({ 'settings-only.sql': '-- nothing but settings\nSET search_path = public;\n' });
    await assert.rejects(readSchemaFiles(files, { cwd: work }), /The schema file settings-only\.sql has no SQL statements that describe a schema; an empty schema would drop everything/);
    const [file] = await readSchemaFiles(files, { cwd: work, allowEmpty: true });
    assert.equal(file.statements.length, 1);
  });
});
