/**
 * The questions sqlfirst asks at a real terminal, answered the way a person
 * answers them: the CLI runs under util-linux `script`, which gives it a
 * pseudo-terminal (stdin and stdout are TTYs, so it asks), the test waits for
 * the question on the terminal's output and types the answer and Enter.
 * @inquirer/confirm takes "y"/"n" then Enter; anything else is the default (no).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { CLI } from './support/cli.js';
import { startTestServer, type TestServer } from './support/server.js';

const SCRIPT = '/usr/bin/script';
const skip = process.platform === 'win32' ? 'no pseudo-terminal through util-linux script on Windows' : !fs.existsSync(SCRIPT) ? `${SCRIPT} (util-linux) is not installed: no pseudo-terminal to answer on` : false;

let server: TestServer;
let work: string;

before(async () => {
  if (skip) return;
  server = await startTestServer();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-prompts-'));
});
after(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const ROWS = 500;
const V1 = 'CREATE TABLE orders (id int PRIMARY KEY, avg_price numeric(20,8));\n';

/** A project whose "sandbox" environment is a fresh database holding V1 with ROWS rows. */
async function project(): Promise<{ root: string; url: string; schema: string }> {
  const url = await server.createDatabase();
  await server.query(url, `${V1} INSERT INTO orders SELECT g, g / 7.0 FROM generate_series(1, ${ROWS}) g;`);
  const root = fs.mkdtempSync(path.join(work, 'project-'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ workspaces: [] }));
  fs.writeFileSync(path.join(root, 'atlas.hcl'), `env "sandbox" {\n  src = "file://schema.sql"\n  url = "${url}"\n}\n`);
  return { root, url, schema: path.join(root, 'schema.sql') };
}

/** One argument for `sh -c`, whatever it contains. */
function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * `sqlfirst <args>` at a pseudo-terminal. `answer` waits for `question` to
 * appear (after everything already answered) and types the reply and Enter.
 */
function atTerminal(args: string[], cwd: string) {
  // a wide terminal, so a long question is never wrapped by the prompt
  const command = `stty cols 300 rows 50; exec ${[process.execPath, CLI, ...args].map(shellQuote).join(' ')}`;
  const child = spawn(SCRIPT, ['-qfec', command, '/dev/null'], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let raw = '';
  let answeredUpTo = 0;
  child.stdout.on('data', (d) => (raw += d));
  child.stderr.on('data', (d) => (raw += d));
  const output = () => stripVTControlCharacters(raw).replace(/\r/g, '');
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  void exited.then(() => clearTimeout(timer));
  return {
    output,
    exited,
    async answer(question: string, reply: 'y' | 'n') {
      for (let i = 0; i < 1200; i++) {
        const at = output().indexOf(question, answeredUpTo);
        if (at >= 0) {
          answeredUpTo = at + question.length;
          child.stdin.write(`${reply}\r`);
          return;
        }
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the question "${question}" was not asked:\n${output()}`);
    },
  };
}

async function columns(url: string): Promise<string[]> {
  const rows = await server.query<{ column_name: string }>(url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position");
  return rows.map((r) => r.column_name);
}

/** sum of the prices, to tell that every row kept its value */
async function priceTotal(url: string, column: string): Promise<string> {
  return (await server.query<{ total: string }>(url, `SELECT sum(${column})::text AS total FROM orders`))[0].total;
}

describe('questions at a terminal', { skip }, () => {
  test('apply asks before applying: n cancels and changes nothing, y applies', async () => {
    const { root, url, schema } = await project();
    fs.writeFileSync(schema, V1.replace(');', ', note text);'));
    const question = 'Apply these changes to';

    const declined = atTerminal(['apply', '--env', 'sandbox', '--no-typecheck'], root);
    await declined.answer(question, 'n');
    assert.equal(await declined.exited, 1, declined.output());
    assert.match(declined.output(), /Apply these changes to \S+ on 127\.0\.0\.1:\d+ \(sandbox\)\?/);
    assert.match(declined.output(), /Cancelled; nothing was applied\./);
    assert.deepEqual(await columns(url), ['id', 'avg_price'], 'nothing was applied');

    const approved = atTerminal(['apply', '--env', 'sandbox', '--no-typecheck'], root);
    await approved.answer(question, 'y');
    assert.equal(await approved.exited, 0, approved.output());
    assert.match(approved.output(), /Applied 1 statement/);
    assert.deepEqual(await columns(url), ['id', 'avg_price', 'note']);
  });

  test('a rename the engine detects is asked: y renames keeping every row, then asks to apply', async () => {
    const { root, url, schema } = await project();
    const total = await priceTotal(url, 'avg_price');
    fs.writeFileSync(schema, V1.replace('avg_price', 'average_price'));

    const run = atTerminal(['apply', '--env', 'sandbox', '--no-typecheck'], root);
    await run.answer('public.orders.avg_price → public.orders.average_price: rename (keeping the data)?', 'y');
    await run.answer('Apply these changes to', 'y');
    assert.equal(await run.exited, 0, run.output());
    assert.match(run.output(), /RENAME COLUMN "avg_price" TO "average_price"/);
    assert.doesNotMatch(run.output(), /DROP COLUMN/);
    assert.deepEqual(await columns(url), ['id', 'average_price']);
    assert.equal((await server.query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM orders'))[0].n, ROWS);
    assert.equal(await priceTotal(url, 'average_price'), total, 'every row kept its price');
  });

  test('a rename answered n stays drop + add, which the data-loss gate refuses without asking to apply', async () => {
    const { root, url, schema } = await project();
    fs.writeFileSync(schema, V1.replace('avg_price', 'average_price'));

    const run = atTerminal(['apply', '--env', 'sandbox', '--no-typecheck'], root);
    await run.answer('public.orders.avg_price → public.orders.average_price: rename (keeping the data)?', 'n');
    assert.equal(await run.exited, 1, run.output());
    assert.match(run.output(), /DROP COLUMN "avg_price"/);
    assert.match(run.output(), /Refusing to apply 1 statement that would lose data/);
    assert.doesNotMatch(run.output(), /Apply these changes to/);
    assert.deepEqual(await columns(url), ['id', 'avg_price'], 'nothing was applied');
    assert.equal((await server.query<{ n: number }>(url, 'SELECT count(avg_price)::int AS n FROM orders'))[0].n, ROWS);
  });
});
