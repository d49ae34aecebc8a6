/**
 * `npm run waf:ab -- BUILD_A BUILD_B [--value TEXT] [--rounds N]`
 *
 * Which of two builds of the injection engine is faster on one value: both builds' `detectAll`
 * (BUILD_A/waf/engine.js, BUILD_B/waf/engine.js: e.g. a worktree of the commit before a change,
 * built, and `dist`) are loaded into one process and timed alternately, 4,000 fresh copies of the
 * value per round (a string that was inspected before is not), and the medians are compared. The
 * build loaded second ran up to ~13 % slower than the first on our development machine, whichever
 * it was (two copies of one build: 1.128 and 1.125), so this is done twice, in two processes with
 * the builds loaded in either order, and B/A is the geometric mean of the two: the order's share
 * cancels. The default value is the benchmark's 765-character prose field.
 */
import { spawnSync } from 'node:child_process';
import { PET_NOTES } from './support/bodies.js';
import { benchArgs } from './support/args.js';
import { loadDetectAll, type DetectAll } from './support/engine-build.js';

const { values: args, positionals } = benchArgs({
  allowPositionals: true,
  options: { value: { type: 'string' }, rounds: { type: 'string', default: '40' }, order: { type: 'string' } },
});
const rounds = Number(args.rounds);
if (positionals.length !== 2 || !Number.isInteger(rounds) || rounds < 2) {
  console.error('usage: waf-ab BUILD_A BUILD_B [--value TEXT] [--rounds N ≥ 2]');
  process.exit(2);
}
const [buildA, buildB] = positionals as [string, string];

if (args.order !== undefined) {
  // One process: `--order ab` loads A first, `ba` B first; prints the two medians in µs as JSON.
  const first = await loadDetectAll(args.order === 'ab' ? buildA : buildB);
  const second = await loadDetectAll(args.order === 'ab' ? buildB : buildA);
  const [a, b] = args.order === 'ab' ? [first, second] : [second, first];
  const value = args.value ?? PET_NOTES;
  const CALLS = 4_000;
  /** µs per call of `detect` on fresh copies of the value (a suffix makes each a new string). */
  const time = (detect: DetectAll): number => {
    const copies = Array.from({ length: CALLS }, (_, i) => `${value} ${i}`.slice(0, value.length + 1 + (i & 1)));
    const start = process.hrtime.bigint();
    for (const copy of copies) detect(copy, 'body', []);
    return Number(process.hrtime.bigint() - start) / CALLS / 1_000;
  };
  // Warm-up: both builds compiled by the optimising tier before any round counts.
  for (let i = 0; i < 5; i++) {
    time(a);
    time(b);
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Which build goes first alternates, so neither always runs right after the other.
    if (r % 2 === 0) {
      ta.push(time(a));
      tb.push(time(b));
    } else {
      tb.push(time(b));
      ta.push(time(a));
    }
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  console.log(JSON.stringify([median(ta), median(tb)]));
} else {
  const run = (order: 'ab' | 'ba'): [number, number] => {
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2), '--order', order], { encoding: 'utf8' });
    if (child.status !== 0) {
      process.stderr.write(child.stderr);
      process.exit(child.status ?? 1);
    }
    return JSON.parse(child.stdout) as [number, number];
  };
  const [a1, b1] = run('ab');
  const [a2, b2] = run('ba');
  const ratio = Math.sqrt((b1 / a1) * (b2 / a2));
  const chars = (args.value ?? PET_NOTES).length;
  console.log(`A loaded first: A ${a1.toFixed(2)} µs, B ${b1.toFixed(2)} µs (B/A ${(b1 / a1).toFixed(3)})`);
  console.log(`B loaded first: A ${a2.toFixed(2)} µs, B ${b2.toFixed(2)} µs (B/A ${(b2 / a2).toFixed(3)})`);
  console.log(`B/A ${ratio.toFixed(3)} (geometric mean of both orders; ${rounds} rounds × 4,000 calls each, ${chars} characters)`);
}
