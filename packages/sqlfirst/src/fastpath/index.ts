/**
 * The no-op fast path of `sqlfirst sync` (and of each save in `sqlfirst dev`): proves cheaply that nothing changed
 * since the last successful sync, so the shadow, the plan and drizzle-kit can
 * be skipped. Three things must match what the last successful sync recorded:
 *
 * - the schema files (sha256 of their names and bytes),
 * - the target's schema (one catalog query hashing every definition a plan
 *   could change: see fingerprintSql),
 * - the generated Drizzle files (sha256 of their bytes),
 *
 * plus the inputs that shape the result (sqlfirst and engine versions, the
 * policy, the schemas in scope) and the types folder. The record lives in
 * `.sqlfirst/state/<key>.json` at the repository root, where the key hashes
 * the target's identity (user@host:port/database, no password) and the
 * environment name. It holds hashes only: no URL, no password.
 *
 * This module imports nothing heavy (no engine, no drizzle-kit): the fast
 * path costs a connection and one query, plus reading the files.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { sha256 } from '../hash.js';
import { openClient } from '../target/connect.js';
import type { ConnectionTarget } from '../target/url.js';

/** Bumped whenever the fingerprint query or the record's meaning changes: older records are ignored. */
const STATE_FORMAT = 2;

export const STATE_DIR = path.join('.sqlfirst', 'state');

/** The two files a sync keeps in the types folder. */
export const TYPE_FILES = ['schema.ts', 'relations.ts'] as const;

export const SKIP_MESSAGE = 'Nothing changed since the last sync (schema, database and types match); skipped.';

/** What the last successful sync saw, as hashes. */
export interface SyncRecord {
  format: number;
  /** shown to people: user@host:port/database (never a password), or embedded/<database> */
  target: string;
  env: string;
  /** hash of the versions, the policy and the schemas in scope */
  inputs: string;
  /** sha256 of the schema files' names and bytes */
  schema: string;
  /** the target's catalog fingerprint, taken after apply */
  database: string;
  /** the types folder (relative to the repository root) and sha256 of each generated file; absent after --no-types */
  types?: TypesHashes;
  /** statements the policy skipped (they are skipped again every run) */
  skippedByPolicy: number;
  syncedAt: string;
}

/** The three hashes a run compares with the record; `database` is only read when the others match. */
export interface Observed {
  schema: string;
  database?: string;
  types?: TypesHashes;
}

export interface TypesHashes {
  dir: string;
  files: Record<string, string>;
}

/** sha256 of each generated file (a missing file hashes as "missing"), with the folder relative to the root. */
export async function hashTypeFiles(root: string, outDir: string): Promise<TypesHashes> {
  const files: Record<string, string> = {};
  for (const name of TYPE_FILES) {
    const bytes = await fs.readFile(path.join(outDir, name)).catch(() => undefined);
    files[name] = bytes ? sha256(bytes) : 'missing';
  }
  return { dir: path.relative(root, outDir) || '.', files };
}

/** Everything besides the three hashes that shapes a sync's result. */
export function hashInputs(parts: Record<string, unknown>): string {
  return sha256(JSON.stringify(parts));
}

/** The record's file for a target and environment; the name hashes the target's identity, never a password. */
export function statePath(root: string, target: ConnectionTarget, embedded: boolean, envName: string | undefined): string {
  return path.join(root, STATE_DIR, `${sha256(targetLabel(target, embedded), envName ?? '').slice(0, 32)}.json`);
}

/** user@host:port/database, or embedded/<database> (the embedded server's port changes at every start). */
export function targetLabel(target: ConnectionTarget, embedded: boolean): string {
  return embedded ? `embedded/${target.database}` : `${target.user}@${target.host}:${target.port}/${target.database}`;
}

export async function readSyncRecord(file: string): Promise<SyncRecord | undefined> {
  try {
    const state = JSON.parse(await fs.readFile(file, 'utf8')) as SyncRecord;
    return state.format === STATE_FORMAT ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the record atomically (a reader never sees half a file). */
export async function writeSyncRecord(file: string, state: Omit<SyncRecord, 'format' | 'syncedAt'>): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const record: SyncRecord = { format: STATE_FORMAT, ...state, syncedAt: new Date().toISOString() };
  await fs.writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
  await fs.rename(temp, file);
}

/** Forgets the record (before a full sync: a run that fails half-way must not leave a stale one). */
export async function clearSyncRecord(file: string): Promise<void> {
  await fs.rm(file, { force: true });
}

/**
 * Why the fast path cannot be taken, or undefined when it can. The database
 * is compared only when it was read (callers read it last, once everything
 * cheaper matched).
 */
export function differences(state: SyncRecord | undefined, inputs: string, observed: Observed): string | undefined {
  if (!state) return 'no record of a previous sync';
  if (state.inputs !== inputs) return 'settings or sqlfirst version changed';
  const changed: string[] = [];
  if (state.schema !== observed.schema) changed.push('schema');
  if (observed.types) {
    const seen = observed.types;
    if (!state.types) return 'types not generated by the last sync (it ran with --no-types)';
    if (state.types.dir !== seen.dir) return `types folder changed (last sync wrote ${state.types.dir})`;
    if (TYPE_FILES.some((name) => state.types!.files[name] !== seen.files[name])) changed.push('types');
  }
  if (observed.database !== undefined && state.database !== observed.database) changed.push('database');
  return changed.length ? `${changed.join(', ')} changed` : undefined;
}

/**
 * One catalog query over the user schemas (everything but pg_catalog,
 * information_schema, pg_toast and temporary schemas; shadows are other
 * databases and never seen) hashing every definition a plan could change.
 * Objects that belong to an extension are left out (the extension itself is
 * in). Nothing that moves while the schema stands still goes in (statistics,
 * row counts, sequence values, storage files), so the fingerprint is stable
 * while nothing changes. Bulky kinds (columns, constraints, indexes, triggers)
 * go in as catalog rows and stored expression trees rather than deparsed
 * SQL: deparsing opens every table, which costs more than the rest together.
 * Their object ids make a dropped and recreated object count as a change.
 */
export function fingerprintSql(serverVersionNum: number): string {
  const pg15 = serverVersionNum >= 150000;
  const sections = [
    `SELECT 'server ' || current_setting('server_version_num')`,
    `SELECT 'role ' || quote_ident(rolname) FROM pg_roles WHERE rolname !~ '^pg_'`,
    `SELECT 'schema ' || ROW(n.nspname, pg_get_userbyid(n.nspowner), n.nspacl::text)::text FROM ns n`,
    `SELECT 'extension ' || ROW(e.extname, e.extversion, e.extnamespace::regnamespace::text, e.extrelocatable, pg_get_userbyid(e.extowner), e.extconfig::regclass[]::text, e.extcondition::text)::text FROM pg_extension e`,
    // relations: tables, partitions, views, materialized views, sequences, indexes, composite and foreign tables
    `SELECT 'rel ' || ROW(r.oid, r.name, r.relkind, r.relpersistence, pg_get_userbyid(r.relowner), r.relacl::text, r.reloptions::text,
        r.relrowsecurity, r.relforcerowsecurity, r.relreplident, r.relispartition, r.relpartbound::text,
        CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END,
        (SELECT string_agg(i.inhparent::text, ',' ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = r.oid),
        r.reloftype, r.relam, r.reltablespace, CASE WHEN r.relkind = 'm' THEN r.relispopulated END)::text FROM rel r`,
    // defaults as stored expression trees: deparsing them would open every table
    `SELECT 'column ' || ROW(a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef,
        d.adbin::text, a.attidentity, a.attgenerated, a.attcollation, a.attacl::text, a.attoptions::text,
        a.attfdwoptions::text, a.attstattarget, a.attstorage, a.attcompression, a.attislocal, a.attinhcount, a.attndims)::text
      FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE r.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')`,
    // constraints (table and domain) and indexes: every catalog column, whatever the server version
    `SELECT 'constraint ' || ROW(c.*)::text FROM pg_constraint c JOIN ns n ON n.oid = c.connamespace`,
    `SELECT 'index ' || ROW(i.*)::text FROM pg_index i JOIN rel r ON r.oid = i.indexrelid`,
    `SELECT 'view ' || ROW(r.oid, pg_get_viewdef(r.oid))::text FROM rel r WHERE r.relkind IN ('v', 'm')`,
    `SELECT 'sequence ' || ROW(s.*, (SELECT string_agg(ROW(d.refobjid, d.refobjsubid, d.deptype)::text, ',')
           FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))::text
      FROM pg_sequence s JOIN rel r ON r.oid = s.seqrelid`,
    `SELECT 'routine ' || ROW(p.oid::regprocedure::text, p.prokind, pg_get_userbyid(p.proowner), p.proacl::text,
        CASE WHEN p.prokind = 'a' THEN (SELECT ROW(ag.*)::text FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid) ELSE pg_get_functiondef(p.oid) END)::text
      FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace
      WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')`,
    `SELECT 'trigger ' || ROW(t.*)::text FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal`,
    `SELECT 'rule ' || ROW(pg_get_ruledef(w.oid), w.ev_enabled)::text FROM pg_rewrite w JOIN rel r ON r.oid = w.ev_class WHERE w.rulename <> '_RETURN'`,
    `SELECT 'policy ' || ROW(p.polrelid::regclass::text, p.polname, p.polcmd, p.polpermissive,
        (SELECT string_agg(CASE WHEN x = 0 THEN 'public' ELSE pg_get_userbyid(x) END, ',' ORDER BY 1) FROM unnest(p.polroles) x),
        pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))::text
      FROM pg_policy p JOIN rel r ON r.oid = p.polrelid`,
    // enums, domains, ranges, multiranges, and base types of the user schemas
    `SELECT 'type ' || ROW(t.oid::regtype::text, t.typtype, pg_get_userbyid(t.typowner), t.typacl::text,
        CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END, t.typnotnull, t.typdefault, co.collname,
        (SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
        (SELECT ROW(rg.rngsubtype::regtype::text, rg.rngsubopc::regclass::text, rg.rngcanonical::text, rg.rngsubdiff::text)::text FROM pg_range rg WHERE rg.rngtypid = t.oid))::text
      FROM pg_type t JOIN ns n ON n.oid = t.typnamespace
      LEFT JOIN pg_collation co ON co.oid = t.typcollation
      WHERE t.typtype IN ('e', 'd', 'r', 'm', 'b') AND t.typelem = 0
        AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')`,
    `SELECT 'collation ' || ROW(c.collname, n.nspname, c.collprovider, c.collisdeterministic, c.collencoding, c.collcollate, c.collctype)::text
      FROM pg_collation c JOIN ns n ON n.oid = c.collnamespace`,
    `SELECT 'statistics ' || pg_get_statisticsobjdef(s.oid) FROM pg_statistic_ext s JOIN ns n ON n.oid = s.stxnamespace`,
    // every COMMENT and SECURITY LABEL on a user object (OIDs from 16384 up are never built in)
    `SELECT 'comment ' || ROW(d.classoid::regclass::text, (pg_identify_object(d.classoid, d.objoid, d.objsubid)).identity, d.description)::text
      FROM pg_description d WHERE d.objoid >= 16384`,
    `SELECT 'label ' || ROW(l.classoid::regclass::text, (pg_identify_object(l.classoid, l.objoid, l.objsubid)).identity, l.provider, l.label)::text
      FROM pg_seclabel l WHERE l.objoid >= 16384`,
    `SELECT 'default acl ' || ROW(pg_get_userbyid(a.defaclrole), CASE WHEN a.defaclnamespace <> 0 THEN a.defaclnamespace::regnamespace::text END, a.defaclobjtype, a.defaclacl::text)::text FROM pg_default_acl a`,
    `SELECT 'event trigger ' || ROW(e.evtname, e.evtevent, pg_get_userbyid(e.evtowner), e.evtfoid::regprocedure::text, e.evtenabled, e.evttags::text)::text FROM pg_event_trigger e`,
    `SELECT 'publication ' || ROW(p.pubname, pg_get_userbyid(p.pubowner), p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate, p.pubviaroot)::text FROM pg_publication p`,
    pg15
      ? `SELECT 'publication rel ' || ROW(p.pubname, pr.prrelid::regclass::text, pg_get_expr(pr.prqual, pr.prrelid), pr.prattrs::text)::text FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid`
      : `SELECT 'publication rel ' || ROW(p.pubname, pr.prrelid::regclass::text)::text FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid`,
    ...(pg15 ? [`SELECT 'publication schema ' || ROW(p.pubname, pn.pnnspid::regnamespace::text)::text FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid`] : []),
    `SELECT 'fdw ' || ROW(w.fdwname, pg_get_userbyid(w.fdwowner), w.fdwhandler::regproc::text, w.fdwvalidator::regproc::text, w.fdwacl::text, w.fdwoptions::text)::text FROM pg_foreign_data_wrapper w`,
    `SELECT 'server ' || ROW(s.srvname, pg_get_userbyid(s.srvowner), w.fdwname, s.srvtype, s.srvversion, s.srvacl::text, s.srvoptions::text)::text
      FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw`,
    `SELECT 'user mapping ' || ROW(u.srvname, u.usename, u.umoptions::text)::text FROM pg_user_mappings u`,
    `SELECT 'foreign table ' || ROW(f.ftrelid::regclass::text, s.srvname, f.ftoptions::text)::text
      FROM pg_foreign_table f JOIN pg_foreign_server s ON s.oid = f.ftserver`,
  ];
  return `WITH ns AS (
    SELECT oid, nspname, nspowner, nspacl FROM pg_namespace
     WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp_|toast_temp_)'
  ), rel AS (
    SELECT c.oid::regclass::text AS name, c.* FROM pg_class c JOIN ns n ON n.oid = c.relnamespace
     WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
  ), lines(line) AS (
    ${sections.join('\n    UNION ALL\n    ')}
  )
  SELECT md5(string_agg(line, E'\\n' ORDER BY line COLLATE "C")) AS fingerprint, count(*)::int AS lines FROM lines`;
}

/**
 * The target's fingerprint: one query, with search_path pinned so every name
 * comes out schema-qualified whatever the role's settings.
 */
export async function fingerprintDatabase(target: ConnectionTarget, serverVersionNum: number, connectTimeoutMs?: number): Promise<string> {
  const client = openClient(target, { connectTimeoutMs });
  client.on('error', () => {});
  await client.connect();
  try {
    const results = (await client.query(`SET search_path = pg_catalog; ${fingerprintSql(serverVersionNum)}`)) as unknown as pg.QueryResult[];
    const row = results[results.length - 1].rows[0] as { fingerprint: string; lines: number };
    return `${row.fingerprint}:${row.lines}`;
  } finally {
    await client.end().catch(() => {});
  }
}
