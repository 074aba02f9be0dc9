import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripJsonComments } from './tsconfig.js';

describe('stripJsonComments', () => {
  it('drops comments and trailing commas, and leaves strings that look like them alone', () => {
    const text = [
      '{',
      '  // the shared base',
      '  "extends": "./base.json", /* inline */',
      '  "compilerOptions": {',
      '    "paths": { "#lib/*": ["./lib/*"], "a//b": ["./x/*.ts",], },',
      '    "outDir": "dist", // trailing',
      '  },',
      '  "include": ["src/**/*", "quote\\" ,]"],',
      '}',
    ].join('\n');
    assert.deepEqual(JSON.parse(stripJsonComments(text)), {
      extends: './base.json',
      compilerOptions: { paths: { '#lib/*': ['./lib/*'], 'a//b': ['./x/*.ts'] }, outDir: 'dist' },
      include: ['src/**/*', 'quote" ,]'],
    });
  });

  it('ends an unclosed comment at the end of the text', () => {
    assert.equal(stripJsonComments('{} /* open'), '{} ');
    assert.equal(stripJsonComments('{} // open'), '{} ');
  });
});
