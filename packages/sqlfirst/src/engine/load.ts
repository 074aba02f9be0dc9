/**
 * Loading schema files into an empty shadow database and reading the result.
 * (Interim: the previous loader, moved here unchanged; the shadow stage's
 * owner replaces it with the parser-based loader.)
 */
import type { Pool } from 'pg';
import { loadSqlFiles, ShadowLoadError } from '@supabase/pg-delta';
import { readRoles, type SchemaState } from './state.js';

export interface SqlSource {
  /** shown in errors, e.g. packages/database/schema.sql */
  name: string;
  sql: string;
}

export interface LoadFailure {
  file: string;
  message: string;
}

/** A file that does not load throws LoadError with the engine's diagnostics. */
export async function loadState(sources: SqlSource[], shadow: Pool): Promise<SchemaState> {
  try {
    const result = await loadSqlFiles(sources, shadow, { strictDataStatements: true, strictFunctionBodies: true });
    return { facts: result.factBase, pgVersion: result.pgVersion, roles: await readRoles(shadow) };
  } catch (error) {
    if (error instanceof ShadowLoadError) {
      throw new LoadError(
        error.details.filter((d) => d.severity === 'error').map((d) => splitFileMessage(d.message)),
        error,
      );
    }
    throw error;
  }
}

/** pg-delta's diagnostics read "file.sql: message". */
function splitFileMessage(message: string): LoadFailure {
  const match = /^([^:\s][^:]*\.sql): (.*)$/s.exec(message);
  return match ? { file: match[1], message: match[2] } : { file: '', message };
}

export class LoadError extends Error {
  constructor(readonly failures: LoadFailure[], cause: unknown) {
    super(failures.map((f) => f.message).join('; ') || 'the schema did not load', { cause });
  }
}
