import './shadow-env.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { readProject } from '../../config/project.js';
import { Reporter } from '../../report/index.js';
import { NO_SKIPS } from '../../policy/index.js';
import { runCommand } from '../../workflow/index.js';
import type { RunRequest } from '../../workflow/request.js';

/** A Reporter that keeps what it would print. */
export function quietReporter(): { reporter: Reporter; text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += chunk;
      done();
    },
  });
  return { reporter: new Reporter({ out: sink, err: sink }), text: () => text };
}

/** Applies `sql` to `url` in-process, as `sqlfirst apply --auto-approve --no-typecheck` would, from a scratch folder; a failure throws. */
export async function applySql(url: string, sql: string, options: Partial<RunRequest> = {}): Promise<{ code: number; output: string; plan?: import('../../engine/index.js').MigrationPlan }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-schema-'));
  const file = path.join(dir, 'schema.sql');
  fs.writeFileSync(file, sql);
  const { reporter, text } = quietReporter();
  try {
    const outcome = await runCommand('apply', { url, schemaFiles: [file], schemas: [], policy: NO_SKIPS, autoApprove: true, typeCheck: false, ...options }, reporter, readProject(dir));
    reporter.finish('apply', outcome);
    return { code: outcome.exitCode, output: text(), plan: outcome.plan };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
