import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elapsed, progressText, type ProgressRow } from './apply.js';

const idle: ProgressRow = { command: null, phase: null, done: null, total: null, unit: null, waiting: false, waiting_on: null, blockers: [] };

test('a progress line: the view when PostgreSQL has one, otherwise the lock waited for and who holds it, or that it runs', () => {
  assert.equal(
    progressText({ ...idle, command: 'CREATE INDEX CONCURRENTLY', phase: 'building index: scanning table', done: '1215', total: '2700', unit: 'blocks' }, 'building an index on public.orders'),
    'CREATE INDEX CONCURRENTLY: building index: scanning table, 45% of 2,700 blocks',
  );
  assert.equal(
    progressText({ ...idle, command: 'CREATE INDEX CONCURRENTLY', phase: 'waiting for writers before build', waiting: true, blockers: [42, 43] }, 'building an index on public.orders'),
    'CREATE INDEX CONCURRENTLY: waiting for writers before build, waiting for older transactions to end (sessions 42, 43)',
  );
  assert.equal(progressText({ ...idle, waiting: true, waiting_on: 'public.orders', blockers: [42] }, 'rewriting public.orders (≈2.0 M rows, 84 MB)'), 'rewriting public.orders (≈2.0 M rows, 84 MB): waiting for a lock on public.orders held by session 42');
  assert.equal(progressText(idle, 'checking every row of public.orders'), 'checking every row of public.orders: running');
});

test('elapsed time reads like a clock', () => {
  assert.deepEqual([elapsed(450), elapsed(9_960), elapsed(12_400), elapsed(185_000)], ['0.5 s', '10 s', '12 s', '3 min 05 s']);
});
