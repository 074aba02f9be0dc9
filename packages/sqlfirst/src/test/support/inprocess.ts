import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Reporter } from '../../report/index.js';
import { runApply, type ApplyRequest } from '../../workflow/migrate.js';
import { NO_SKIPS } from '../../policy/index.js';

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

/** Applies `sql` to `url` in-process, as `sqlfirst apply --auto-approve` would. */
export async function applySql(url: string, sql: string, options: Partial<ApplyRequest> = {}): Promise<{ code: number; output: string; reporter: Reporter }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlfirst-schema-'));
  const file = path.join(dir, 'schema.sql');
  fs.writeFileSync(file, sql);
  const { reporter, text } = quietReporter();
  try {
    const code = await runApply({ url, schemaFiles: [file], schemas: [], policy: NO_SKIPS, autoApprove: true, ...options }, reporter);
    return { code, output: text(), reporter };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
