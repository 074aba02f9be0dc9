/**
 * The Azure sandbox: make it match packages/database/schema.sql (no types).
 * Asks for confirmation on a terminal; pass --auto-approve where there is none.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from 'sqlfirst/cli';
import { refuseFlagsTakenByNpm } from './npm-flags.js';

refuseFlagsTakenByNpm();

const config = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'database', 'atlas.hcl');
// apply only: the sandbox produces no types, and a run there always shows the plan and asks
await main([process.argv[0], 'apply-schema-sandbox', 'apply', '--env', 'sandbox', '--config', config, ...process.argv.slice(2)]);
