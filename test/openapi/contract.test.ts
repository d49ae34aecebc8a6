import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOpenApi, OpenApiLoadError } from '../../src/openapi/document.js';
import { Contract, describeError } from '../../src/openapi/validator.js';
import { parseJsonStrict } from '../../src/validate/json.js';
import { seeded } from '../helpers/seeded.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-openapi-'));
writeFileSync(join(dir, 'common.yaml'), `
Address:
  type: object
  required: [zip]
  properties:
    zip: { type: string, pattern: '^[0-9]{5}$' }
    note: { type: string, nullable: true }
`);
writeFileSync(join(dir, 'api.yaml'), `
openapi: 3.0.3
info: { title: t, version: '1' }
paths:
  /things:
    get:
      parameters:
        - { name: tags, in: query, schema: { type: array, items: { type: string } } }
        - { name: ids, in: query, explode: false, schema: { type: array, items: { type: integer } } }
        - { name: filter, in: query, style: deepObject, schema: { type: object, properties: { min: { type: integer, minimum: 0, exclusiveMinimum: true } } } }
        - { name: X-Trace, in: header, required: true, schema: { type: string } }
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: { type: object, additionalProperties: false, properties: { name: { type: string } } }
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              allOf:
                - $ref: '#/components/schemas/Base'
                - type: object
                  properties:
                    address: { $ref: './common.yaml#/Address' }
      responses: { '201': { description: created } }
  /things/{id}:
    get:
      parameters: [{ name: id, in: path, required: true, schema: { type: integer } }]
      responses: { '200': { description: ok } }
  /things/mine:
    get:
      responses: { '200': { description: ok } }
components:
  schemas:
    Base:
      type: object
      properties:
        id: { type: integer, readOnly: true }
        name: { type: string }
        code: { type: string, minLength: 2, maxLength: 3 }
`);
const contract = new Contract(loadOpenApi(join(dir, 'api.yaml')), { allowUnknownQuery: false, allowUnknownProperties: false, basePath: '' });
const headers = { 'x-trace': 't1' };
const params = (query: string, h: Record<string, string> = headers): void => {
  const { op, pathParams } = contract.match('GET', '/things');
  contract.checkParameters(op, pathParams, query, h);
};
const body = (value: unknown): string | undefined => {
  const { op } = contract.match('POST', '/things');
  const v = contract.bodyValidator(op, 'application/json').json!;
  return v(value) ? undefined : (v.errors![0]!.keyword as string);
};

describe('OpenAPI contract', () => {
  it('deserializes form/explode arrays, comma arrays and deepObject, with coercion', () => {
    expect(() => params('tags=a&tags=b&ids=1,2,3&filter[min]=5')).not.toThrow();
    expect(() => params('ids=1,x')).toThrow('query.ids[1]: must be integer');
    expect(() => params('filter[min]=0')).toThrow('query.filter.min: must be > 0');
  });

  it('refuses unknown query parameters and missing required headers', () => {
    expect(() => params('debug=true')).toThrow('query.debug: is not a known parameter');
    expect(() => params('', {})).toThrow('header.x-trace: is required');
  });

  it('prefers concrete paths over templates and validates path parameters', () => {
    expect(contract.match('GET', '/things/mine').op.pathTemplate).toBe('/things/mine');
    const { op, pathParams } = contract.match('GET', '/things/12');
    expect(() => contract.checkParameters(op, pathParams, '', {})).not.toThrow();
    expect(() => contract.checkParameters(op, { id: 'x' }, '', {})).toThrow('path.id: must be integer');
  });

  it('404 for unknown paths, 405 with Allow for unknown methods', () => {
    expect(() => contract.match('GET', '/nothing')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => contract.match('DELETE', '/things')).toThrow(expect.objectContaining({ status: 405, headers: { allow: 'GET, POST' } }));
  });

  it('resolves relative-file refs, converts 3.0 nullable, keeps allOf open across members', () => {
    expect(body({ name: 'a', address: { zip: '12345', note: null } })).toBeUndefined();
    expect(body({ name: 'a', address: { zip: '1234' } })).toBe('pattern');
  });

  it('refuses unknown and read-only properties (mass assignment)', () => {
    expect(body({ name: 'a', role: 'admin' })).toBe('unevaluatedProperties');
    expect(body({ name: 'a', address: { zip: '12345', extra: 1 } })).toBe('unevaluatedProperties');
    expect(body({ id: 7, name: 'a' })).toBe('readOnly');
  });

  it('counts string lengths in characters (code points), as JSON Schema does', () => {
    expect(body({ name: 'a', code: '😀😀😀' })).toBeUndefined(); // 6 UTF-16 units, 3 characters
    expect(body({ name: 'a', code: 'ab' })).toBeUndefined();
    expect(body({ name: 'a', code: 'abcd' })).toBe('maxLength');
    expect(body({ name: 'a', code: '😀' })).toBe('minLength'); // 2 units, 1 character
    const v = contract.bodyValidator(contract.match('POST', '/things').op, 'application/json').json!;
    expect(v({ name: 'a', code: 'a😀b😀' })).toBe(false);
    expect(describeError('body', v.errors![0]!)).toBe('body.code: must NOT have more than 3 characters');
    expect(v({ name: 'a', code: 'x' })).toBe(false);
    expect(describeError('body', v.errors![0]!)).toBe('body.code: must NOT have fewer than 2 characters');
  });

  it('415 for media types the operation does not declare', () => {
    const { op } = contract.match('POST', '/things');
    expect(() => contract.bodyValidator(op, 'text/plain')).toThrow(expect.objectContaining({ status: 415 }));
  });

  it('picks the most specific declared media type whatever the order: text/plain, then text/*, then */*', () => {
    const file = join(dir, 'media.yaml');
    writeFileSync(file, `
openapi: 3.0.3
info: { title: t, version: '1' }
paths:
  /notes:
    post:
      requestBody:
        content:
          '*/*': { schema: { type: string, maxLength: 9 } }
          'text/*': { schema: { type: string, maxLength: 5 } }
          'text/plain': { schema: { type: string, maxLength: 3 } }
      responses: { '204': { description: ok } }
`);
    const media = new Contract(loadOpenApi(file), { allowUnknownQuery: false, allowUnknownProperties: false, basePath: '' });
    const { op } = media.match('POST', '/notes');
    const longest = (type: string): number => [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((n) => media.bodyValidator(op, type).json!('x'.repeat(n)) === true).length;
    expect(longest('text/plain')).toBe(3);
    expect(longest('text/csv')).toBe(5);
    expect(longest('image/png')).toBe(9);
  });

  it('filters undeclared response properties', () => {
    const { op } = contract.match('GET', '/things');
    const filter = contract.responseFilter(op, 200)!;
    const data = { name: 'x', passwordHash: 'secret' };
    expect(filter(data)).toBeUndefined();
    expect(data).toEqual({ name: 'x' });
  });

  it('refuses remote refs at load', () => {
    writeFileSync(join(dir, 'remote.yaml'), "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a: { $ref: 'https://example.com/x.yaml#/a' }\n");
    expect(() => loadOpenApi(join(dir, 'remote.yaml'))).toThrow(OpenApiLoadError);
  });
});

describe('strict JSON parser', () => {
  it('parses ordinary JSON like JSON.parse', () => {
    const text = '{"a":[1,-2.5e3,true,null,"\\u00e9\\n"],"b":{"c":"d"}}';
    expect(parseJsonStrict(text)).toEqual(JSON.parse(text));
  });

  it('refuses duplicate keys, prototype keys and limit breaches', () => {
    expect(() => parseJsonStrict('{"a":1,"a":2}')).toThrow('body.a: duplicate key');
    expect(() => parseJsonStrict('{"x":{"constructor":{"prototype":1}}}')).toThrow('forbidden property name');
    const limits = { maxDepth: 3, maxKeys: 2, maxArrayLength: 2, maxStringLength: 5, maxNumber: 100 };
    expect(() => parseJsonStrict('[[[[1]]]]', limits)).toThrow('nested deeper than 3 levels');
    expect(() => parseJsonStrict('{"a":1,"b":2,"c":3}', limits)).toThrow('more than 2 properties');
    expect(() => parseJsonStrict('[1,2,3]', limits)).toThrow('array longer than 2');
    expect(() => parseJsonStrict('"abcdef"', limits)).toThrow('string longer than 5');
    expect(() => parseJsonStrict('101', limits)).toThrow('number larger than 100');
  });

  it('reads strings exactly as JSON.parse does, escapes and all, and refuses what it refuses', () => {
    // Random strings of plain runs, escapes, raw control characters, non-ASCII and lone backslashes.
    const parts = ['abc', 'Café —', '\\"', '\\\\', '\\/', '\\n', '\\t', '\\u00e9', '\\u12', '\\x', '\n', '\u0001', '"', '\\', ' '];
    const next = seeded(7);
    /** parseJsonStrict gives what JSON.parse gives, and refuses (naming a location) what it refuses. */
    const agrees = (text: string): void => {
      let expected: unknown;
      try {
        expected = JSON.parse(text);
      } catch {
        expect(() => parseJsonStrict(text), text).toThrow(/^body/);
        return;
      }
      expect(parseJsonStrict(text), text).toEqual(expected);
    };
    for (let round = 0; round < 3000; round++) {
      let body = '';
      for (let k = next(8); k > 0; k--) body += parts[next(parts.length)];
      agrees(`{"k":"${body}"}`);
    }
    // Several strings per text, escapes in some of them: read with or without a control character
    // elsewhere in the text (pretty-printed JSON has newlines between members).
    const plain = parts.filter((p) => p !== '\n' && p !== '\u0001');
    for (let round = 0; round < 3000; round++) {
      const str = (): string => {
        let body = '';
        for (let k = next(5); k > 0; k--) body += plain[next(plain.length)];
        return `"${body}"`;
      };
      const text = `{"a":${str()},"b":[${str()},${str()}],"c\\\\d":{"e":${str()}}}`;
      agrees(text);
      agrees(text.replace(',"b"', ',\n  "b"'));
    }
    const limits = { maxDepth: 3, maxKeys: 2, maxArrayLength: 2, maxStringLength: 5, maxNumber: 100 };
    expect(parseJsonStrict('"a\\"\\"b\\n"', limits)).toBe('a""b\n');
    expect(() => parseJsonStrict('"a\\"\\"b\\nc"', limits)).toThrow('string longer than 5');
  });

  it('rejects malformed JSON with a location, never throwing anything else', () => {
    for (const bad of ['{', '{"a":}', '[1,]', '"\\x"', '01', '{"a":1}}', 'nul']) expect(() => parseJsonStrict(bad)).toThrow(/^body/);
  });
});
