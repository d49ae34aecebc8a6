/**
 * XSS reading of markup and script fragments: each case is a shape the engine must read as active
 * content, next to legitimate look-alikes that must pass. Payloads are written for these tests.
 */
import { describe, expect, it } from 'vitest';
import { WafEngine } from '../../src/waf/engine.js';

const engine = new WafEngine();
const verdict = (v: string) => engine.inspect([{ location: 'body', field: 'body.v', value: v }]);

const cases: Array<[string, string[], string[]]> = [
  [
    'a namespace prefix does not hide an active element',
    ['<svg:script>x()</svg:script>', '<v:vmlframe src="https://x.example/a.fml"/>', '<html:iframe src=//x.example>'],
    ['<xs:element name="pet" type="xs:string"/>', '<dc:title>Rex</dc:title>'],
  ],
  [
    'document properties read through brackets or split by comments',
    ['(document)["cookie"]', 'document /* x */ . cookie', 'x=document[`domain`]'],
    ['See the document ["cookie policy"] section', 'Our document (cookie) policy', 'document.title is "Rex"'],
  ],
  [
    'CSS escapes do not hide script in styles',
    ['<p style="width:\\65 xpression(alert(1))">', 'a{b:\\65\\78pression\\28 1\\29}', '<i style="background:\\75rl(\\6a avascript:x)">'],
    ['<p style="font-family:\\5FAE\\8F6F\\96C5\\9ED1">', 'Saved to C:\\expressions\\2024.css'],
  ],
  [
    'legacy IE data binding and behaviours',
    ['<span datasrc="#d" datafld="f" dataformatas="html"></span>', '<?import namespace="v" implementation="#default#x">', '<?xml:namespace prefix="t" ns="urn:x">'],
    ['<span dataformatas="text">', 'Use the import statement: import x from "y"', '<?xml version="1.0"?><pet/>'],
  ],
];

describe('XSS: attack blocked, legitimate twin passes', () => {
  for (const [what, attacks, twins] of cases) {
    it(`${what}: blocks the attacks`, () => {
      expect(attacks.filter((v) => !verdict(v).matches.some((m) => m.family === 'xss'))).toEqual([]);
    });
    it(`${what}: passes the look-alikes`, () => {
      expect(twins.filter((v) => verdict(v).attack)).toEqual([]);
    });
  }
});
