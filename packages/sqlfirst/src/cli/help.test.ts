import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { commandHelp, topLevelHelp, type HelpCommand } from './help.js';

const COMMANDS: HelpCommand[] = ['plan', 'apply', 'sync', 'types', 'check', 'dev'];

describe('--help texts', () => {
  it('every command shows examples of itself, the environments with their variables, and its exit codes', () => {
    for (const command of COMMANDS) {
      const text = commandHelp(command);
      const examples = text.slice(text.indexOf('Examples:'), text.indexOf('\n\n', text.indexOf('Examples:')));
      assert.match(examples, new RegExp(`^ {2}\\S.* ${command}\\b`, 'm'), `${command}: an example runs ${command}`);
      for (const variable of ['DATABASE_HOST', 'LIVERMORE_DATABASE_NAME', 'PG_SANDBOX_PASSWORD', 'PG_PRODUCTION_HOST']) assert.ok(text.includes(variable), `${command}: ${variable}`);
      assert.match(text, /^Exit codes:\n {2}0 {2}.+\n {2}1 {2}/m, command);
    }
  });

  it('plan documents exit code 2; the top level lists the everyday commands and every exit code', () => {
    assert.match(commandHelp('plan'), /^ {2}2 {2}--exit-code and changes are pending$/m);
    assert.doesNotMatch(commandHelp('apply'), /^ {2}2 /m);
    const top = topLevelHelp();
    for (const args of ['sync', 'plan --env sandbox', 'apply --env production --plan plan.json', 'check']) assert.match(top, new RegExp(`^ {2}\\S.* ${args}$| ${args} {2}`, 'm'), args);
    assert.match(top, /^ {2}0 .+\n {2}1 .+\n {2}2 {2}plan --exit-code/m);
  });
});
