/**
 * The generated Drizzle files depend on schema.sql alone, not on the server:
 * the Livermore schema loaded into PostgreSQL 14 and 18 gives the same bytes.
 * (drizzle-kit pull does not: its unique constraints' column order and its
 * operator classes change with the major version.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readCatalogSupplement } from '../engine/catalog.js';
import { readState, schemasOf } from '../engine/index.js';
import { generateTypes, type GeneratedTypes } from '../typegen/index.js';
import { startVersionedServer, type Major, type VersionedServer } from './support/versions.js';

const LIVERMORE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../database/schema.sql');
const HEADER = '// Generated for the version test.\n';

describe('typegen: identical files on every PostgreSQL major', () => {
  const servers: VersionedServer[] = [];

  before(async () => {
    servers.push(...(await Promise.all(([14, 18] as Major[]).map((major) => startVersionedServer(major)))));
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('gives byte-identical schema.ts and relations.ts on PostgreSQL 14 and 18', async () => {
    const sql = fs.readFileSync(LIVERMORE, 'utf8');
    const [on14, on18] = await Promise.all(servers.map((server) => generateOn(server, sql)));
    assert.match(on18['schema.ts'], /pgTable\("users"/);
    assert.equal(on14['schema.ts'], on18['schema.ts']);
    assert.equal(on14['relations.ts'], on18['relations.ts']);
  });
});

async function generateOn(server: VersionedServer, sql: string): Promise<GeneratedTypes> {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('CREATE DATABASE livermore');
  await admin.end();
  const url = new URL(server.url);
  url.pathname = '/livermore';
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  pool.on('error', () => {});
  try {
    await pool.query(sql);
    const state = await readState(pool);
    const schemas = schemasOf(state);
    return await generateTypes(state, { schemas, header: HEADER, supplement: await readCatalogSupplement(pool, schemas) });
  } finally {
    await pool.end();
  }
}
