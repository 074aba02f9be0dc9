/**
 * The writer experiment of src/test/online.test.ts as a standalone script:
 * a table of ROWS rows (default 2,000,000) that one connection inserts into
 * continuously while sqlfirst's engine adds an index, a foreign key, a CHECK,
 * a UNIQUE constraint and a NOT NULL to it — once planned online, once
 * planned for an idle database. Starts and stops its own embedded server.
 * Prints a markdown table: the writer's longest stall and the build time;
 * then the online apply's progress lines (onProgress), as a run shows them.
 *
 *   npm run build -w sqlfirst && node bench/online.mjs [rows]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedServer } from '../packages/sqlfirst/dist/embedded/server.js';
import { applyPlan, planChanges, readState } from '../packages/sqlfirst/dist/engine/index.js';

const rows = Number(process.argv[2] ?? 2_000_000);
const BEFORE = `CREATE TABLE parent (id int PRIMARY KEY);
  CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, parent_id int, qty int);`;
const AFTER = `CREATE TABLE parent (id int PRIMARY KEY);
  CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id int NOT NULL REFERENCES parent (id), qty int CONSTRAINT qty_positive CHECK (qty > 0),
    CONSTRAINT orders_id_qty UNIQUE (id, qty));
  CREATE INDEX orders_qty ON orders (qty);`;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-bench-online-'));
// the server runs as the postgres user when this runs as root
fs.chmodSync(root, 0o755);
const server = await startEmbeddedServer(path.join(root, 'data'));
const pools = [];
const urlOf = (name) => Object.assign(new URL(server.url), { pathname: `/${name}` }).toString();
async function sql(url, text) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}
function pool(url) {
  const created = new pg.Pool({ connectionString: url, max: 3 });
  created.on('error', () => {});
  pools.push(created);
  return created;
}

/** One apply on a fresh copy of the table while a writer inserts; the writer's longest wait between inserts. */
async function experiment(online, desired) {
  const name = online ? 'online' : 'idle';
  await sql(server.url, `CREATE DATABASE ${name} TEMPLATE template_orders`);
  const target = pool(urlOf(name));
  let stopping = false;
  const writer = (async () => {
    const client = new pg.Client({ connectionString: urlOf(name) });
    await client.connect();
    let last = Date.now();
    let longest = 0;
    while (!stopping) {
      await client.query('INSERT INTO orders (parent_id, qty) VALUES (1, 1)');
      longest = Math.max(longest, Date.now() - last);
      last = Date.now();
    }
    await client.end();
    return longest;
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const started = performance.now();
  const plan = planChanges(await readState(target), desired, { online });
  const progress = [];
  const onProgress = (index, text) => progress.push(`[${index + 1}] ${text}`);
  await applyPlan(plan, target, { desired, planOptions: { online }, lockTimeoutMs: 5000, onProgress });
  const buildMs = Math.round(performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, 300));
  stopping = true;
  return { stallMs: await writer, buildMs, statements: plan.changes.length, progress, sql: plan.changes.map((change, index) => `[${index + 1}] ${change.sql}`) };
}

try {
  await sql(server.url, 'CREATE DATABASE template_orders');
  await sql(server.url, 'CREATE DATABASE desired');
  await sql(urlOf('desired'), AFTER);
  const loadStart = performance.now();
  await sql(urlOf('template_orders'), `${BEFORE} INSERT INTO parent SELECT generate_series(1, 10);
    INSERT INTO orders (parent_id, qty) SELECT 1 + g % 10, 1 + g % 1000 FROM generate_series(1, ${rows}) g; ANALYZE orders;`);
  const loadMs = Math.round(performance.now() - loadStart);
  const desired = await readState(pool(urlOf('desired')));
  const online = await experiment(true, desired);
  const idle = await experiment(false, desired);
  console.log(`${rows.toLocaleString('en-US')} rows (loaded in ${loadMs} ms); one writer inserting a row at a time during the apply\n`);
  console.log('| plan | statements | writer\'s longest stall | apply (plan + build + verify) |');
  console.log('|---|---|---|---|');
  console.log(`| online | ${online.statements} | ${online.stallMs} ms | ${online.buildMs} ms |`);
  console.log(`| for an idle database | ${idle.statements} | ${idle.stallMs} ms | ${idle.buildMs} ms |`);
  console.log(`\nThe online plan:\n\n${online.sql.map((line) => `    ${line}`).join('\n')}`);
  console.log(`\nIts progress lines (${online.progress.length}):\n\n${online.progress.map((line) => `    ${line}`).join('\n')}`);
} finally {
  await Promise.all(pools.map((p) => p.end()));
  await server.stop();
  fs.rmSync(root, { recursive: true, force: true });
}
