import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCompilerOutput } from './diagnostics.js';

describe('parseCompilerOutput', () => {
  it('reads a diagnostic with its place, code and whole chain, indentation kept', () => {
    const output = [
      'packages/trading-core/src/orders.ts(115,9): error TS2769: No overload matches this call.',
      '  The last overload gave the following error.',
      "    Object literal may only specify known properties, and 'isMaker' does not exist in type '{ orderId: string; }'.",
      "packages/trading-core/src/orders.ts(134,52): error TS2339: Property 'averagePrice' does not exist on type 'Orders'.",
      '',
    ].join('\n');
    assert.deepEqual(parseCompilerOutput(output).diagnostics, [
      {
        file: 'packages/trading-core/src/orders.ts',
        line: 115,
        column: 9,
        code: 2769,
        message: [
          'No overload matches this call.',
          '  The last overload gave the following error.',
          "    Object literal may only specify known properties, and 'isMaker' does not exist in type '{ orderId: string; }'.",
        ].join('\n'),
      },
      { file: 'packages/trading-core/src/orders.ts', line: 134, column: 52, code: 2339, message: "Property 'averagePrice' does not exist on type 'Orders'." },
    ]);
  });

  it('reads a diagnostic without a place and one whose chain explains a file', () => {
    const output = [
      "error TS5023: Unknown compiler option 'frobnicate'.",
      "error TS6059: File '/w/.sqlfirst/a.ts' is not under 'rootDir' '/w/src'.",
      '  The file is in the program because:',
      "    Part of 'files' list in tsconfig.json",
    ].join('\n');
    assert.deepEqual(parseCompilerOutput(output).diagnostics, [
      { line: 1, column: 1, code: 5023, message: "Unknown compiler option 'frobnicate'." },
      {
        line: 1,
        column: 1,
        code: 6059,
        message: "File '/w/.sqlfirst/a.ts' is not under 'rootDir' '/w/src'.\n  The file is in the program because:\n    Part of 'files' list in tsconfig.json",
      },
    ]);
  });

  it('tells the listed files from the diagnostics, on POSIX and Windows, with CRLF line ends', () => {
    const output = [
      'src/a (copy).ts(1,7): error TS2322: Type \'string\' is not assignable to type \'number\'.',
      '/repo/node_modules/drizzle-orm/index.d.ts',
      'C:/repo/packages/trading-core/src/a (copy).ts',
      'D:\\repo\\src\\b.ts',
      '\\\\server\\share\\c.ts',
    ].join('\r\n');
    const parsed = parseCompilerOutput(output);
    assert.deepEqual(parsed.diagnostics, [{ file: 'src/a (copy).ts', line: 1, column: 7, code: 2322, message: "Type 'string' is not assignable to type 'number'." }]);
    assert.deepEqual(parsed.files, ['/repo/node_modules/drizzle-orm/index.d.ts', 'C:/repo/packages/trading-core/src/a (copy).ts', 'D:\\repo\\src\\b.ts', '\\\\server\\share\\c.ts']);
  });

  it('reads a placed diagnostic on a Windows path, and nothing from empty output', () => {
    assert.deepEqual(parseCompilerOutput('C:/repo/src/a.ts(3,1): error TS1005: \';\' expected.\n').diagnostics, [
      { file: 'C:/repo/src/a.ts', line: 3, column: 1, code: 1005, message: "';' expected." },
    ]);
    assert.deepEqual(parseCompilerOutput(''), { diagnostics: [], files: [] });
  });
});
