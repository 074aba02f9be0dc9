/**
 * Schema evolution: each scenario applies v1, seeds rows, applies v2 and
 * asserts convergence (apply verifies that a fresh plan is empty), the
 * data-loss gate, and that rows in unchanged columns survive.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarios } from './scenarios.js';
import { applySql } from './support/inprocess.js';
import { startTestServer, type TestServer } from './support/server.js';
import { SqlfirstError } from '../errors.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.stop();
});

// scenarios are independent (a database each): several at once keep both cores busy
describe('evolution scenarios', { concurrency: 4 }, () => {
  test('there are at least 25', () => assert.ok(scenarios.length >= 25, `${scenarios.length} scenarios`));

  for (const scenario of scenarios) {
    test(scenario.name, async () => {
      const url = await server.createDatabase();
      const first = await applySql(url, scenario.before);
      assert.match(first.output, /Applied \d+ statement|Nothing to apply/);
      if (scenario.seed) await server.query(url, scenario.seed);
      const survivorsBefore = scenario.survives ? await server.query(url, scenario.survives) : undefined;

      if (scenario.dataLoss) {
        await assert.rejects(applySql(url, scenario.after), (error: unknown) => error instanceof SqlfirstError && /lose data/.test(error.message));
        if (survivorsBefore) assert.deepEqual(await server.query(url, scenario.survives!), survivorsBefore, 'a refused plan changed nothing');
      }
      const second = await applySql(url, scenario.after, { allowDataLoss: scenario.dataLoss });
      assert.match(second.output, /Applied \d+ statement/, 'the change was applied');
      assert.match(second.output, /✓ verify/);
      const changes = second.plan?.changes ?? [];
      assert.equal(changes.some((c) => c.dataLoss), Boolean(scenario.dataLoss), `data loss flagged as expected:\n${second.output}`);
      assert.equal(changes.some((c) => !c.transactional), Boolean(scenario.nonTransactional), `transactionality as expected:\n${second.output}`);
      if (survivorsBefore) assert.deepEqual(await server.query(url, scenario.survives!), survivorsBefore, 'rows in unchanged columns survive');

      const third = await applySql(url, scenario.after);
      assert.match(third.output, /Nothing to apply/, 'converged: a second run has nothing to do');
    });
  }
});

describe('schemas written by other people converge', { concurrency: 4 }, () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const foreign = path.join(here, '..', '..', 'src', 'test', 'fixtures', 'foreign');
  const repoSchema = path.join(here, '..', '..', '..', 'database', 'schema.sql');
  const files = [repoSchema, ...(fs.existsSync(foreign) ? fs.readdirSync(foreign).filter((f) => f.endsWith('.sql')).map((f) => path.join(foreign, f)) : [])];
  for (const file of files) {
    test(path.basename(path.dirname(file)) + '/' + path.basename(file), async () => {
      const url = await server.createDatabase();
      const sql = fs.readFileSync(file, 'utf8');
      const first = await applySql(url, sql);
      assert.match(first.output, /Applied \d+ statement/);
      const second = await applySql(url, sql);
      assert.match(second.output, /Nothing to apply/);
    });
  }
});
