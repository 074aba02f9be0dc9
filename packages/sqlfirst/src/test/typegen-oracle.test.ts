/**
 * Differential test: our in-process generator against drizzle-kit pull, on
 * the Livermore schema and on every schema of the evolution scenarios. The
 * texts must be identical once the differences docs/typegen.md lists (where
 * drizzle-kit depends on the server or is wrong) are taken out of both, and
 * every generated pair must type-check.
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
import { readCatalogSupplement } from '../engine/catalog.js';
import { readState, schemasOf } from '../engine/index.js';
import { SqlfirstError } from '../errors.js';
import { parseTarget } from '../target/url.js';
import { generateTypes, type GeneratedTypes } from '../typegen/index.js';
import { GENERATED_HEADER, pullTypes } from './support/drizzle-kit/pull.js';
import { scenarios } from './scenarios.js';
import { startTestServer, type TestServer } from './support/server.js';

const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const LIVERMORE = path.join(REPOSITORY, 'packages/database/schema.sql');
/** pulls at once: each is a node process, and the machine is shared */
const PARALLEL = 3;

interface Case {
  name: string;
  sql: string;
}

interface Outcome {
  ours: GeneratedTypes | SqlfirstError;
  pulled: GeneratedTypes | SqlfirstError;
  /** partitioned tables and their partitions, by name */
  partitioning: { parents: string[]; partitions: string[] };
}

function cases(): Case[] {
  const all: Case[] = [{ name: 'packages/database/schema.sql', sql: fs.readFileSync(LIVERMORE, 'utf8') }];
  const seen = new Set<string>();
  for (const scenario of scenarios) {
    for (const [side, sql] of [['before', scenario.before], ['after', scenario.after]] as const) {
      if (seen.has(sql)) continue;
      seen.add(sql);
      all.push({ name: `${scenario.name} (${side})`, sql });
    }
  }
  return all;
}

describe('typegen oracle: generated in-process vs drizzle-kit pull', () => {
  let server: TestServer;
  const outcomes = new Map<string, Outcome>();
  const all = cases();

  before(async () => {
    server = await startTestServer();
    const queue = [...all];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) outcomes.set(next.name, await runCase(server, next));
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  });

  after(async () => {
    await server?.stop();
  });

  for (const testCase of all) {
    it(`matches drizzle-kit pull: ${testCase.name}`, () => {
      const { ours, pulled, partitioning } = outcomes.get(testCase.name) as Outcome;
      if (pulled instanceof SqlfirstError || ours instanceof SqlfirstError) {
        // a type Drizzle cannot express: both refuse, naming the same columns
        assert.ok(pulled instanceof SqlfirstError, `drizzle-kit succeeded but ours failed: ${String((ours as Error).message)}`);
        assert.ok(ours instanceof SqlfirstError, `ours succeeded but drizzle-kit failed: ${pulled.message}`);
        assert.equal(ours.message, pulled.message);
        return;
      }
      for (const name of ['schema.ts', 'relations.ts'] as const) {
        assert.equal(normaliseOurs(ours[name], partitioning.parents), normalisePulled(pulled[name], partitioning.partitions), `${name} differs`);
      }
    });
  }

  it('writes the real operator class of each index key (drizzle-kit picks one at random)', () => {
    const { ours } = outcomes.get('packages/database/schema.sql') as Outcome;
    assert.ok(!(ours instanceof SqlfirstError));
    const schema = ours['schema.ts'];
    // text, text, timestamptz: PostgreSQL 18's pull wrote timestamptz_ops on the first, a text column
    assert.match(schema, /table\.schemaName\.asc\(\)\.nullsLast\(\)\.op\("text_ops"\), table\.tableName\.asc\(\)\.nullsLast\(\)\.op\("text_ops"\), table\.occurredAt\.desc\(\)\.nullsFirst\(\)\.op\("timestamptz_ops"\)/);
    // integer, varchar
    assert.match(schema, /table\.instrumentId\.asc\(\)\.nullsLast\(\)\.op\("int4_ops"\), table\.exchangeOrderId\.asc\(\)\.nullsLast\(\)\.op\("text_ops"\)/);
    // uuid, integer, enum, numeric
    assert.match(schema, /table\.userId\.asc\(\)\.nullsLast\(\)\.op\("uuid_ops"\), table\.exchangeId\.asc\(\)\.nullsLast\(\)\.op\("int4_ops"\)/);
    assert.match(schema, /table\.condition\.asc\(\)\.nullsLast\(\)\.op\("enum_ops"\), table\.threshold\.asc\(\)\.nullsLast\(\)\.op\("numeric_ops"\)/);
  });

  it('gives files that type-check, every case at once', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-typegen-oracle-'));
    try {
      // drizzle-orm resolves from the repository's node_modules
      fs.symlinkSync(path.join(REPOSITORY, 'node_modules'), path.join(dir, 'node_modules'), 'junction');
      const folders: string[] = [];
      [...outcomes.values()].forEach(({ ours }, index) => {
        if (ours instanceof SqlfirstError) return;
        const folder = `case${index}`;
        fs.mkdirSync(path.join(dir, folder));
        for (const [name, text] of Object.entries(ours)) fs.writeFileSync(path.join(dir, folder, name), text);
        folders.push(folder);
      });
      assert.ok(folders.length > all.length / 2, 'most cases generate files');
      const tsconfig = {
        compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: [] },
        include: folders.map((folder) => `${folder}/*.ts`),
      };
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
      const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
      const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      assert.equal(result.status, 0, `tsc failed:\n${result.stdout}${result.stderr}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function runCase(server: TestServer, testCase: Case): Promise<Outcome> {
  const url = await server.createDatabase();
  await server.query(url, testCase.sql);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  let ours: Outcome['ours'];
  try {
    const state = await readState(pool);
    const schemas = schemasOf(state);
    const supplement = await readCatalogSupplement(pool, schemas);
    ours = await generateTypes(state, { schemas, header: GENERATED_HEADER, supplement }).catch(refusal);
    const pulled = await pullTypes({ target: parseTarget(url), schemas }).catch(refusal);
    const { rows } = await pool.query<{ relname: string; relispartition: boolean }>("SELECT relname, relispartition FROM pg_class WHERE relkind = 'p' OR relispartition");
    const partitioning = { parents: rows.filter((r) => !r.relispartition).map((r) => r.relname), partitions: rows.filter((r) => r.relispartition).map((r) => r.relname) };
    return { ours, pulled, partitioning };
  } finally {
    await pool.end();
  }
}

function refusal(error: unknown): SqlfirstError {
  if (error instanceof SqlfirstError) return error;
  throw error;
}

// ---------------------------------------------------------------------------
// The differences docs/typegen.md lists, removed from both sides. Each step
// names the difference it removes; nothing else is normalised.

/**
 * Our sql`…` templates escape backslashes (drizzle-kit's lose them when
 * evaluated); we describe a partitioned table, not its partitions.
 */
function normaliseOurs(text: string, partitionedTables: string[]): string {
  return normaliseBoth(text.replaceAll('\\\\', '\\'), partitionedTables);
}

/**
 * drizzle-kit writes an empty string default as `.default(')` and an
 * expression default of a text column bare, as if it were TypeScript; ours
 * are `''` and sql`…`. It describes each partition instead of the
 * partitioned table.
 */
function normalisePulled(text: string, partitions: string[]): string {
  return normaliseBoth(sqlForBareDefaults(text.replaceAll(".default(')", ".default('')")), partitions);
}

/** `.default(CURRENT_USER)` → `.default(sql`CURRENT_USER`)`: a default that is no TypeScript literal. */
function sqlForBareDefaults(text: string): string {
  let out = '';
  let at = 0;
  for (let start = text.indexOf('.default(', at); start !== -1; start = text.indexOf('.default(', at)) {
    const open = start + '.default('.length;
    const bare = /^[A-Za-z_]/.test(text.slice(open)) && !/^(sql`|true\)|false\))/.test(text.slice(open));
    let close = open;
    for (let depth = 1; bare && depth > 0; close++) depth += text[close] === '(' ? 1 : text[close] === ')' ? -1 : 0;
    out += bare ? `${text.slice(at, open)}sql\`${text.slice(open, close - 1)}\`)` : text.slice(at, open);
    at = bare ? close : open;
  }
  return out + text.slice(at);
}

function normaliseBoth(text: string, leftOutTables: string[]): string {
  const [head, ...blocks] = text.split(/\n(?=export const )/);
  const leftOut = (block: string) => leftOutTables.some((table) => block.includes(`pgTable(${JSON.stringify(table)},`));
  return [
    sortImports(head),
    // declaration order: drizzle-kit's follows the catalog's physical order, ours is by schema and name
    ...blocks.filter((block) => !leftOut(block)).map((block) => sortExtras(sortConstraintColumns(withoutOperatorClasses(block.trim())))).sort(),
  ].join('\n');
}

/** Import lists follow the declaration order. */
function sortImports(head: string): string {
  return head.replace(/^import \{ ([^}]*) \} from/gm, (_, names: string) => `import { ${names.split(', ').sort().join(', ')} } from`);
}

/** drizzle-kit's operator classes are picked at random among the index's (drizzle-orm#4876 era bug); ours are checked on their own. */
function withoutOperatorClasses(block: string): string {
  return block.replace(/\.op\("[^"]*"\)/g, '');
}

/** drizzle-kit lists a unique or composite primary key's columns in catalog order, not the declared one. */
function sortConstraintColumns(block: string): string {
  return block
    .replace(/\.on\(([^)]*)\)/g, (_, columns: string) => `.on(${columns.split(', ').sort().join(', ')})`)
    .replace(/primaryKey\(\{ columns: \[([^\]]*)\]/g, (_, columns: string) => `primaryKey({ columns: [${columns.split(', ').sort().join(', ')}]`);
}

/**
 * drizzle-kit lists a table's checks and foreign keys (and a relation's
 * fields) in creation order, which the facts do not hold: the items of a
 * table's extra-config array and of a relations object are compared as sets.
 */
function sortExtras(block: string): string {
  const lines = block.split('\n');
  const start = lines.findIndex((line) => line.endsWith('=> [') || line.endsWith('=> ({'));
  if (start === -1) return block;
  const end = lines.findIndex((line, i) => i > start && (line === ']);' || line === '}));'));
  const items: string[] = [];
  for (const line of lines.slice(start + 1, end)) {
    // an item starts with one tab; its continuation lines have more, or close it
    if (/^\t[^\t}]/.test(line)) items.push(line);
    else items[items.length - 1] += `\n${line}`;
  }
  return [...lines.slice(0, start + 1), ...items.sort(), ...lines.slice(end)].join('\n');
}
