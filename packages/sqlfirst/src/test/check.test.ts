/**
 * `sqlfirst check`, run as CI runs it: the built CLI, real embedded servers, no
 * DATABASE_* variables. Every run works in a temporary copy of the repository
 * layout (its embedded database included); the working tree is only read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findMigrationArtifacts, unifiedDiff } from '../workflow/check.js';
import { runCli, type CliResult } from './support/cli.js';
import { applySql } from './support/inprocess.js';
import { startTestServer, type TestServer } from './support/server.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const DATABASE = path.join('packages', 'database');
const TYPES = path.join(DATABASE, 'src', 'schema');
const COMMITTED = [path.join(TYPES, 'schema.ts'), path.join(TYPES, 'relations.ts')];
/** the files a check reads, copied into a temporary layout */
const LAYOUT_FILES = [path.join(DATABASE, 'schema.sql'), path.join(DATABASE, 'atlas.hcl'), path.join(DATABASE, 'package.json'), ...COMMITTED];

/** no configured database: the check must work with the embedded server alone */
const NO_DATABASE: Record<string, undefined> = Object.fromEntries(
  ['DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_LIVERMORE_USERNAME', 'DATABASE_LIVERMORE_PASSWORD', 'LIVERMORE_DATABASE_NAME'].map((name) => [name, undefined]),
);

// spelled in pieces so this file is not itself a Drizzle migration to the check
const MIGRATOR = ['drizzle-orm', 'node-postgres', 'migrator'].join('/');

function check(cwd: string, args: string[] = []): Promise<CliResult> {
  return runCli(['check', ...args], { cwd, env: NO_DATABASE, timeoutMs: 180_000 });
}

interface Snapshot {
  file: string;
  content: string;
  mtimeMs: number;
}

function snapshot(root: string): Snapshot[] {
  return COMMITTED.map((file) => {
    const full = path.join(root, file);
    return { file, content: fs.readFileSync(full, 'utf8'), mtimeMs: fs.statSync(full).mtimeMs };
  });
}

function assertUntouched(root: string, before: Snapshot[]): void {
  assert.deepEqual(snapshot(root), before, 'the committed Drizzle files were not modified');
}

/** The layout's root package.json: a workspace with the repository's own sqlfirst settings. */
function layoutPackage(scripts?: Record<string, string>) {
  const { sqlfirst } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { sqlfirst: unknown };
  return { name: 'layout', private: true, workspaces: ['packages/*'], scripts, sqlfirst };
}

/** A temporary repository holding just what the check reads; the caller removes it. */
function makeLayout(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-check-test-'));
  // the embedded server in root/.sqlfirst runs as the postgres user when tests run as root
  fs.chmodSync(root, 0o755);
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify(layoutPackage(), null, 2));
  for (const file of LAYOUT_FILES) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.copyFileSync(path.join(REPO, file), path.join(root, file));
  }
  return root;
}

/** Writes `content` at root/relative for the duration of `run`, then removes what it created. */
async function withFile(root: string, relative: string, content: string, run: () => Promise<void>): Promise<void> {
  const full = path.join(root, relative);
  const existing = fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : undefined;
  const firstNew = firstMissingAncestor(root, full);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, content);
  try {
    await run();
  } finally {
    if (existing !== undefined) fs.writeFileSync(full, existing);
    else fs.rmSync(firstNew, { recursive: true, force: true });
  }
}

function firstMissingAncestor(root: string, full: string): string {
  let missing = full;
  for (let dir = path.dirname(full); dir !== root && !fs.existsSync(dir); dir = path.dirname(dir)) missing = dir;
  return missing;
}

function assertFailedWith(result: CliResult, ...lines: RegExp[]): void {
  assert.equal(result.code, 1, result.output);
  assert.match(result.stderr, /✖ \d+ problems? found/, result.output);
  for (const line of lines) assert.match(result.stderr, line, result.output);
  assert.doesNotMatch(result.output, /check passed/);
}

describe('sqlfirst check', () => {
  it('finds no Drizzle migration in the repository itself (read only)', async () => {
    assert.deepEqual(await findMigrationArtifacts(REPO, path.join(REPO, DATABASE)), []);
  });

  describe('in a copy of the repository layout', () => {
    let root: string;
    let committed: Snapshot[];

    before(async () => {
      root = makeLayout();
      // the copy starts from the types this build generates: whether the repository's own are current is CI's `npm run db:check`
      const types = await runCli(['types'], { cwd: root, env: NO_DATABASE, timeoutMs: 180_000 });
      assert.equal(types.code, 0, types.output);
      committed = snapshot(root);
    });

    after(() => {
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    it('passes, with the embedded database in the copy', async () => {
      const before = snapshot(root);
      const result = await check(root);
      assert.equal(result.code, 0, result.output);
      assert.match(result.stdout, /No database configured: using the embedded PostgreSQL in \.sqlfirst[\\/]postgres/);
      assert.match(result.stdout, /✓ scan migrations .*no Drizzle migrations/);
      assert.match(result.stdout, /✓ compare types .*schema\.ts, relations\.ts up to date/);
      assert.match(result.stdout, /✔ check passed: the Drizzle types match schema\.sql, no Drizzle migration exists\./);
      assert.ok(fs.existsSync(path.join(root, '.sqlfirst', 'postgres', 'PG_VERSION')), 'the embedded data lives in the copy');
      assert.match(result.stdout, /✔ check passed/);
      assertUntouched(root, before);
    });

    it('fails on stale or missing types, showing the difference, and leaves them as they were', async () => {
      const schemaFile = path.join(root, TYPES, 'schema.ts');
      const relationsFile = path.join(root, TYPES, 'relations.ts');
      const edited = committed[0].content.replace('email: text().notNull(),', 'email: text(),');
      assert.notEqual(edited, committed[0].content);
      fs.writeFileSync(schemaFile, edited);
      try {
        const stale = await check(root);
        assertFailedWith(
          stale,
          /1 problem found/,
          /Drizzle types out of date: packages\/database\/src\/schema\/schema\.ts differs from what schema\.sql produces \(1 line added, 1 removed, diff above\); run .*cli\.js types and commit the result/,
        );
        assert.doesNotMatch(stale.stderr, /relations\.ts/);
        // the unified diff, committed → generated, on stdout
        assert.match(stale.stdout, /^--- packages\/database\/src\/schema\/schema\.ts \(committed\)\n\+\+\+ packages\/database\/src\/schema\/schema\.ts \(from schema\.sql\)\n@@ -\d+,7 \+\d+,7 @@$/m);
        assert.match(stale.stdout, /^-\s+email: text\(\),$/m);
        assert.match(stale.stdout, /^\+\s+email: text\(\)\.notNull\(\),$/m);
        assert.equal(fs.readFileSync(schemaFile, 'utf8'), edited, 'the check does not rewrite the stale file');

        // --json: the problems as a list, and nothing but the document on stdout
        const json = await check(root, ['--json']);
        assert.equal(json.code, 1, json.output);
        const document = JSON.parse(json.stdout) as { ok: boolean; problems: string[] };
        assert.equal(document.ok, false);
        assert.equal(document.problems.length, 1);
        assert.match(document.problems[0], /^Drizzle types out of date: packages\/database\/src\/schema\/schema\.ts differs/);

        fs.rmSync(relationsFile);
        const missing = await check(root, ['--verbose']);
        assertFailedWith(missing, /2 problems found/, /schema\.ts differs/, /packages\/database\/src\/schema\/relations\.ts is missing; run /);
        // --verbose shows the whole diff (a missing file: every generated line added), and no stack trace
        const relationsLines = committed[1].content.split('\n').length - 1;
        assert.match(missing.stdout, new RegExp(`^@@ -0,0 \\+1,${relationsLines} @@$`, 'm'));
        assert.doesNotMatch(missing.stdout, /more lines? of difference/);
        assert.doesNotMatch(missing.output, /^\s+at /m);
        assert.equal(fs.existsSync(relationsFile), false, 'the check does not create the missing file');
      } finally {
        fs.writeFileSync(schemaFile, committed[0].content);
        fs.writeFileSync(relationsFile, committed[1].content);
      }
    });

    it("fails on a migrations folder in the database package, not on another tool's", async () => {
      await withFile(root, path.join('supabase', 'migrations', '20240101000000_init.sql'), 'CREATE TABLE x (id int);\n', async () => {
        await withFile(root, path.join(DATABASE, 'migrations', 'README.md'), 'old migrations\n', async () => {
          const before = snapshot(root);
          const result = await check(root);
          assertUntouched(root, before);
          assertFailedWith(result, /1 problem found/, /Drizzle migration: packages\/database\/migrations\/ is a migrations folder in the database package/);
          assert.doesNotMatch(result.stderr, /supabase/);
          assert.match(result.stdout, /✓ compare types .*up to date/, 'the other checks still run');
        });
      });
    });

    it('fails on a drizzle-kit migration journal', async () => {
      const journal = JSON.stringify({ version: '7', dialect: 'postgresql', entries: [] });
      await withFile(root, path.join(DATABASE, 'drizzle', 'meta', '_journal.json'), journal, async () => {
        assertFailedWith(await check(root), /1 problem found/, /Drizzle migration: packages\/database\/drizzle\/meta\/_journal\.json is a drizzle-kit migration journal/);
      });
    });

    it('fails on package.json scripts running drizzle-kit generate, push or migrate', async () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(root, DATABASE, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
      pkg.scripts = {
        ...pkg.scripts,
        'db:generate': 'drizzle-kit generate --config drizzle.config.ts',
        'db:push': 'npx drizzle-kit push',
        'db:migrate': 'drizzle-kit migrate',
        'db:pull': 'drizzle-kit pull',
      };
      await withFile(root, path.join(DATABASE, 'package.json'), JSON.stringify(pkg, null, 2), async () => {
        await withFile(root, 'package.json', JSON.stringify(layoutPackage({ 'schema:push': 'drizzle-kit push:pg' }), null, 2), async () => {
          const result = await check(root);
          assertFailedWith(
            result,
            /4 problems found/,
            /Drizzle migration: package\.json:\d+ has script "schema:push" running drizzle-kit push/,
            /Drizzle migration: packages\/database\/package\.json:\d+ has script "db:generate" running drizzle-kit generate/,
            /Drizzle migration: packages\/database\/package\.json:\d+ has script "db:push" running drizzle-kit push/,
            /Drizzle migration: packages\/database\/package\.json:\d+ has script "db:migrate" running drizzle-kit migrate/,
          );
          assert.doesNotMatch(result.stderr, /db:pull/, 'drizzle-kit pull is how the types are made: allowed');
        });
      });
    });

    it("fails on a migrate() call from drizzle-orm's migrator", async () => {
      const source = [
        "import { drizzle } from 'drizzle-orm/node-postgres';",
        `import { migrate } from '${MIGRATOR}';`,
        '',
        'const db = drizzle(process.env.DATABASE_URL!);',
        "await migrate(db, { migrationsFolder: './drizzle' });",
        '',
      ].join('\n');
      await withFile(root, path.join('packages', 'api', 'src', 'db', 'migrate.ts'), source, async () => {
        assertFailedWith(await check(root), /1 problem found/, /Drizzle migration: packages\/api\/src\/db\/migrate\.ts:5 calls migrate\(\) from drizzle-orm\/node-postgres\/migrator/);
      });
    });

    it('fails on a drizzle.config that sets out or migrations', async () => {
      const config = [
        "import { defineConfig } from 'drizzle-kit';",
        'export default defineConfig({',
        "  dialect: 'postgresql',",
        "  schema: './src/schema/schema.ts',",
        "  out: './drizzle',",
        "  migrations: { table: '__drizzle_migrations' },",
        '});',
        '',
      ].join('\n');
      await withFile(root, path.join(DATABASE, 'drizzle.config.ts'), config, async () => {
        assertFailedWith(
          await check(root),
          /2 problems found/,
          /Drizzle migration: packages\/database\/drizzle\.config\.ts:5 sets out/,
          /Drizzle migration: packages\/database\/drizzle\.config\.ts:6 sets migrations/,
        );
      });
    });

    describe('with --url: drift of a live database', () => {
      let server: TestServer;
      let url: string;

      before(async () => {
        server = await startTestServer();
        url = await server.createDatabase('livermore');
        const applied = await applySql(url, fs.readFileSync(path.join(root, DATABASE, 'schema.sql'), 'utf8'));
        assert.equal(applied.code, 0, applied.output);
      });

      after(async () => {
        await server?.stop();
      });

      it('passes while the database matches schema.sql', async () => {
        const before = snapshot(root);
        const result = await check(root, ['--url', url]);
        assert.equal(result.code, 0, result.output);
        assert.match(result.stdout, /✓ drift .*none$/m);
        assert.match(result.stdout, /✔ check passed: .*the database matches schema\.sql\./);
        assertUntouched(root, before);
      });

      it('fails on a drifted database, listing the drift, and changes neither the database nor the files', async () => {
        const before = snapshot(root);
        await server.query(url, 'ALTER TABLE users ADD COLUMN nickname text; DROP INDEX orders_open_idx;');
        const result = await check(root, ['--url', url]);
        assertFailedWith(result, /2 problems found/, /^ {2}drift: .*nickname.*\(loses data\)$/m, /^ {2}drift: CREATE INDEX orders_open_idx/m, /apply --url URL would run/);
        assert.doesNotMatch(result.stderr, /Drizzle types out of date/);
        // nothing was applied
        const columns = await server.query(url, "SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'nickname'");
        assert.equal(columns.length, 1);
        assertUntouched(root, before);
      });
    });
  });
});

describe('findMigrationArtifacts', () => {
  let root: string;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-check-scan-'));
  });

  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  function write(relative: string, content = ''): void {
    fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    fs.writeFileSync(path.join(root, relative), content);
  }

  it('finds an aliased migrator, and ignores installed packages, build output, comments and docs', async () => {
    write('package.json', JSON.stringify({ workspaces: ['packages/*'], scripts: { build: 'tsc', pull: 'drizzle-kit pull' } }));
    write('README.md', 'Never run drizzle-kit push; there is no migrations folder.\n');
    write('node_modules/some-lib/migrations/0000.sql');
    write('node_modules/some-lib/package.json', JSON.stringify({ scripts: { x: 'drizzle-kit push' } }));
    write('packages/api/dist/migrate.js', `import { migrate } from "${MIGRATOR}"; migrate(db);`);
    write('.sqlfirst/postgres/migrations/x');
    write('packages/api/src/ok.ts', "// import { migrate } from 'elsewhere'\nexport const migrate = () => {};\nmigrate();\n");
    write('packages/api/src/boot.ts', `import { migrate as runMigrations } from '${MIGRATOR}';\n\n// runMigrations(db) used to be here\nawait runMigrations(db, { migrationsFolder: 'x' });\n`);
    write('packages/api/src/types.d.ts', `export * from '${MIGRATOR}';\n`);
    write('drizzle.config.json', JSON.stringify({ dialect: 'postgresql', schema: './schema.ts' }, null, 2));

    assert.deepEqual(await findMigrationArtifacts(root), [
      { kind: 'migrator call', path: 'packages/api/src/boot.ts', line: 4, detail: 'calls migrate() from drizzle-orm/node-postgres/migrator' },
    ]);

    write('drizzle.config.json', JSON.stringify({ dialect: 'postgresql', out: './drizzle' }, null, 2));
    write('packages/jobs/src/setup.mjs', `const { migrate } = require("${MIGRATOR}");\n`);
    assert.deepEqual(
      (await findMigrationArtifacts(root)).map((a) => `${a.path}:${a.line} ${a.detail}`),
      [
        'drizzle.config.json:3 sets out (where drizzle-kit keeps migrations)',
        'packages/api/src/boot.ts:4 calls migrate() from drizzle-orm/node-postgres/migrator',
        'packages/jobs/src/setup.mjs:1 imports drizzle-orm/node-postgres/migrator',
      ],
    );
  });
});

describe("findMigrationArtifacts: what is Drizzle's", () => {
  let root: string;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-check-kinds-'));
  });

  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  function write(relative: string, content = ''): void {
    fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    fs.writeFileSync(path.join(root, relative), content);
  }

  async function found(): Promise<string[]> {
    return (await findMigrationArtifacts(root, path.join(root, 'packages', 'database'))).map((a) => `${a.path}${a.line ? `:${a.line}` : ''} ${a.detail}`);
  }

  it("leaves other tools' migrations alone", async () => {
    write('supabase/migrations/20240101000000_init.sql', 'create table x (id int);\n');
    write('prisma/migrations/20240101000000_init/migration.sql', 'create table x (id int);\n');
    write('migrations/0001_seed.sql', 'insert into x values (1);\n');
    write('packages/api/src/notes.ts', `// import { migrate } from '${MIGRATOR}'\n/* await migrate(db) */\nexport const note = "see ${MIGRATOR}";\n`);
    assert.deepEqual(await found(), []);
  });

  it('flags numbered migrations in drizzle/ or beside a drizzle-kit meta/, the database package\'s migrations/, and every form of migrator import', async () => {
    write('drizzle/0000_init.sql', 'create table x (id int);\n');
    write('packages/api/db/0000_first.sql');
    write('packages/api/db/0001_second.sql');
    write('packages/api/db/meta/0001_snapshot.json', '{}');
    write('packages/database/migrations/.gitkeep');
    write('packages/api/src/dynamic.ts', `export async function up(db: unknown) {\n  const { migrate } = await import('${MIGRATOR}');\n  await migrate(db, { migrationsFolder: 'x' });\n}\n`);
    write('packages/api/src/namespace.ts', `import * as migrator from "${MIGRATOR}";\n\nawait migrator.migrate(db, { migrationsFolder: "x" });\n`);
    write('packages/api/src/reexport.ts', `export { migrate } from '${MIGRATOR}';\n`);
    assert.deepEqual(await found(), [
      'drizzle/ holds 1 drizzle-kit migration file (0000_init.sql)',
      'packages/api/db/ holds 2 drizzle-kit migration files (0000_first.sql, 0001_second.sql)',
      'packages/api/src/dynamic.ts:3 calls migrate() from drizzle-orm/node-postgres/migrator',
      'packages/api/src/namespace.ts:3 calls migrate() from drizzle-orm/node-postgres/migrator',
      'packages/api/src/reexport.ts:1 imports drizzle-orm/node-postgres/migrator',
      'packages/database/migrations/ is a migrations folder in the database package',
    ]);
  });
});

describe('unifiedDiff', () => {
  it('shows each change with three lines of context, in separate hunks when far apart', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const after = [...before];
    after[1] = 'line two';
    after.splice(15, 1);
    assert.deepEqual(unifiedDiff(`${before.join('\n')}\n`, `${after.join('\n')}\n`, 'a', 'b'), [
      '--- a',
      '+++ b',
      '@@ -1,5 +1,5 @@',
      ' line 1',
      '-line 2',
      '+line two',
      ' line 3',
      ' line 4',
      ' line 5',
      '@@ -13,7 +13,6 @@',
      ' line 13',
      ' line 14',
      ' line 15',
      '-line 16',
      ' line 17',
      ' line 18',
      ' line 19',
    ]);
  });

  it('is empty for equal texts, and numbers an empty side as diff -u does', () => {
    assert.deepEqual(unifiedDiff('x\n', 'x\n', 'a', 'b'), []);
    assert.deepEqual(unifiedDiff('', 'x\ny\n', 'a', 'b'), ['--- a', '+++ b', '@@ -0,0 +1,2 @@', '+x', '+y']);
    assert.deepEqual(unifiedDiff('x\n', '', 'a', 'b'), ['--- a', '+++ b', '@@ -1,1 +0,0 @@', '-x']);
  });
});
