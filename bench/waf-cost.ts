/**
 * `npx tsx bench/waf-cost.ts`: CPU cost per request of the inspection path on a ~1 KB JSON body,
 * warm, in microseconds (strict JSON parse, contract check, injection engine), then the injection
 * engine alone on realistic free-text values, whole and per detector. Complements
 * `npm run bench:waf`, whose req/s depend on what else the machine is doing.
 */
import { join } from 'node:path';
import { loadOpenApi } from '../src/openapi/document.js';
import { Contract } from '../src/openapi/validator.js';
import { parseJsonStrict } from '../src/validate/json.js';
import { normalize } from '../src/waf/decode.js';
import { detectAll, WafEngine } from '../src/waf/engine.js';
import { headerInputs, jsonInputs, pathInputs, queryInputs } from '../src/waf/inputs.js';
import { detectCode, detectLdap, detectNosql, detectXxe } from '../src/waf/other.js';
import { detectPath } from '../src/waf/path.js';
import { detectShell } from '../src/waf/shell.js';
import { detectSql } from '../src/waf/sql.js';
import { detectSsrf } from '../src/waf/ssrf.js';
import { detectTemplate } from '../src/waf/template.js';
import { detectXss } from '../src/waf/xss.js';
import { ROOT } from '../test/helpers/gateway.js';
import { PET_NOTES } from './support/bodies.js';

/** Free text of the kinds a JSON API receives; `notes` is the one of bench/run.ts's POST body (issue #7). */
const VALUES: Readonly<Record<string, string>> = {
  notes: PET_NOTES,
  multilingual:
    "Il adore les promenades au parc (surtout le matin) ; attention : il tire sur la laisse quand il voit des chats. Vétérinaire : Dr. Lefèvre, 12 rue de l'Église. " +
    'Er frisst gern Hühnchen — aber nicht zu viel! 朝と夜に散歩します（約30分）。Собака любит «апорт»; ветеринар: д-р Иванов.',
  'code comment':
    'Example from our docs: `const pets = await fetch("/api/pets?limit=10").then((r) => r.json()); if (pets.length > 0 && pets[0].name !== "") { console.log(pets[0].name); }` ' +
    '— the select() helper returns the first item; see README.md section "Usage" (step 3: set the API key).',
  review:
    "It's the third time we've boarded Luna here and she's always come home happy: the staff send photos twice a day, the runs are clean, and they " +
    "remembered her meds (half a tablet at 8:00 and 20:00). Only downside: parking's tight on weekends. 5/5 — we'll be back!",
};

const body = JSON.stringify({ name: "Rex O'Malley", species: 'dog', notes: VALUES.notes });
const headers = { host: '127.0.0.1:8443', 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36' };
const engine = new WafEngine();
const contract = new Contract(loadOpenApi(join(ROOT, 'src/demo/pets.openapi.yaml')), { allowUnknownQuery: false, allowUnknownProperties: false, basePath: '' });

/** Best of 10 rounds: the machine is shared, and interference only ever adds time. */
function time(label: string, f: () => unknown): void {
  const n = 2_000;
  for (let i = 0; i < 2_000; i++) f();
  let best = Infinity;
  for (let round = 0; round < 10; round++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) f();
    best = Math.min(best, ((performance.now() - start) / n) * 1000);
  }
  console.log(`${label.padEnd(38)} ${best.toFixed(1).padStart(6)} µs`);
}

console.log(`body: ${body.length} bytes JSON`);
time('JSON.parse (reference)', () => JSON.parse(body));
time('strict JSON parse (limits, dupes)', () => parseJsonStrict(body));
const value = parseJsonStrict(body);
time('OpenAPI match + params + body', () => {
  const { op, pathParams } = contract.match('PATCH', '/pets/1');
  contract.checkParameters(op, pathParams, '', headers);
  contract.bodyValidator(op, 'application/json').json!(value);
});
time('injection engine (path, headers, body)', () => engine.inspect([...pathInputs('/pets/1'), ...queryInputs(''), ...headerInputs(headers), ...jsonInputs(value)]));

console.log('\ninjection engine per value (detectAll, body field)');
for (const [name, text] of Object.entries(VALUES)) time(`  ${name} (${text.length} chars)`, () => detectAll(text, 'body', []));

const report = (): void => undefined;
for (const name of ['notes', 'code comment']) {
  console.log(`\nper detector, ${name} (normalised and lower-cased once, as the engine does)`);
  const decoded = normalize(VALUES[name]!);
  const lower = decoded.toLowerCase();
  time('  normalize + toLowerCase', () => normalize(VALUES[name]!).toLowerCase());
  time('  sql', () => detectSql(lower, report));
  time('  xss', () => detectXss(lower, report));
  time('  shell', () => detectShell(lower, report));
  time('  code', () => detectCode(lower, decoded, report));
  time('  ssrf', () => detectSsrf(lower, [], report));
  time('  path', () => detectPath(lower, report));
  time('  template', () => detectTemplate(lower, report));
  time('  ldap + nosql + xxe', () => {
    detectLdap(lower, report);
    detectNosql(lower, report);
    detectXxe(lower, report);
  });
}
