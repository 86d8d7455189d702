import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from '../../src/api/json-depth.ts';

describe('the nesting scan that runs before JSON.parse', () => {
  it('counts objects and arrays, not brackets inside strings or after escaped quotes', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":{"b":{"c":{}}}}', 3)).toBe(true);
    expect(jsonDepthExceeds(`{"s":"${'['.repeat(100)}"}`, 3)).toBe(false);
    // An escaped quote does not end the string; an escaped backslash before a quote does.
    expect(jsonDepthExceeds(`{"s":"\\"[[[[[["}`, 3)).toBe(false);
    expect(jsonDepthExceeds(`{"s":"\\\\","t":[[[[]]]]}`, 3)).toBe(true);
    expect(jsonDepthExceeds('['.repeat(100_000), 64)).toBe(true);
  });
});
