import { afterEach, describe, expect, it, vi } from 'vitest';
import { atTurnEnd } from '../../src/core/turn.js';

afterEach(() => vi.unstubAllGlobals());

/** Resolves after the current turn's setImmediate callbacks (and the next turn's, queued from them). */
const turns = (n: number): Promise<void> => (n === 0 ? Promise.resolve() : new Promise((r) => setImmediate(() => void turns(n - 1).then(r))));

describe('atTurnEnd', () => {
  it('runs work after the current callback, in the order it was queued, all in one batch', async () => {
    const seen: string[] = [];
    atTurnEnd(() => seen.push('a'));
    atTurnEnd(() => seen.push('b'));
    seen.push('sync');
    await Promise.resolve();
    // Not a microtask: the turn's other callbacks come first.
    expect(seen).toEqual(['sync']);
    await turns(1);
    expect(seen).toEqual(['sync', 'a', 'b']);
  });

  it('leaves work queued while a batch runs for the next turn (no batch runs forever)', async () => {
    const seen: string[] = [];
    atTurnEnd(() => {
      seen.push('first');
      atTurnEnd(() => seen.push('later'));
    });
    atTurnEnd(() => seen.push('second'));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['first', 'second']);
    await turns(1);
    expect(seen).toEqual(['first', 'second', 'later']);
  });

  it('runs the rest of the batch when one piece throws, and rethrows that error on its own', async () => {
    const rethrown: (() => void)[] = [];
    vi.stubGlobal('queueMicrotask', (fn: () => void) => rethrown.push(fn));
    const seen: string[] = [];
    atTurnEnd(() => {
      throw new Error('boom');
    });
    atTurnEnd(() => seen.push('after'));
    await turns(1);
    expect(seen).toEqual(['after']);
    expect(rethrown).toHaveLength(1);
    expect(rethrown[0]!).toThrow('boom');
  });
});
