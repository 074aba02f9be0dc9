/**
 * What the stage remembers between runs, under .sqlfirst/typecheck/: the
 * fingerprint of every input of the last run and its result, so an unchanged
 * workspace is not type-checked again; and a lock so two runs never share the
 * temporary copy at once.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SqlfirstError } from '../errors.js';
import type { TypeBreak } from './group.js';
import { toRel } from './workspace.js';
import { isProcessAlive } from '../process.js';

/** Bump when the stage's behaviour changes, so a result remembered by an older sqlfirst is not reused. */
export const STAGE_VERSION = 2;

export interface StoredResult {
  breaks: TypeBreak[];
  packages: string[];
}

export interface State {
  version: number;
  fingerprint: string;
  /** inputs of the last run that the folder walk does not see (outside the checked packages, outside node_modules), repo-relative */
  files: string[];
  result: StoredResult;
}

export async function readCheckRecord(file: string): Promise<State | undefined> {
  try {
    const state = JSON.parse(await fs.readFile(file, 'utf8')) as State;
    return state.version === STAGE_VERSION && Array.isArray(state.files) && Array.isArray(state.result?.breaks) ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function writeCheckRecord(file: string, state: State): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, JSON.stringify(state));
  await fs.rename(temporary, file);
}

const SOURCE_EXTENSIONS = /\.(?:[cm]?tsx?|json)$/;
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist']);

/** Every TypeScript and JSON file under `dir`, skipping node_modules, dist and dot-folders; absolute, sorted. */
export async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name) && !entry.name.startsWith('.')) found.push(...(await sourceFiles(full)));
    } else if (entry.isFile() && SOURCE_EXTENSIONS.test(entry.name)) {
      found.push(full);
    }
  }
  return found.sort();
}

export interface FingerprintInputs {
  root: string;
  /** the generated files checked against; undefined: left out */
  generated: Record<string, string | undefined>;
  /** extra values that change the result, e.g. TypeScript's version and the stage's options */
  salt: string;
  /** absolute paths of files whose content is an input */
  files: string[];
}

/** One hash over the generated text and the path and content of every input file (a missing file counts too). */
export async function fingerprint(inputs: FingerprintInputs): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`sqlfirst typecheck ${STAGE_VERSION}\0${inputs.salt}\0`);
  for (const name of Object.keys(inputs.generated).sort()) hash.update(`generated ${name}\0${inputs.generated[name] ?? '\0missing'}\0`);
  const files = [...new Set(inputs.files)].sort();
  const contents = await Promise.all(files.map((file) => fs.readFile(file).catch(() => undefined)));
  files.forEach((file, i) => {
    const content = contents[i];
    hash.update(`file ${toRel(inputs.root, file)}\0`);
    hash.update(content === undefined ? '\0missing\0' : createHash('sha256').update(content).digest('hex'));
    hash.update('\0');
  });
  return hash.digest('hex');
}

export interface Lock {
  release(): Promise<void>;
}

/** locks this process holds now: another acquisition in this process waits for them */
const heldHere = new Set<string>();
let tmpCounter = 0;

/** Takes `file` as a lock (it holds the owner's pid), waiting for a live owner up to `waitMs` or until `signal` aborts; a dead owner's lock is taken over. */
export async function acquireLock(file: string, signal: AbortSignal, waitMs = 120_000): Promise<Lock> {
  const deadline = Date.now() + waitMs;
  // written whole beside the lock, then linked into place: a reader never sees an empty lock
  const mine = `${file}.${process.pid}.${(tmpCounter++).toString(36)}.tmp`;
  await fs.writeFile(mine, String(process.pid));
  try {
    for (;;) {
      try {
        await fs.link(mine, file);
        heldHere.add(file);
        return {
          release: async () => {
            heldHere.delete(file);
            await fs.rm(file, { force: true });
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      signal.throwIfAborted();
      await waitForOwner(file, deadline, waitMs);
    }
  } finally {
    await fs.rm(mine, { force: true });
  }
}

async function waitForOwner(file: string, deadline: number, waitMs: number): Promise<void> {
  const owner = Number(await fs.readFile(file, 'utf8').catch(() => ''));
  // a lock of this process's pid that this process does not hold was left by an earlier process with the same pid
  if (!owner || (owner === process.pid && !heldHere.has(file)) || (owner !== process.pid && !isProcessAlive(owner))) {
    await fs.rm(file, { force: true });
    return;
  }
  if (Date.now() >= deadline) {
    throw new SqlfirstError(
      `Another sqlfirst (process ${owner}) is type-checking this workspace and did not finish within ${Math.round(waitMs / 1000)} s; run again when it is done.`,
      { step: 'typecheck' },
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}

