import { describe, expect, it } from 'vitest';
import { breakerLabel, breakerScopeOf } from '../../src/core/breaker-scope.ts';
import { newTask } from '../../src/core/new-task.ts';

describe('breakerScopeOf', () => {
  it("keeps a webhook's breaker per destination host, with its port when not the default", () => {
    expect(breakerScopeOf('webhook', { url: 'https://API.Example.com/hooks?a=1', method: 'POST' })).toBe('api.example.com');
    expect(breakerScopeOf('webhook', { url: 'https://api.example.com:443/x' })).toBe('api.example.com');
    expect(breakerScopeOf('webhook', { url: 'http://127.0.0.1:8080/x' })).toBe('127.0.0.1:8080');
    expect(breakerScopeOf('webhook', { url: 'http://user:secret@hooks.example.com/x' })).toBe('hooks.example.com');
  });

  it("gives every other type, and a payload without a URL, the type's own breaker", () => {
    expect(breakerScopeOf('email', { url: 'https://api.example.com/' })).toBeNull();
    expect(breakerScopeOf('webhook', { url: 'not a url' })).toBeNull();
    expect(breakerScopeOf('webhook', { url: 42 })).toBeNull();
    expect(breakerScopeOf('webhook', ['https://api.example.com/'])).toBeNull();
    expect(breakerScopeOf('webhook', null)).toBeNull();
  });

  it('is decided by newTask, so every insert path stores it', () => {
    expect(newTask({ taskType: 'webhook', payload: { url: 'https://a.example.com/', method: 'POST' } }, new Date()).breakerScope).toBe('a.example.com');
    expect(newTask({ taskType: 'email', payload: {} }, new Date()).breakerScope).toBeNull();
  });

  it('names a scoped breaker `type @ scope`', () => {
    expect(breakerLabel('webhook', 'api.example.com')).toBe('webhook @ api.example.com');
    expect(breakerLabel('email', null)).toBe('email');
  });
});
