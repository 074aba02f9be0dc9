import path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { commandFor, detectInvocation } from './invocation.js';

const REPO = path.resolve('/repo');
const NODE = process.execPath;
const CLI = path.join(REPO, 'packages', 'sqlfirst', 'dist', 'cli.js');
const CONFIG = path.join(REPO, 'packages', 'database', 'atlas.hcl');

/** The environment npm gives a script it runs from the repository's package.json. */
function npmRun(script: string, command: string): NodeJS.ProcessEnv {
  return { npm_command: 'run', npm_lifecycle_event: script, npm_lifecycle_script: command, npm_package_json: path.join(REPO, 'package.json') };
}

describe('commandFor', () => {
  it('through a wrapper script (npm run db:sync): only what the script does not already say, after --', () => {
    const typed = ['--json'];
    const invocation = detectInvocation(npmRun('db:sync', 'node scripts/dist/sync-schema.js'), [NODE, path.join(REPO, 'scripts', 'dist', 'sync-schema.js'), ...typed], ['sync', '--env', 'local', '--config', CONFIG, ...typed], REPO);
    assert.equal(invocation.via, 'npm-script');
    assert.equal(commandFor(['sync', '--allow-data-loss'], invocation), 'npm run db:sync -- --allow-data-loss');
    assert.equal(commandFor(['sync', '--env', 'local', '--force'], invocation), 'npm run db:sync -- --force');
    assert.equal(commandFor(['sync'], invocation), 'npm run db:sync');
    // what the script cannot run is written for npx
    assert.equal(commandFor(['plan', '--env', 'sandbox'], invocation), 'npx sqlfirst plan --env sandbox');
    assert.equal(commandFor(['sync', '--env', 'production'], invocation), 'npx sqlfirst sync --env production');
  });

  it('through npm run db:apply:sandbox: the script already names the environment and --no-types', () => {
    const invocation = detectInvocation(npmRun('db:apply:sandbox', 'node scripts/dist/apply-schema-sandbox.js'), [NODE, path.join(REPO, 'scripts', 'dist', 'apply-schema-sandbox.js')], ['sync', '--no-types', '--env', 'sandbox', '--config', CONFIG], REPO);
    assert.equal(commandFor(['sync', '--env', 'sandbox', '--allow-data-loss'], invocation), 'npm run db:apply:sandbox -- --allow-data-loss');
  });

  it("through a script that runs the CLI with its subcommand (npm run db:check)", () => {
    const invocation = detectInvocation(npmRun('db:check', 'node packages/sqlfirst/dist/cli.js check'), [NODE, CLI, 'check', '--json'], undefined, REPO);
    assert.deepEqual(invocation.implied, ['check']);
    assert.equal(commandFor(['check', '--verbose'], invocation), 'npm run db:check -- --verbose');
    assert.equal(commandFor(['types'], invocation), 'npx sqlfirst types');
  });

  it('through a script that leaves the subcommand to the user (npm run sqlfirst -- plan)', () => {
    const argv = [NODE, CLI, 'plan', '--out', 'plan.json'];
    const invocation = detectInvocation(npmRun('sqlfirst', 'node packages/sqlfirst/dist/cli.js'), argv, argv.slice(2), REPO);
    assert.equal(commandFor(['apply', '--env', 'production', '--plan', 'plan.json'], invocation), 'npm run sqlfirst -- apply --env production --plan plan.json');
  });

  it('through a script whose own arguments main() did not record: npx, which runs any command', () => {
    const invocation = detectInvocation(npmRun('db:sync', 'node scripts/dist/sync-schema.js'), [NODE, path.join(REPO, 'scripts', 'dist', 'sync-schema.js')], undefined, REPO);
    assert.equal(commandFor(['sync', '--allow-data-loss'], invocation), 'npx sqlfirst sync --allow-data-loss');
  });

  it('through npx and npm exec', () => {
    const env = { npm_command: 'exec', npm_lifecycle_event: 'npx', npm_lifecycle_script: "'sqlfirst'", npm_package_json: path.join(REPO, 'package.json') };
    const invocation = detectInvocation(env, [NODE, path.join(REPO, 'node_modules', '.bin', 'sqlfirst'), 'plan'], undefined, REPO);
    assert.equal(invocation.via, 'npx');
    assert.equal(commandFor(['apply', '--env', 'production', '--plan', 'plan.json'], invocation), 'npx sqlfirst apply --env production --plan plan.json');
    // Windows: npm's .cmd shim runs the launcher itself
    const windows = detectInvocation(env, [NODE, path.join(REPO, 'node_modules', 'sqlfirst', 'bin', 'sqlfirst.js')], undefined, REPO);
    assert.equal(windows.via, 'npx');
  });

  it('directly: the installed command, or node and the file', () => {
    assert.equal(commandFor(['plan'], detectInvocation({}, [NODE, path.resolve('/usr/local/bin/sqlfirst')], undefined, REPO)), 'sqlfirst plan');
    assert.equal(commandFor(['plan'], detectInvocation({}, [NODE, CLI], undefined, REPO)), `node ${path.join('packages', 'sqlfirst', 'dist', 'cli.js')} plan`);
  });

  it('a process an npm script did not start itself (a test run spawning the CLI) is direct', () => {
    const invocation = detectInvocation(npmRun('test', 'node scripts/run-tests.mjs'), [NODE, CLI, 'sync'], undefined, REPO);
    assert.equal(invocation.via, 'direct');
  });

  it('quotes arguments a shell would split', () => {
    const invocation = detectInvocation({}, [NODE, path.resolve('/usr/local/bin/sqlfirst')], undefined, REPO);
    assert.equal(commandFor(['apply', '--plan', 'my plan.json'], invocation), 'sqlfirst apply --plan "my plan.json"');
  });
});
