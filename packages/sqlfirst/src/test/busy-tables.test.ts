/**
 * Big, busy tables through the CLI, as a user runs it: hazards next to each
 * statement (and in --json), an environment that refuses a rewrite of a big
 * table unless the hazard is accepted, online plans from atlas.hcl, and a
 * rename by directive that keeps every row. (The engine side, with a writer
 * on a table of millions of rows, is online.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/cli.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let work: string;

before(async () => {
  server = await startTestServer();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-busy-'));
});
after(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const BIG = 20_000;
const V1 = 'CREATE TABLE orders (id int PRIMARY KEY, qty int NOT NULL, note text);\n';

/** A project whose "production" environment is a fresh database holding V1 with BIG rows. */
async function project(): Promise<{ root: string; url: string; schema: string; apply: (args: string[]) => ReturnType<typeof runCli> }> {
  const url = await server.createDatabase();
  await server.query(url, `${V1} INSERT INTO orders SELECT g, g % 7, 'n' FROM generate_series(1, ${BIG}) g; ANALYZE orders;`);
  const root = fs.mkdtempSync(path.join(work, 'project-'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ workspaces: [] }));
  fs.writeFileSync(
    path.join(root, 'atlas.hcl'),
    `env "production" {\n  src = "file://schema.sql"\n  url = "${url}"\n  online = true\n  hazard_threshold_rows = 1000\n}\n`,
  );
  const schema = path.join(root, 'schema.sql');
  return { root, url, schema, apply: (args) => runCli(['apply', '--env', 'production', '--auto-approve', '--no-typecheck', ...args], { cwd: root }) };
}

describe('big, busy tables', () => {
  test('a rewrite of a big table is listed with its size, refused over the threshold, applied when the hazard is accepted', async () => {
    const { url, schema, apply } = await project();
    fs.writeFileSync(schema, V1.replace('qty int', 'qty bigint'));
    const refused = await apply([]);
    assert.equal(refused.code, 1, refused.output);
    assert.match(refused.stdout, /! rewrites public\.orders \(≈20 k rows, [\d.]+ [kM]B\)/);
    assert.match(refused.stderr, /Refusing to apply: 1 statement would lock a table of more than 1,000 rows .*accept the hazard with node \S+ apply --env production --allow-hazard rewrites-table \(nothing was changed\)/);
    assert.match(refused.stderr, /\[rewrites-table\]: ALTER TABLE "public"\."orders" ALTER COLUMN "qty" TYPE bigint/);
    assert.deepEqual(await server.query(url, "SELECT data_type FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'qty'"), [{ data_type: 'integer' }]);

    const json = await apply(['--allow-hazard', 'rewrites-table', '--json']);
    assert.equal(json.code, 0, json.output);
    const outcome = JSON.parse(json.stdout);
    const statement = outcome.plan.statements.find((s: { sql: string }) => /TYPE bigint/.test(s.sql));
    assert.deepEqual(
      statement.hazards.map((h: { kind: string; table: string; rows: number }) => [h.kind, h.table, h.rows]),
      [['rewrites-table', 'public.orders', BIG], ['blocks-reads-and-writes', 'public.orders', BIG]],
    );
    assert.equal((await server.query(url, 'SELECT count(*)::int AS n FROM orders'))[0].n, BIG);
  });

  test('online (atlas.hcl): an index is built CONCURRENTLY in a step of its own, and a CHECK is added NOT VALID, then validated', async () => {
    const { url, schema, apply } = await project();
    fs.writeFileSync(schema, `${V1.replace('qty int NOT NULL', 'qty int NOT NULL CHECK (qty >= 0)')}CREATE INDEX orders_qty ON orders (qty);\n`);
    const result = await apply([]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /CREATE INDEX CONCURRENTLY orders_qty ON public\.orders USING btree \(qty\);\s+-- commits on its own/);
    assert.match(result.stdout, /NOT VALID/);
    assert.match(result.stdout, /VALIDATE CONSTRAINT/);
    assert.match(result.stdout, /✓ plan .*online/);
    const [{ valid }] = await server.query(url, "SELECT bool_and(i.indisvalid) AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'orders_qty'");
    assert.equal(valid, true);
    const again = await runCli(['plan', '--env', 'production', '--exit-code', '--no-typecheck'], { cwd: path.dirname(schema) });
    assert.equal(again.code, 0, again.output);
  });

  test('a column renamed by a directive in schema.sql keeps every row; the directive can stay (a second run is a no-op)', async () => {
    const { url, schema, apply } = await project();
    fs.writeFileSync(schema, 'CREATE TABLE orders (id int PRIMARY KEY, quantity int NOT NULL, -- @renamed from=qty\n  note text);\n');
    const renamed = await apply([]);
    assert.equal(renamed.code, 0, renamed.output);
    assert.match(renamed.stdout, /RENAME COLUMN "qty" TO "quantity"/);
    assert.doesNotMatch(renamed.stdout, /DATA LOSS/);
    assert.equal((await server.query(url, 'SELECT sum(quantity)::int AS total FROM orders'))[0].total, Array.from({ length: BIG }, (_, i) => (i + 1) % 7).reduce((a, b) => a + b, 0));
    const again = await apply([]);
    assert.equal(again.code, 0, again.output);
    assert.match(again.stdout, /Nothing to apply/);
  });
});
