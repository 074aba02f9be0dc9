/**
 * What `--help` shows after commander's usage and options, as the README does:
 * examples, the environment variables of each environment, the exit codes.
 * program.ts passes these functions to `addHelpText('after', …)`; they run only
 * when help is shown, so the examples are written the way sqlfirst was started
 * (`npx sqlfirst plan`, `sqlfirst plan`, …).
 */
import { commandFor } from '../report/invocation.js';

export type HelpCommand = 'plan' | 'apply' | 'sync' | 'types' | 'check' | 'dev';

interface Example {
  args: string[];
  what: string;
}

const EXAMPLES: Record<HelpCommand, Example[]> = {
  plan: [
    { args: ['plan'], what: 'what sync would change in the local database' },
    { args: ['plan', '--env', 'sandbox'], what: 'what apply would change in the Azure sandbox' },
    { args: ['plan', '--env', 'production', '--out', 'plan.json'], what: 'save the plan for review, to apply exactly it later' },
    { args: ['plan', '--env', 'production', '--exit-code'], what: 'in CI: exit 2 when changes are pending' },
  ],
  apply: [
    { args: ['apply', '--env', 'sandbox'], what: 'show the plan, ask, apply' },
    { args: ['apply', '--env', 'production', '--plan', 'plan.json'], what: 'apply exactly a reviewed plan (refused if anything changed since)' },
    { args: ['apply', '--env', 'sandbox', '--dry-run'], what: 'show the plan and the type breaks, change nothing' },
    { args: ['apply', '--env', 'sandbox', '--auto-approve', '--json'], what: 'without a terminal: no question, one JSON document' },
  ],
  sync: [
    { args: ['sync'], what: 'apply schema.sql to the local database, then regenerate the Drizzle types' },
    { args: ['sync', '--allow-data-loss'], what: 'also apply statements that drop tables, columns or data' },
    { args: ['sync', '--no-types'], what: 'apply only' },
    { args: ['sync', '--force'], what: 'the full sync even when nothing changed since the last one' },
  ],
  types: [
    { args: ['types'], what: 'write schema.ts and relations.ts from schema.sql alone, applying nothing' },
    { args: ['types', '--types-dir', 'src/db'], what: 'write them into another folder' },
  ],
  check: [
    { args: ['check'], what: 'in CI: the committed types match schema.sql and no Drizzle migration exists' },
    { args: ['check', '--env', 'production'], what: 'also fail when the production database has drifted from schema.sql' },
    { args: ['check', '--json'], what: 'the problems as a list in one JSON document' },
  ],
  dev: [{ args: ['dev'], what: 'on every save of schema.sql: sync the local database, write the types, type-check' }],
};

const EXIT_CODES: Record<HelpCommand, string[]> = {
  plan: ['0  the plan was shown (with --exit-code: no changes pending)', '1  failure (one sentence says what failed and what to do)', '2  --exit-code and changes are pending'],
  apply: ['0  applied, or nothing to do', '1  failure or refusal (data loss or type breaks without consent, no approval); nothing was applied'],
  sync: ['0  synced, or nothing changed since the last sync', '1  failure or refusal; the types are written only after a successful apply'],
  types: ['0  the types are up to date', '1  failure'],
  check: ['0  every check passed', '1  problems found (listed), or the check could not run'],
  dev: ['0  stopped with Ctrl-C', '1  it could not start'],
};

/** Commands that connect to a database, and so read an environment. */
const CONNECTS: HelpCommand[] = ['plan', 'apply', 'sync', 'types', 'check', 'dev'];

function environments(): string[] {
  return [
    'Environments (--env NAME, from atlas.hcl; default local). Variables are read from the',
    'process environment (on Windows also from HKCU\\Environment), never from a .env file:',
    '  local       DATABASE_HOST, DATABASE_PORT, DATABASE_LIVERMORE_USERNAME,',
    '              DATABASE_LIVERMORE_PASSWORD, LIVERMORE_DATABASE_NAME (sslmode=disable);',
    '              none set: the embedded PostgreSQL in .sqlfirst/postgres',
    '  sandbox     PG_SANDBOX_HOST, PG_SANDBOX_USER, PG_SANDBOX_PASSWORD, optional PG_SANDBOX_PORT',
    '              (sslmode=verify-full; for a private CA set PGSSLROOTCERT)',
    '  production  PG_PRODUCTION_HOST, PG_PRODUCTION_USER, PG_PRODUCTION_PASSWORD, optional',
    '              PG_PRODUCTION_PORT (sslmode=verify-full; never drops a table, even with',
    '              --allow-data-loss)',
  ];
}

function examples(list: Example[]): string[] {
  const commands = list.map((example) => commandFor(example.args));
  const width = Math.max(...commands.map((command) => command.length));
  // one line each when it fits, else the explanation below the command
  return commands.flatMap((command, index) => (width <= 48 ? [`  ${command.padEnd(width)}  ${list[index].what}`] : [`  ${command}`, `      ${list[index].what}`]));
}

/** The text after one command's options. */
export function commandHelp(command: HelpCommand): string {
  const sections = [['Examples:', ...examples(EXAMPLES[command])]];
  if (CONNECTS.includes(command)) sections.push(environments());
  sections.push(['Exit codes:', ...EXIT_CODES[command].map((line) => `  ${line}`)]);
  return `\n${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

/** The text after the list of commands. */
export function topLevelHelp(): string {
  const everyday: Example[] = [
    { args: ['sync'], what: 'local: apply schema.sql, regenerate the Drizzle types' },
    { args: ['plan', '--env', 'sandbox'], what: 'see what would change in the sandbox' },
    { args: ['plan', '--env', 'production', '--out', 'plan.json'], what: 'production, reviewed: save the plan…' },
    { args: ['apply', '--env', 'production', '--plan', 'plan.json'], what: '…then apply exactly it' },
    { args: ['types'], what: 'regenerate the types without applying' },
    { args: ['check'], what: 'the CI gate' },
  ];
  const exitCodes = ['Exit codes:', '  0  success, or nothing to do', '  1  any failure: one sentence says what failed and what to do (--verbose adds details)', '  2  plan --exit-code with changes pending'];
  return `\n${[['Examples:', ...examples(everyday)], environments(), exitCodes, [`Each command's examples, environments and exit codes: its --help, e.g. ${commandFor(['plan', '--help'])}`]].map((lines) => lines.join('\n')).join('\n\n')}\n`;
}
