/** The worker thread of the typecheck stage: runs one job and posts its outcome. */
import { parentPort, workerData } from 'node:worker_threads';
import { runJob, type CompileJob } from './job.js';

export type WorkerReply =
  | { ok: true; output: Awaited<ReturnType<typeof runJob>> }
  | { ok: false; message: string; step?: string; stack?: string };

runJob(workerData as CompileJob).then(
  (output) => parentPort?.postMessage({ ok: true, output } satisfies WorkerReply),
  (error: unknown) => {
    const e = error as { message?: string; step?: string; stack?: string };
    parentPort?.postMessage({ ok: false, message: e?.message ?? String(error), step: e?.step, stack: e?.stack } satisfies WorkerReply);
  },
);
