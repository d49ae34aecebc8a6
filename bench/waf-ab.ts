/**
 * `npm run waf:ab -- BUILD_A BUILD_B [--value TEXT] [--rounds N]`
 *
 * Which of two builds of the injection engine is faster on one value: both builds' `detectAll`
 * (BUILD_A/waf/engine.js, BUILD_B/waf/engine.js: e.g. a worktree of the commit before a change,
 * built, and `dist`) are loaded into one process and timed alternately, 4,000 fresh copies of the
 * value per round (a string that was inspected before is not), and the medians are printed with
 * B/A. One process and alternation cancel most of the drift of a shared machine: the same build
 * against itself gave 0.98 and 1.00 on our development machine, so read differences under ~3 % as
 * noise. The default value is the benchmark's 765-character prose field.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PET_NOTES } from './support/bodies.js';
import { benchArgs } from './support/args.js';

const { values: args, positionals } = benchArgs({
  allowPositionals: true,
  options: { value: { type: 'string' }, rounds: { type: 'string', default: '40' } },
});
const rounds = Number(args.rounds);
if (positionals.length !== 2 || !Number.isInteger(rounds) || rounds < 2) {
  console.error('usage: waf-ab BUILD_A BUILD_B [--value TEXT] [--rounds N ≥ 2]');
  process.exit(2);
}

type DetectAll = (value: string, location: string, internalHosts: readonly string[]) => readonly string[];
async function load(build: string): Promise<DetectAll> {
  const file = pathToFileURL(resolve(build, 'waf/engine.js')).href;
  try {
    return ((await import(file)) as { detectAll: DetectAll }).detectAll;
  } catch (err) {
    console.error(`cannot load ${file} (build it first): ${String(err)}`);
    process.exit(2);
  }
}
const a = await load(positionals[0]!);
const b = await load(positionals[1]!);
const value = args.value ?? PET_NOTES;
const CALLS = 4_000;

/** µs per call of `detect` on fresh copies of the value (a suffix makes each a new string). */
function time(detect: DetectAll): number {
  const copies = Array.from({ length: CALLS }, (_, i) => `${value} ${i}`.slice(0, value.length + 1 + (i & 1)));
  const start = process.hrtime.bigint();
  for (const copy of copies) detect(copy, 'body', []);
  return Number(process.hrtime.bigint() - start) / CALLS / 1_000;
}
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
console.log(`A ${median(ta).toFixed(2)} µs  B ${median(tb).toFixed(2)} µs  B/A ${(median(tb) / median(ta)).toFixed(3)}  (${rounds} rounds × ${CALLS} calls, ${value.length} characters)`);
