/**
 * `npm run waf:diff -- (--save FILE | --compare FILE) [--build DIR] [--corpus DIR]… [--mutations N]`
 *
 * Whether a change to the injection engine changed any finding. Runs `detectAll` of the build in
 * DIR (default `dist`, so build first: `npx tsc -p tsconfig.build.json`) on every value of our
 * fixtures and of the corpora given, each also percent-decoded, the benchmark's prose field, and N
 * deterministic mutations of them (quotes, separators and prose spliced in, cases changed), at four
 * locations (body, query, header, key), and saves the rule ids found, or compares them with a saved
 * run: exit 0 and `IDENTICAL` when every finding is the same, 1 and the first differences otherwise.
 * Save from the build before the change, compare from the build after it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { PET_NOTES } from './support/bodies.js';
import { loadCorpus, ownFixtures } from './support/corpora.js';
import { benchArgs } from './support/args.js';
import { loadDetectAll } from './support/engine-build.js';

const { values: args } = benchArgs({
  options: {
    save: { type: 'string' },
    compare: { type: 'string' },
    build: { type: 'string', default: 'dist' },
    corpus: { type: 'string', multiple: true, default: [] },
    mutations: { type: 'string', default: '110000' },
  },
});
if ((args.save === undefined) === (args.compare === undefined)) {
  console.error('usage: waf-diff (--save FILE | --compare FILE) [--build DIR] [--corpus DIR]… [--mutations N]');
  process.exit(2);
}
const mutations = Number(args.mutations);
if (!Number.isInteger(mutations) || mutations < 0) {
  console.error('--mutations must be a whole number');
  process.exit(2);
}

const detectAll = await loadDetectAll(args.build);

const samples = [ownFixtures(), ...(args.corpus ?? []).map((dir) => loadCorpus(dir))].flatMap((c) => [...c.attacks, ...c.benign]);
const base = [...new Set([...samples.flatMap((s) => s.values), PET_NOTES])];
const decoded = base.flatMap((v) => {
  try {
    const d = decodeURIComponent(v.replace(/\+/g, ' '));
    return d === v ? [] : [d];
  } catch {
    return [];
  }
});
const pool = [...base, ...decoded];

// A linear congruential generator: the same mutations in every run, on every machine.
let seed = 12345;
const next = (n: number): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const SPECIAL = `'"\`;|&$(){}[]<>=*%@#!?~^+-/\\:.,_ \t\n\rABCxyz019é—’＜‘`;
const PROSE = ['select the best option from the menu', "O'Brien said: (see notes); ", 'and or not like union where ', 'Café — ok. ', 'http://example.com/a?b=c ', '{{name}} ${x} ', 'he pulls on the leash; ', '"sit", "stay" and "down"'];
const mutated: string[] = [];
for (let i = 0; i < mutations; i++) {
  let s = pool[next(pool.length)]!;
  for (let k = 1 + next(3); k > 0; k--) {
    const at = next(s.length + 1);
    const other = next(s.length + 1);
    switch (next(8)) {
      case 0: s = s.slice(0, at) + SPECIAL[next(SPECIAL.length)]! + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + 1); break;
      case 2: s = s.slice(0, at) + PROSE[next(PROSE.length)]! + s.slice(at); break;
      case 3: s = `${s} ${pool[next(pool.length)]!.slice(0, 60)}`; break;
      case 4: s = s.toUpperCase(); break;
      case 5: s = s.slice(0, Math.min(at, other)) + s.slice(Math.min(at, other), Math.max(at, other)).repeat(2) + s.slice(Math.max(at, other)); break;
      case 6: s = PROSE[next(PROSE.length)]! + s; break;
      default: s = `${s.slice(0, at)}'${s.slice(at)}`;
    }
  }
  mutated.push(s);
}

const values = [...pool, ...mutated];
const LOCATIONS = ['body', 'query', 'header', 'key'];
const HOSTS = ['internal.example', '.corp.example'];
const found = values.flatMap((v) => LOCATIONS.map((l) => [...detectAll(v, l, HOSTS)].sort().join(',')));

if (args.save !== undefined) {
  writeFileSync(args.save, JSON.stringify({ values: values.length, found }));
  console.log(`saved ${found.length} findings (${values.length} values × ${LOCATIONS.length} locations) to ${args.save}`);
} else {
  const saved = JSON.parse(readFileSync(args.compare!, 'utf8')) as { values: number; found: string[] };
  if (saved.found.length !== found.length) {
    console.error(`the saved run has ${saved.found.length} findings, this one ${found.length}: run both with the same options and corpora`);
    process.exit(2);
  }
  let differences = 0;
  found.forEach((f, i) => {
    if (f === saved.found[i]) return;
    if (differences++ < 20) console.log(`${LOCATIONS[i % 4]} ${JSON.stringify(values[Math.floor(i / 4)]).slice(0, 160)}: was [${saved.found[i]}], now [${f}]`);
  });
  console.log(differences === 0 ? `IDENTICAL (${found.length} findings)` : `DIFFERENT: ${differences} of ${found.length} findings`);
  process.exit(differences === 0 ? 0 : 1);
}
