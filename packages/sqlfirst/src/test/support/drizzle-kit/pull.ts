/**
 * The oracle: \`drizzle-kit pull\` (0.31), which sqlfirst's own generator
 * (src/typegen) replaced. The differential tests compare the two; nothing
 * outside the tests runs drizzle-kit.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SqlfirstError } from '../../../errors.js';
import { checkConnection, DEFAULT_CONNECT_TIMEOUT_MS, poolConfig } from '../../../target/connect.js';
import { maskUrl, type ConnectionTarget } from '../../../target/url.js';
import { isProcessAlive } from '../../../process.js';
import type { GeneratedTypes } from '../../../typegen/index.js';
import { PASSWORD_VARIABLE, runDrizzleKit, writePullConfig, type RunResult } from './run.js';
import { finishRelations, finishSchema } from './finish.js';

export { GENERATED_HEADER } from './finish.js';

export interface PullOptions {
  /** the database to pull from */
  target: ConnectionTarget;
  /** every schema to pull, e.g. ['public', 'audit'] */
  schemas: string[];
  /** hard bound on the pull (default 120 s) */
  timeoutMs?: number;
  /** drizzle-kit's meaningful output lines (no spinner noise), already redacted */
  onOutput?: (line: string) => void;
}

export const DEFAULT_PULL_TIMEOUT_MS = 120_000;

/** Every temporary folder of a pull starts with this, in os.tmpdir(), then the owner's pid. */
export const PULL_TEMP_PREFIX = 'sqlfirst-pull-';

/** Runs drizzle-kit pull into a fresh temporary folder and returns the two files' final text (with our header), leaving nothing behind. */
export async function pullTypes(options: PullOptions): Promise<GeneratedTypes> {
  const { target, schemas } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
  if (schemas.length === 0) {
    throw new SqlfirstError('No schema was given to pull Drizzle types from; list the schemas in scope (for example public).', { step: 'types' });
  }
  // pull exits 1 without a word on a bad password or host: find out first, in one sentence
  await checkConnection(target, { connectTimeoutMs: Math.min(timeoutMs, DEFAULT_CONNECT_TIMEOUT_MS) });
  await removeStaleFolders();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${PULL_TEMP_PREFIX}${process.pid}-`));
  try {
    const configFile = path.join(dir, 'drizzle.config.cjs');
    const outDir = path.join(dir, 'out');
    writePullConfig(configFile, target, schemas, outDir);
    const result = await runDrizzleKit(['pull', '--config', configFile], {
      cwd: dir,
      env: childEnvironment(target, dir),
      timeoutMs,
      onOutput: options.onOutput,
    });
    assertFinished(result, target, schemas, timeoutMs);
    return {
      'schema.ts': finishSchema(await readPulled(outDir, 'schema.ts')),
      'relations.ts': finishRelations(await readPulled(outDir, 'relations.ts')),
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

/** A run killed mid-pull (Ctrl-C, a crash) never reaches its `finally`: the next one cleans up after it. */
async function removeStaleFolders(): Promise<void> {
  const pattern = new RegExp(`^${PULL_TEMP_PREFIX}(\\d+)-`);
  for (const name of await fs.readdir(os.tmpdir()).catch(() => [])) {
    const owner = Number(pattern.exec(name)?.[1]);
    if (owner && owner !== process.pid && !isProcessAlive(owner)) {
      await fs.rm(path.join(os.tmpdir(), name), { recursive: true, force: true }).catch(() => {});
    }
  }
}

/**
 * The password reaches the child through its environment only. Its temporary
 * files (tsx's compile cache among them) go into our folder, which is removed.
 */
function childEnvironment(target: ConnectionTarget, dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TSX_DISABLE_CACHE: '1', TMPDIR: dir, TMP: dir, TEMP: dir };
  delete env[PASSWORD_VARIABLE];
  const { password } = poolConfig(target);
  if (typeof password === 'string' && password) env[PASSWORD_VARIABLE] = password;
  return env;
}

function assertFinished(result: RunResult, target: ConnectionTarget, schemas: string[], timeoutMs: number): void {
  const where = `${target.host}:${target.port}`;
  const fail = (sentence: string) => new SqlfirstError(sentence, { step: 'types' });
  if (result.timedOut) {
    throw fail(
      `drizzle-kit pull did not finish within ${seconds(timeoutMs)} s; the server at ${where} accepted the connection but did not answer its queries, so check that it is not overloaded or locked and try again.`,
    );
  }
  if (result.code === 0) return;
  const last = result.lines.at(-1);
  const said = last ? `its last output was "${last}"` : 'it printed nothing';
  const how = result.code === null ? `was stopped by ${result.signal}` : `failed with exit code ${result.code}`;
  throw fail(
    `drizzle-kit pull ${how} (${said}) although the connection works; check that user "${target.user}" can read schemas ${schemas.join(', ')} in ${maskUrl(target.url)}, then try again.`,
  );
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

async function readPulled(outDir: string, name: keyof GeneratedTypes): Promise<string> {
  try {
    return await fs.readFile(path.join(outDir, name), 'utf8');
  } catch (error) {
    throw new SqlfirstError(`drizzle-kit pull finished but wrote no ${name}; check the drizzle-kit version installed (sqlfirst expects 0.31).`, { cause: error, step: 'types' });
  }
}
