#!/usr/bin/env node
// The `sqlfirst` command. Committed (not built) so that npm links it at install
// time, before `prepare` has built dist/; it runs whatever dist/ holds now.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (existsSync(cli)) {
  await import(cli.href);
} else {
  process.stderr.write('sqlfirst is not built yet (packages/sqlfirst/dist/cli.js is missing); run npm run build at the repository root, then run the command again.\n');
  process.exitCode = 1;
}
