/**
 * `npx tsx bench/waf-cost.ts`: CPU cost per request of the inspection path on a ~1 KB JSON body,
 * warm, in microseconds (strict JSON parse, contract check, injection engine). Complements
 * `npm run bench:waf`, whose req/s depend on what else the machine is doing.
 */
import { join } from 'node:path';
import { loadOpenApi } from '../src/openapi/document.js';
import { Contract } from '../src/openapi/validator.js';
import { parseJsonStrict } from '../src/validate/json.js';
import { WafEngine } from '../src/waf/engine.js';
import { headerInputs, jsonInputs, pathInputs, queryInputs } from '../src/waf/inputs.js';
import { ROOT } from '../test/helpers/gateway.js';

const notes = 'Rex is a friendly dog who loves long walks in the park, chasing tennis balls and meeting other dogs. ';
const body = JSON.stringify({ name: "Rex O'Malley", species: 'dog', notes: notes.repeat(10).slice(0, 940) });
const headers = { host: '127.0.0.1:8443', 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36' };
const engine = new WafEngine();
const contract = new Contract(loadOpenApi(join(ROOT, 'src/demo/pets.openapi.yaml')), { allowUnknownQuery: false, allowUnknownProperties: false, basePath: '' });

function time(label: string, f: () => unknown): void {
  const n = 20_000;
  for (let i = 0; i < 2_000; i++) f();
  const start = performance.now();
  for (let i = 0; i < n; i++) f();
  console.log(`${label.padEnd(34)} ${(((performance.now() - start) / n) * 1000).toFixed(1).padStart(6)} µs`);
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
