/**
 * A sqlfirst command line written the way this process was started, so that a
 * hint can be copied as it is:
 *  - through an npm script:  npm run db:sync -- --allow-data-loss
 *  - through npx / npm exec: npx sqlfirst apply --env production --plan plan.json
 *  - directly:               sqlfirst plan, or node packages/sqlfirst/dist/cli.js plan
 * Hints name whole sqlfirst commands (`['apply', '--env', 'production', …]`);
 * through a script that already says some of it, only the rest is written.
 */
import path from 'node:path';

export interface Invocation {
  via: 'npm-script' | 'npx' | 'direct';
  /** npm-script: the script's name (npm_lifecycle_event) */
  script?: string;
  /** npm-script: the arguments the script gives sqlfirst by itself, its subcommand first */
  implied: string[];
  /** direct: the program as the user typed it (`sqlfirst`, or `node <file>`) */
  program: string;
}

let parsedArguments: string[] | undefined;

/**
 * main() records the arguments sqlfirst parses. A wrapper script (scripts/sync-schema.ts)
 * puts its own before the user's; they tell what the npm script already says.
 */
export function recordProgramArguments(args: string[]): void {
  parsedArguments = [...args];
}

export function detectInvocation(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv, parsed: string[] | undefined = parsedArguments, cwd = process.cwd()): Invocation {
  const file = argv[1] ?? 'sqlfirst';
  const direct: Invocation = { via: 'direct', implied: [], program: isSqlfirstBin(file) ? 'sqlfirst' : `node ${quote(path.relative(cwd, file) || file)}` };
  const words = scriptWords(env.npm_lifecycle_script);
  const started = words.findIndex((word) => startsFile(word, file, env.npm_package_json, cwd));
  // an npm process whose script did not start this one (a test run spawning sqlfirst) says nothing
  if (!env.npm_lifecycle_event || started < 0) return direct;
  if (env.npm_command === 'exec' || env.npm_lifecycle_event === 'npx') return { ...direct, via: 'npx' };
  // `node packages/sqlfirst/dist/cli.js check`: the script's own words after the file
  const fromScript = words.slice(started + 1);
  // unrecorded, a wrapper's own arguments are unknown: npx runs any command whatever the script adds
  if (parsed === undefined && fromScript.length === 0) return { ...direct, via: 'npx' };
  const fromWrapper = parsed && endsWith(parsed, argv.slice(2)) ? parsed.slice(0, parsed.length - argv.length + 2) : [];
  return { via: 'npm-script', script: env.npm_lifecycle_event, implied: [...fromWrapper, ...fromScript], program: direct.program };
}

/** `args` (a sqlfirst subcommand and its flags) as the user would type it here. */
export function commandFor(args: string[], invocation: Invocation = detectInvocation()): string {
  if (invocation.via === 'npm-script' && invocation.script) {
    const rest = throughScript(args, invocation.implied);
    if (rest) return [`npm run ${invocation.script}`, ...(rest.length ? ['--', ...rest.map(quote)] : [])].join(' ');
  }
  const program = invocation.via === 'direct' ? invocation.program : 'npx sqlfirst';
  return [program, ...args.map(quote)].join(' ');
}

/** The arguments to type after the script's `--`, or undefined when the script cannot run `args`. */
function throughScript(args: string[], implied: string[]): string[] | undefined {
  const subcommand = implied[0] !== undefined && !implied[0].startsWith('-') ? implied[0] : undefined;
  if (subcommand !== undefined && args[0] !== subcommand) return undefined;
  // a script that names no subcommand (`npm run sqlfirst -- plan`) takes it after --
  const leading = subcommand === undefined ? positionals(args) : [args[0]];
  const given = options(implied.slice(subcommand === undefined ? 0 : 1));
  const rest: string[] = [];
  for (const [name, values] of options(args.slice(leading.length))) {
    const already = given.get(name);
    if (already === undefined) rest.push(name, ...values);
    else if (already.join('\0') !== values.join('\0')) return undefined; // the script sets it otherwise
  }
  return subcommand === undefined ? [...leading, ...rest] : rest;
}

/** The arguments before the first option. */
function positionals(args: string[]): string[] {
  const first = args.findIndex((arg) => arg.startsWith('-'));
  return first < 0 ? [...args] : args.slice(0, first);
}

/** `--name value…` and `--name=value` pairs, in order; positional arguments are left out. */
function options(args: string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const arg of args) {
    if (arg.startsWith('-')) {
      const equals = arg.indexOf('=');
      const name = equals > 0 ? arg.slice(0, equals) : arg;
      current = equals > 0 ? [arg.slice(equals + 1)] : [];
      found.set(name, current);
    } else if (current) {
      current.push(arg);
    }
  }
  return found;
}

/** The words of an npm script (`node scripts/dist/sync-schema.js`), quotes removed. */
function scriptWords(script: string | undefined): string[] {
  return (script ?? '').split(/\s+/).filter(Boolean).map((word) => word.replace(/^(['"])(.*)\1$/, '$2'));
}

/** Whether `word` of an npm script names the file this process runs. */
function startsFile(word: string, file: string, packageJson: string | undefined, cwd: string): boolean {
  const base = packageJson ? path.dirname(packageJson) : cwd;
  if (path.resolve(base, word) === path.resolve(file)) return true;
  // a bin name (`sqlfirst`) runs node_modules/.bin/sqlfirst
  return !word.includes('/') && !word.includes('\\') && isSqlfirstBin(file) && word === 'sqlfirst';
}

function isSqlfirstBin(file: string): boolean {
  return path.basename(file).replace(/\.(?:c|m)?js$/, '') === 'sqlfirst';
}

function endsWith(list: string[], suffix: string[]): boolean {
  return suffix.length <= list.length && suffix.every((item, index) => list[list.length - suffix.length + index] === item);
}

/** Quotes an argument that a shell would split or expand (sh, cmd and PowerShell all take "…"). */
function quote(arg: string): string {
  return /^[\w@%+=:,./\\-]+$/.test(arg) ? arg : `"${arg.replace(/"/g, '\\"')}"`;
}
