import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SqlfirstError } from '../../../errors.js';
import { poolConfig } from '../../../target/connect.js';
import type { ConnectionTarget } from '../../../target/url.js';
import { OutputLines } from './output.js';

/** The child reads the password from here; it is never written to a file. */
export const PASSWORD_VARIABLE = 'SQLFIRST_PULL_PASSWORD';

/** The drizzle-kit CLI file, from the package's own `bin` field. */
export function drizzleKitBin(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    // drizzle-kit's `exports` hides package.json, so start from its main entry
    entry = require.resolve('drizzle-kit');
  } catch (error) {
    throw new SqlfirstError('drizzle-kit is not installed; run npm install in the repository, then try again.', { cause: error, step: 'types' });
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string; bin?: string | Record<string, string> };
    if (pkg.name !== 'drizzle-kit') continue;
    const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.['drizzle-kit'];
    if (bin) return path.join(dir, bin);
  }
  throw new SqlfirstError(`The installed drizzle-kit (${entry}) declares no drizzle-kit command; reinstall it with npm install.`, { step: 'types' });
}

/**
 * Writes a CommonJS config (drizzle-kit loads configs with require(), so .cjs
 * needs no TypeScript loader): the connection without its password, and every
 * schema, since drizzle-kit ignores --schemaFilters on the command line.
 */
export function writePullConfig(file: string, target: ConnectionTarget, schemas: string[], outDir: string): void {
  const { host, port, user, database, ssl } = poolConfig(target);
  const config = {
    dialect: 'postgresql',
    out: outDir,
    schemaFilter: schemas,
    // drizzle-kit turns a missing ssl into TLS: always say it
    dbCredentials: { host, port, user, database, ssl: ssl ?? false },
  };
  const text = [
    '// Written by sqlfirst for one drizzle-kit pull and deleted after it.',
    `const config = ${JSON.stringify(config, null, 2)};`,
    `const password = process.env.${PASSWORD_VARIABLE};`,
    'if (password) config.dbCredentials.password = password;',
    'module.exports = config;',
    '',
  ].join('\n');
  fs.writeFileSync(file, text);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** meaningful output lines, redacted */
  lines: string[];
  timedOut: boolean;
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  onOutput?: (line: string) => void;
}

/**
 * Runs `node <drizzle-kit bin> ...args` without a shell and waits for it to exit;
 * past the timeout the child is killed. Node runs drizzle-kit directly and pull
 * starts no processes of its own, so killing the child ends the whole tree.
 */
export function runDrizzleKit(args: string[], options: RunOptions): Promise<RunResult> {
  const bin = drizzleKitBin();
  const output = new OutputLines(options.onOutput);
  const stdout = output.stream();
  const stderr = output.stream();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', stdout.write);
    child.stderr.setEncoding('utf8').on('data', stderr.write);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new SqlfirstError(`Could not start drizzle-kit (${error.message}); check that Node.js can run ${process.execPath}.`, { cause: error, step: 'types' }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      stdout.end();
      stderr.end();
      resolve({ code, signal, lines: output.lines, timedOut });
    });
  });
}
