/**
 * A deterministic source of whole numbers for generated test inputs (Park–Miller, multiplier
 * 48271), so that a failure reproduces: each call gives one below `n`.
 *
 * @example
 *   const next = seeded(7);
 *   const pick = parts[next(parts.length)];
 */
export function seeded(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 48271) % 2147483647;
    return state % n;
  };
}
