/**
 * Local development: make the local database match packages/database/schema.sql,
 * then regenerate the Drizzle types. With none of the local variables set, it
 * uses the embedded database. Extra arguments pass through (e.g. --allow-data-loss, --json).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from 'sqlfirst/cli';
import { refuseFlagsTakenByNpm } from './npm-flags.js';

refuseFlagsTakenByNpm();

const config = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'database', 'atlas.hcl');
await main([process.argv[0], 'sync-schema', 'sync', '--env', 'local', '--config', config, ...process.argv.slice(2)]);
