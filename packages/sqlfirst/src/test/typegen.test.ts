/**
 * The typegen stage's own behaviour on a real server: custom columns for the
 * types Drizzle has no builder for (they compile), one sentence naming every
 * column it cannot express, and writing only the files that changed.
 * (The comparison with drizzle-kit pull is typegen-oracle.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readCatalogSupplement, readState } from '../engine/index.js';
import { SqlfirstError } from '../errors.js';
import { compareTypes, generateTypes, writeTypes, type GeneratedTypes } from '../typegen/index.js';
import { startTestServer, type TestServer } from './support/server.js';

const DATABASE_PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../database');

describe('typegen', () => {
  let server: TestServer;
  const scratch: string[] = [];

  before(async () => {
    server = await startTestServer();
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

  /** The Drizzle files of a database, as the pipeline makes them from a shadow. */
  async function typesOf(url: string, schemas: string[]): Promise<GeneratedTypes> {
    const pool = new pg.Pool({ connectionString: url });
    try {
      return await generateTypes(await readState(pool), { schemas, header: '// test\n', supplement: await readCatalogSupplement(pool, schemas) });
    } finally {
      await pool.end();
    }
  }

  it('maps bytea and range columns to custom types that compile', async () => {
    const url = await server.createDatabase();
    // an empty schema is declared too
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
    const files = await typesOf(url, ['public', 'nothing_here']);
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
    const url = await server.createDatabase();
    await server.query(
      url,
      `create schema extra;
       create type pair as (a int, b text);
       create domain positive as int check (value > 0);
       create table extra.things (id int primary key, both_parts pair, amount positive)`,
    );
    const error = await failure(typesOf(url, ['extra']));
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
