/**
 * SQL grammar of the injection engine: each case is an injection shape the tokeniser/grammar must
 * read as code, next to a legitimate value with the same words or characters that must pass.
 * Payloads are written for these tests (not taken from public corpora).
 */
import { describe, expect, it } from 'vitest';
import { WafEngine } from '../../src/waf/engine.js';
import { queryInputs } from '../../src/waf/inputs.js';

const engine = new WafEngine();
const blocked = (v: string): boolean => {
  const asBody = engine.inspect([{ location: 'body', field: 'body.v', value: v }]);
  const asQuery = engine.inspect(queryInputs(`v=${encodeURIComponent(v)}`));
  return asBody.attack && asQuery.attack && asBody.matches.some((m) => m.family === 'sqli');
};
const passes = (v: string): boolean =>
  !engine.inspect([{ location: 'body', field: 'body.v', value: v }]).attack && !engine.inspect(queryInputs(`v=${encodeURIComponent(v)}`)).attack;

/** Prose after an apostrophe with `n` words before `tail`: a quote context is read to 13 tokens first (see quoteHeadQuiet). */
const afterApostrophe = (n: number, tail: string): string => `Dr. O'Brien ${Array.from({ length: n }, (_, i) => ['said', 'the', 'vet', 'was', 'kind'][i % 5]).join(' ')} ${tail}`;

/** Prose after a later, unclosed double quote: its quote context is read (and let go) before the apostrophe's, whose and/or search then stops where this one's began. */
const LATER_QUOTE = ' "so we walked to the park by the lake with the blue rope every day then came home to sleep';

const cases: Array<[string, string[], string[]]> = [
  [
    'a condition deep in prose after an apostrophe, with a later quote context whose prose is let go first',
    [8, 12, 13, 20].map((n) => afterApostrophe(n, 'and then we left or 2 like 2') + LATER_QUOTE),
    [8, 12, 13, 20].map((n) => afterApostrophe(n, 'and then we left or stayed home') + LATER_QUOTE),
  ],
  [
    'a condition deep in prose after an apostrophe, before, at and past the first tokens of its quote context',
    [...[8, 10, 11, 12, 13, 20].map((n) => afterApostrophe(n, 'and then we left or 2 like 2')), afterApostrophe(15, 'and 5 between 1 and 9')],
    [...[8, 10, 11, 12, 13, 20].map((n) => afterApostrophe(n, 'and then we left or stayed home')), afterApostrophe(15, 'and 5 of us sat between the dogs')],
  ],
  [
    'a line comment ends at the newline, the query goes on',
    ['42#x\nunion select login from accounts', '9 --note\nunion all select 1,2', "z'--c\nor 3=3--"],
    ['Tag #urgent\nunion members meet on Friday', 'Bring snacks -- lots\nand drinks'],
  ],
  [
    'a parenthesised sub-select as the whole value',
    ['(select login from accounts limit 1)', '(select top 3 pass from members)', '((select 7 from dual))', '(select amount*2 from orders limit 1)'],
    ['(select one from the list below)', '(select one)', 'Choose a size (select the best fit)'],
  ],
  [
    'a closed literal continued as an expression that the application quote completes',
    ["bob' - '0", "k'*7 != '3", "z' regexp -abs(2) or '1", 'q" ^ 5 = "4', "p' or '1' xor '9"],
    ["O'Brien - O'Neil", 'He is 5\' - 6\' tall', "Rock 'n' roll", "press '+' to zoom", "'*'", "node.add(' + ');", "path.split('/')[1]", 'the "red" or "blue" one'],
  ],
  [
    'a boolean condition that starts the value',
    ['and ascii(current_user())>64', 'or 4<>4', 'AND (version() like 8)', '|| exists(select 1)'],
    ['and then there were none', 'or whatever you prefer', 'and (maybe) tomorrow'],
  ],
  [
    'comparison operators written as words, negated or prefixed',
    ['1 and 7 not like 3', '9 and 2 sounds like 2', '4 and 1 not between 0 and 2', 'x and -5=-5', '3 and (-2)=(-2)'],
    ['1 and 2 are not like the others', 'Sounds like a plan', 'Between 9 and 5 daily'],
  ],
  [
    'a numeric parameter followed by SQL clauses, comments or UNION',
    ['-3 order by 4', '12 group by 2--', '5 and 1/*', '77--', '8 or 2 #', '-7 union', '-7 union 1,2,3--', '1 - ascii(char(65))', '@@version--'],
    ['3 order by phone', '5 and 1/2 cups', 'pages 12-14', 'Local 7 union hall', '1 - 2 cups of flour', '2--3 days'],
  ],
  [
    'CASE expressions',
    ['case when 2>1 then 1 else 0 end', '(case 3 when 3 then sleep(1) end)'],
    ['In case when you arrive then call me, end of story', 'Case when closed: blue'],
  ],
  [
    'SELECT lists that open with an expression',
    ['select -abs(3), 2 from t where', 'select binary cos(1) from dual'],
    ['select - the best option', 'Select binary options carefully'],
  ],
  [
    'procedures and server variables',
    ['5 union exec xp_cmdshell \'ping x\'', 'mid(@@hostname,1,2)', "9' and charset(current_user())='x"],
    ['The exec team meets at 5', 'Write to @@support (typo)'],
  ],
  [
    'stacked statements with modifiers',
    ['3; delete quick from sessions', "3; load data infile '/tmp/x' into table t", '3; if exists (select 1)'],
    ['Save it; load data later', 'Delete quick notes; if exists, archive them'],
  ],
  [
    'a quote that ends a word closes a literal; one after a space opens a quotation',
    ["rex'#", "7')--", "'-- "],
    ["Soap bar 1 '#", "Item 4 '--"],
  ],
  [
    'clauses after a closed literal need their SQL continuation',
    ["k' procedure analyse()#", "k' having 1=1--", "k' and id in (select 1)--"],
    ["the 'close' procedure is called on exit", "Team 'blue' having fun", 'Minor fixes and improvements in tests. (Vincent)'],
  ],
  [
    'code listings with line numbers are not numeric parameters',
    ['4 - char(65)', '7;'],
    ['85 |   if (info != NULL) {', '1138 |   exit(1);', '12 | while (strcmp(a, b) != 0)'],
  ],
  [
    'typographic apostrophes that a narrowing charset turns into quotes',
    ['7’ or ’a’=’a’--', '‘ or 2>1#'],
    ['O’Brien’s dog', 'I’d say ‘yes’ or ‘no’', 'Rex’s 2nd birthday – 3 o’clock'],
  ],
  [
    'PostgreSQL casts and SQLite/MySQL clauses after a closed literal',
    ["left(secret,1)::int", "9' and md5(pass)::text::bool and 'x", "k'collate nocase--", "k' notnull --", "k' or false; x"],
    ['std::vector<int> v; Foo::bar()', 'See Chapter 2::Intro', "Rex's collar is blue -- nice", 'Ruby: Net::HTTP.get(uri)'],
  ],
  [
    "MySQL's \\N and glued operators",
    ["1'*col is \\N or '1", "n' or@a='@a"],
    ['C:\\New folder\\notes.txt', 'Ping me @alice or @bob'],
  ],
];

describe('SQL grammar: attack blocked, legitimate twin passes', () => {
  for (const [what, attacks, twins] of cases) {
    it(`${what}: blocks the attacks`, () => {
      expect(attacks.filter((v) => !blocked(v))).toEqual([]);
    });
    it(`${what}: passes the look-alikes`, () => {
      expect(twins.filter((v) => !passes(v))).toEqual([]);
    });
  }
});
