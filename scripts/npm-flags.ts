/**
 * `npm run db:sync --allow-data-loss` (without `--`) hands the flag to npm, not
 * to the script: npm keeps it as its own setting and only shows it to the
 * script as npm_config_allow_data_loss=true. Silently running without the flag
 * the person typed would be wrong, so the scripts stop and show the right form.
 */

/** sqlfirst's flags for a sync that npm takes for settings of its own when they come before `--` */
const SYNC_FLAGS = [
  'allow-data-loss',
  'allow-breaking',
  'allow-empty',
  'auto-approve',
  'force',
  'types',
  'typecheck',
  'types-dir',
  'json',
  'env',
  'url',
  'to',
  'config',
  'var',
  'dev-url',
  'connect-timeout',
  'lock-timeout',
  'statement-timeout',
];

/** The flags npm took, as the person typed them (`--allow-data-loss`, `--no-types`, `--env sandbox`). */
export function flagsTakenByNpm(env: NodeJS.ProcessEnv = process.env): string[] {
  if (!env.npm_lifecycle_event) return [];
  return SYNC_FLAGS.flatMap((name) => {
    const value = env[`npm_config_${name.replace(/-/g, '_')}`];
    if (value === undefined) return [];
    if (value === 'true' || value === '') return [`--${name}`];
    if (value === 'false') return [`--no-${name}`];
    return [`--${name} ${value}`];
  });
}

/** Ends the script with exit code 1 and one sentence when npm took flags meant for sqlfirst. */
export function refuseFlagsTakenByNpm(env: NodeJS.ProcessEnv = process.env): void {
  const taken = flagsTakenByNpm(env);
  if (taken.length === 0) return;
  const flags = taken.join(' ');
  process.stderr.write(`✖ npm kept ${flags} for itself, so nothing was run; write it after --: npm run ${env.npm_lifecycle_event} -- ${flags}\n`);
  process.exit(1);
}
