import { describe, expect, it } from 'vitest';
import { PermanentTaskError, RetryableTaskError, SnoozeTaskError } from '../../src/core/task-errors.ts';

/** An error as another copy of the package makes it: another class, the same registry brand. */
function fromAnotherCopy(name: string): Error {
  const error = new Error('from a task module with its own copy of conveyor-tasks');
  Object.defineProperty(error, Symbol.for('conveyor-tasks.task-error'), { value: name });
  return error;
}

// A TypeScript task module that tsx compiles to CommonJS loads its own copy of the package: the
// errors its handler throws must still steer the task (the dead letter, a held-back retry, a snooze).
describe('task errors from another copy of the package', () => {
  it('are recognised by instanceof, each as its own class only', () => {
    expect(fromAnotherCopy('PermanentTaskError')).toBeInstanceOf(PermanentTaskError);
    expect(fromAnotherCopy('RetryableTaskError')).toBeInstanceOf(RetryableTaskError);
    expect(fromAnotherCopy('SnoozeTaskError')).toBeInstanceOf(SnoozeTaskError);
    expect(fromAnotherCopy('PermanentTaskError')).not.toBeInstanceOf(SnoozeTaskError);
    expect(new Error('plain')).not.toBeInstanceOf(PermanentTaskError);
    expect(PermanentTaskError[Symbol.hasInstance](null)).toBe(false);
  });

  it('leave instanceof of a subclass as it always was', () => {
    class NotFound extends PermanentTaskError {}
    expect(new NotFound('gone')).toBeInstanceOf(PermanentTaskError);
    expect(new NotFound('gone')).toBeInstanceOf(NotFound);
    expect(new PermanentTaskError('other')).not.toBeInstanceOf(NotFound);
    expect(new SnoozeTaskError(5).delayMs).toBe(5);
  });
});
