import { BouncerError } from '../../src/errors/errors.js';

/** The BouncerError `fn` throws; fails the test when it throws something else or nothing. */
export function thrown(fn: () => unknown): BouncerError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BouncerError) return err;
    throw err;
  }
  throw new Error('expected a BouncerError, nothing was thrown');
}
