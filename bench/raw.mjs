/**
 * The raw tools doing a sync's work by hand, as a person would script it:
 * pg-delta loadSqlFiles into a fresh shadow database, extract the target,
 * plan (with sqlfirst's engine settings, so both plan the same statements),
 * apply, drop the shadow, then `drizzle-kit pull` through its CLI with a
 * config file. Run as a child process by bench/run.mjs, for a fair start-up
 * cost. Prints one JSON line: per-stage milliseconds and the plan's size.
 *
 *   node bench/raw.mjs <target url> <schema.sql> <types dir | -> [schema,schema...]
 *
 * With "-" as the types dir, drizzle-kit is not run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { apply, extract, loadSqlFiles, plan } from '@supabase/pg-delta';

const [url, schemaFile, typesDir, schemaList = 'public'] = process.argv.slice(2);
const times = {};
async function stage(name, run) {
  const start = performance.now();
  const value = await run();
  times[name] = Math.round(performance.now() - start);
  return value;
}

const shadowName = `raw_shadow_${process.pid}`;
const serverUrl = new URL(url);
serverUrl.pathname = '/postgres';
const shadowUrl = new URL(url);
shadowUrl.pathname = `/${shadowName}`;

const admin = new pg.Client({ connectionString: serverUrl.toString() });
await admin.connect();
let actions = 0;
try {
  await stage('shadow', () => admin.query(`CREATE DATABASE "${shadowName}"`));
  const shadow = new pg.Pool({ connectionString: shadowUrl.toString() });
  const target = new pg.Pool({ connectionString: url });
  // an idle connection ended by the server (the shadow's forced drop) is no failure
  shadow.on('error', () => {});
  target.on('error', () => {});
  try {
    const desired = await stage('load', () => loadSqlFiles([{ name: path.basename(schemaFile), sql: fs.readFileSync(schemaFile, 'utf8') }], shadow));
    const current = await stage('extract', () => extract(target));
    // the engine settings sqlfirst uses, so both sides plan the same statements: roles are
    // cluster-wide and not managed, and the applying role's own privileges are implicit
    const roles = (await target.query("SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%'")).rows.map((r) => r.rolname);
    const applyingRole = decodeURIComponent(new URL(url).username);
    const policy = {
      id: 'raw',
      filter: [
        { match: { kind: ['role', 'membership'] }, action: 'exclude' },
        { match: { all: [{ kind: 'acl' }, { target: { kind: 'schema', name: 'public' } }] }, action: 'exclude' },
        { match: { all: [{ kind: 'acl' }, { idField: { field: 'grantee', glob: applyingRole } }] }, action: 'exclude' },
      ],
      assumedRoles: roles,
    };
    const migration = await stage('plan', async () => plan(current.factBase, desired.factBase, { scope: 'database', policy }));
    actions = migration.actions.length;
    if (actions > 0) {
      const report = await stage('apply', () => apply(migration, target));
      if (report.status !== 'applied') throw new Error(`apply failed: ${report.error?.message}`);
    }
  } finally {
    await shadow.end();
    await target.end();
    await admin.query(`DROP DATABASE IF EXISTS "${shadowName}" WITH (FORCE)`);
  }
} finally {
  await admin.end();
}

if (typesDir !== '-') {
  await stage('pull', () => pull(url, schemaList.split(','), typesDir));
}
process.stdout.write(`${JSON.stringify({ times, actions })}\n`);

/** drizzle-kit pull through its CLI into a fresh folder, then keep schema.ts and relations.ts. */
async function pull(targetUrl, schemas, outDir) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-raw-pull-'));
  try {
    const parsed = new URL(targetUrl);
    const config = {
      dialect: 'postgresql',
      out: path.join(work, 'out'),
      schemaFilter: schemas,
      dbCredentials: { host: parsed.hostname, port: Number(parsed.port), user: decodeURIComponent(parsed.username), database: parsed.pathname.slice(1), ssl: false },
    };
    const configFile = path.join(work, 'drizzle.config.cjs');
    fs.writeFileSync(configFile, `module.exports = ${JSON.stringify(config)};\n`);
    const require = createRequire(import.meta.url);
    const bin = path.join(path.dirname(require.resolve('drizzle-kit')), 'bin.cjs');
    const code = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'pull', '--config', configFile], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`drizzle-kit pull exited ${code}`);
    fs.mkdirSync(outDir, { recursive: true });
    for (const name of ['schema.ts', 'relations.ts']) fs.copyFileSync(path.join(work, 'out', name), path.join(outDir, name));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
