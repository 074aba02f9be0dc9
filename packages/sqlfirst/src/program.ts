/**
 * The sqlfirst command line: parses arguments and calls a workflow. Workflows
 * are imported only when their command runs, so --help and --version stay fast.
 * The `sqlfirst` bin and the scripts in scripts/ both call `main`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { commandHelp, topLevelHelp } from './cli/help.js';
import { recordProgramArguments } from './report/invocation.js';

const program = new Command('sqlfirst')
  .description('Make a PostgreSQL database match schema.sql, declaratively, and keep Drizzle types in step.')
  .addHelpText('after', topLevelHelp)
  .version(packageVersion(), '-v, --version')
  .showHelpAfterError('(run sqlfirst --help for usage)');

function withTargetOptions(command: Command): Command {
  return command
    .option('--env <name>', 'environment from atlas.hcl (local, sandbox, production)')
    .option('--config <path>', 'atlas.hcl to read (default: ./atlas.hcl or packages/database/atlas.hcl)')
    .option('--var <key=value>', 'set an atlas.hcl variable (repeatable)', collect, [])
    .option('-u, --url <url>', 'target database URL (default: the environment, else the embedded database)')
    .option('--to <file...>', 'desired schema file(s), e.g. file://schema.sql')
    .option('--dev-url <url>', 'server for the shadow database (default: the target server)')
    .option('--connect-timeout <seconds>', 'give up connecting after this long (default 10)')
    .option('--lock-timeout <duration>', 'longest wait for a table lock per statement, e.g. 5s (default: atlas.hcl lock_timeout)')
    .option('--statement-timeout <duration>', 'longest run of one statement, e.g. 5m (default: atlas.hcl statement_timeout)')
    .option('--online', 'plan without long locks on existing tables: indexes built CONCURRENTLY, constraints added NOT VALID then validated (default: atlas.hcl online)')
    .option('--no-typecheck', 'do not type-check the workspace against the new schema')
    .option('--json', 'print one machine-readable result')
    .option('--verbose', 'show each statement and error details');
}

withTargetOptions(program.command('plan'))
  .description('show what apply would change, and change nothing')
  .addHelpText('after', () => commandHelp('plan'))
  .option('--exit-code', 'exit 2 when changes are pending, 0 when none')
  .option('--out <file>', 'save the plan, to apply exactly it later with apply --plan')
  .action((options) => run('plan', options, { exitCode: options.exitCode, out: options.out }));

withTargetOptions(program.command('apply'))
  .description('make the target database match the schema')
  .addHelpText('after', () => commandHelp('apply'))
  .option('--dry-run', 'show the plan and stop')
  .option('--auto-approve', 'apply without asking')
  .option('--allow-data-loss', 'allow statements that drop tables, columns or data')
  .option('--allow-empty', 'accept an empty schema file (every object is dropped, behind the data-loss gate)')
  .option('--plan <file>', 'apply a plan saved by plan --out, refusing if the schema files and target no longer give the same statements')
  .option('--allow-hazard <kind>', 'accept a hazard over atlas.hcl hazard_threshold_rows: rewrites-table, scans-table, builds-index (repeatable)', collect, [])
  .option('--allow-breaking', 'apply even when the change breaks the TypeScript that uses the database')
  .option('--lock-wait <seconds>', 'how long to wait for another apply on the same database (default 30)', positiveNumber)
  .action((options) =>
    run('apply', options, {
      dryRun: options.dryRun,
      autoApprove: options.autoApprove,
      allowDataLoss: options.allowDataLoss,
      allowEmpty: options.allowEmpty,
      planFile: options.plan,
      allowHazard: options.allowHazard,
      allowBreaking: options.allowBreaking,
      lockWaitMs: options.lockWait === undefined ? undefined : options.lockWait * 1000,
      confirm: terminalConfirm(options.json),
    }),
  );

withTargetOptions(program.command('sync'))
  .description('apply schema.sql (without asking for the local environment), then regenerate the Drizzle types')
  .addHelpText('after', () => commandHelp('sync'))
  .option('--allow-data-loss', 'allow statements that drop tables, columns or data')
  .option('--allow-empty', 'accept an empty schema file (every object is dropped, behind the data-loss gate)')
  .option('--no-types', 'apply only, without regenerating the Drizzle types')
  .option('--auto-approve', 'apply without asking (the local environment never asks)')
  .option('--force', 'run the full sync even when nothing changed since the last one')
  .option('--allow-breaking', 'apply even when the change breaks the TypeScript that uses the database (shared environments)')
  .option('--allow-hazard <kind>', 'accept a hazard over atlas.hcl hazard_threshold_rows: rewrites-table, scans-table, builds-index (repeatable)', collect, [])
  .option('--types-dir <path>', 'folder for schema.ts and relations.ts (default: "types" of the "sqlfirst" key in the root package.json)')
  .action((options) =>
    run('sync', options, {
      allowHazard: options.allowHazard,
      writeTypes: options.types,
      typesDir: options.typesDir,
      force: options.force,
      allowDataLoss: options.allowDataLoss,
      allowEmpty: options.allowEmpty,
      allowBreaking: options.allowBreaking,
      autoApprove: options.autoApprove,
      confirm: terminalConfirm(options.json),
    }),
  );

withTargetOptions(program.command('dev'))
  .description('watch schema.sql and atlas.hcl: on every save, sync the local database, write the types and type-check the workspace')
  .addHelpText('after', () => commandHelp('dev'))
  .option('--allow-data-loss', 'apply changes that lose data without asking')
  .action(async (options) => {
    const { Reporter } = await import('./report/index.js');
    const reporter = new Reporter({ verbose: Boolean(options.verbose) });
    // Ctrl-C ends the watch; the steps then release the server and sessions as on any run's end
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const [{ resolveTarget }, { readProject }, { runDev }] = await Promise.all([import('./workflow/request.js'), import('./config/project.js'), import('./workflow/dev.js')]);
      const project = readProject();
      const spec = await resolveTarget(options, project);
      reporter.title('sqlfirst dev', { Environment: spec.envName, Config: spec.configPath });
      const request = { ...spec, typeCheck: options.typecheck !== false, writeTypes: true, allowDataLoss: options.allowDataLoss, confirm: terminalConfirm(false) };
      const outcome = await runDev({ command: 'dev', request, project, reporter, skipped: [], renames: [], releases: [] }, options, stop.signal);
      reporter.finish('dev', outcome);
    } catch (error) {
      reporter.failure('dev', error);
      process.exitCode = 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });

withTargetOptions(program.command('types'))
  .description('regenerate the Drizzle types from schema.sql alone (uses the embedded server when no database is configured)')
  .addHelpText('after', () => commandHelp('types'))
  .option('--types-dir <path>', 'folder for schema.ts and relations.ts (default: "types" of the "sqlfirst" key in the root package.json)')
  .action((options) => run('types', options, { typesDir: options.typesDir }));

withTargetOptions(program.command('check'))
  .description('for CI: fail when the Drizzle types differ from schema.sql, a Drizzle migration exists, or (with --env or --url) the database has drifted; changes nothing')
  .addHelpText('after', () => commandHelp('check'))
  .action((options) => run('check', options, { drift: Boolean(options.env || options.url) }));

type CommandName = import('./workflow/index.js').CommandName;
type RunRequest = import('./workflow/request.js').RunRequest;

const TITLES: Record<CommandName, string> = {
  plan: 'sqlfirst plan',
  apply: 'sqlfirst apply',
  sync: 'sqlfirst sync',
  types: 'sqlfirst types',
  check: 'sqlfirst check',
};

/** Resolves the request, runs the command's steps, and turns any failure into one line and exit code 1. */
async function run(command: CommandName, options: Record<string, unknown>, asked: Partial<RunRequest>): Promise<void> {
  const { Reporter } = await import('./report/index.js');
  const reporter = new Reporter({ json: Boolean(options.json), verbose: Boolean(options.verbose) });
  const stopOnSignal = (signal: NodeJS.Signals) => void interrupted(signal, command, reporter);
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    const [{ resolveTarget }, { readProject }, { runCommand }] = await Promise.all([import('./workflow/request.js'), import('./config/project.js'), import('./workflow/index.js')]);
    const project = readProject();
    const spec = await resolveTarget(options, project);
    reporter.title(TITLES[command], { Environment: spec.envName, Config: spec.configPath });
    const outcome = await runCommand(command, { ...spec, typeCheck: options.typecheck !== false, ...asked }, reporter, project);
    reporter.finish(command, outcome);
    process.exitCode = outcome.exitCode;
  } catch (error) {
    reporter.failure(command, error);
    process.exitCode = 1;
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
}

/** Ctrl-C or SIGTERM: roll back, drop the shadow, stop the embedded server, exit 1. */
async function interrupted(signal: NodeJS.Signals, command: string, reporter: import('./report/index.js').Reporter): Promise<void> {
  const [{ runInterruptCleanups }, { SqlfirstError }] = await Promise.all([import('./interrupt.js'), import('./errors.js')]);
  await runInterruptCleanups();
  reporter.failure(
    command,
    new SqlfirstError(`Interrupted by ${signal}: nothing uncommitted was kept (the open transaction was rolled back) and temporary databases were removed; run again to finish.`),
  );
  process.exit(1);
}

/** A yes/no prompt when a person is at a terminal; undefined otherwise. */
function terminalConfirm(json: unknown): ((question: string) => Promise<boolean>) | undefined {
  if (json || !process.stdin.isTTY || !process.stdout.isTTY) return undefined;
  return async (message) => {
    const { default: confirm } = await import('@inquirer/confirm');
    return confirm({ message, default: false });
  };
}

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new InvalidArgumentError('expected a number of seconds.');
  return number;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the command line in `argv` (as process.argv: node, script, arguments...). */
export async function main(argv: string[]): Promise<void> {
  // hints print commands the way this process was invoked (npm script, npx, directly)
  recordProgramArguments(argv.slice(2));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.stderr.write(`sqlfirst: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
