import { spawnSync } from 'node:child_process';
import { registerSecret } from '../target/secrets.js';

export type ProcessEnvironment = Record<string, string | undefined>;

/** Reads the Windows user environment (HKCU\Environment) as name → value. */
export type UserEnvironment = () => Record<string, string>;

/** Names whose values must never be printed. */
export function isSecretName(name: string): boolean {
  return /PASSWORD|SECRET|TOKEN/i.test(name);
}

/**
 * Where getenv() looks: the process environment, then the Windows user environment, read
 * at most once and only when a variable is missing, so a variable set in Windows' settings
 * works without opening a new terminal. An empty value counts as missing.
 */
export class Credentials {
  private user?: Record<string, string>;

  constructor(
    private readonly env: ProcessEnvironment,
    private readonly userEnvironment: UserEnvironment,
  ) {}

  get(name: string): string | undefined {
    const value = nonEmpty(this.env[name]) ?? nonEmpty(valueIgnoringCase(this.readUser(), name));
    if (value !== undefined && isSecretName(name)) registerSecret(value);
    return value;
  }

  private readUser(): Record<string, string> {
    this.user ??= this.userEnvironment();
    return this.user;
  }
}

/** The registry on Windows; elsewhere there is no user environment beyond the process's. */
export function defaultUserEnvironment(processEnv: ProcessEnvironment): UserEnvironment {
  return process.platform === 'win32' ? () => readUserEnvironment(processEnv) : () => ({});
}

/** Runs `reg query HKCU\Environment` (no shell); an unreadable key reads as empty. */
export function readUserEnvironment(processEnv: ProcessEnvironment): Record<string, string> {
  const result = spawnSync('reg', ['query', 'HKCU\\Environment'], { encoding: 'utf8', windowsHide: true, timeout: 10_000 });
  return result.status === 0 ? parseRegQueryOutput(result.stdout, processEnv) : {};
}

// "    NAME    REG_SZ    value": four spaces around the type; a name may hold single spaces
const REG_VALUE = /^ {4}(.+?) {4}(REG_SZ|REG_EXPAND_SZ)(?: {4}(.*))?$/;

/**
 * The string values of `reg query` output. REG_EXPAND_SZ values get their %NAME% references
 * expanded from the process environment, case-insensitively as Windows does; unknown
 * references stay as written, as ExpandEnvironmentStrings leaves them.
 */
export function parseRegQueryOutput(text: string, processEnv: ProcessEnvironment): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = REG_VALUE.exec(line);
    if (!match) continue;
    const [, name, type, value = ''] = match;
    values[name] = type === 'REG_EXPAND_SZ' ? expandReferences(value, processEnv) : value;
  }
  return values;
}

function expandReferences(value: string, processEnv: ProcessEnvironment): string {
  return value.replace(/%([^%]+)%/g, (reference, name: string) => valueIgnoringCase(processEnv, name) ?? reference);
}

/** Windows variable names are case-insensitive. */
function valueIgnoringCase(values: ProcessEnvironment, name: string): string | undefined {
  if (values[name] !== undefined) return values[name];
  const upper = name.toUpperCase();
  const key = Object.keys(values).find((candidate) => candidate.toUpperCase() === upper);
  return key === undefined ? undefined : values[key];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}
