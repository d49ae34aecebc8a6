/**
 * Reports: SARIF validates against the 2.1.0 schema, JUnit counts failures per rule, and the
 * self-contained HTML report renders in headless Chromium with its summary, evidence escaped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { chromium } from 'playwright-core';
import { startNotesApi, type NotesApi } from '../fixtures/scanner/notes-api.js';
import { runScan } from '../../src/scanner/scan.js';
import { loadSpecFile } from '../../src/scanner/openapi.js';
import { parseIdentity } from '../../src/scanner/http.js';
import { parseFormats, writeReports } from '../../src/scanner/reporters/index.js';
import { toSarif } from '../../src/scanner/reporters/sarif.js';
import { toJunit } from '../../src/scanner/reporters/junit.js';
import { HOSTILE } from '../../src/scanner/canary.js';
import { summarize, type Report } from '../../src/scanner/types.js';
import { ROOT, tempDir } from '../helpers/gateway.js';

let api: NotesApi;
let report: Report;
beforeAll(async () => {
  api = await startNotesApi({ vulnerable: true });
  report = await runScan({
    spec: loadSpecFile(fileURLToPath(new URL('../fixtures/scanner/notes.openapi.yaml', import.meta.url))),
    target: api.url,
    rate: 1000,
    identities: [parseIdentity(`alice=Authorization:Bearer ${api.tokens.alice}`), parseIdentity(`bob=Authorization:Bearer ${api.tokens.bob}`)],
    only: ['API1', 'API8', 'API9', 'API10'],
  });
});
afterAll(() => api.close());

/** The official schema (vendored, see test/fixtures/sarif/README.md) compiled with ajv. */
function sarifValidator(): ReturnType<Ajv['compile']> {
  const schema = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/sarif/sarif-schema-2.1.0.json'), 'utf8')) as Record<string, unknown>;
  // Draft-04 markers removed: the keywords the schema uses mean the same in ajv's draft-07.
  delete schema.$schema;
  delete schema.id;
  // The schema's language-tag pattern is not valid with the regex "u" flag.
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

describe('SARIF', () => {
  it('validates against the SARIF 2.1.0 schema', () => {
    const validate = sarifValidator();
    const sarif = toSarif(report);
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const results = (sarif.runs as { results: { ruleId: string; level: string }[] }[])[0]!.results;
    expect(results).toHaveLength(report.findings.length);
    expect(results.find((r) => r.ruleId === 'API1-bola-read')?.level).toBe('error');
  });

  it('rejects a broken log (the validator is not vacuous)', () => {
    const validate = sarifValidator();
    expect(validate({ version: '2.1.0', runs: [{ results: [] }] })).toBe(false);
  });
});

describe('JUnit', () => {
  it('has one suite per category and one failure per finding', () => {
    const xml = toJunit(report);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(xml.match(/<testsuite /g)).toHaveLength(4);
    expect(xml.match(/<failure /g)).toHaveLength(report.findings.length);
    expect(xml).not.toContain(HOSTILE.html);
  });
});

describe('formats', () => {
  it('parses format lists and refuses unknown ones', () => {
    expect(parseFormats('json, sarif,json')).toEqual(['json', 'sarif']);
    expect(() => parseFormats('json,pdf')).toThrow(/unknown format "pdf"/);
  });
});

describe('HTML', () => {
  it('escapes evidence: no markup from the target survives', () => {
    const dir = tempDir();
    const [file] = writeReports(report, ['html'], dir);
    const html = readFileSync(file!, 'utf8');
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;');
  });

  it('renders in headless Chromium with the summary by severity and category', async () => {
    if (!existsSync('/usr/bin/chromium')) execFileSync('bash', [join(ROOT, 'scripts/ensure-chromium.sh')], { stdio: 'inherit', timeout: 600_000 });
    const dir = tempDir();
    const [file] = writeReports(report, ['html'], dir);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`file://${file}`);
      const { bySeverity, byCategory } = summarize(report.findings);
      expect(await page.textContent('#total')).toBe(`${report.findings.length} findings`);
      expect(await page.textContent('[data-severity="high"]')).toBe(String(bySeverity.high));
      expect(await page.textContent('[data-category="API1"]')).toBe(String(byCategory.API1));
      expect(await page.locator('article.finding').count()).toBe(report.findings.length);
      await page.screenshot({ path: join(dir, 'report.png'), fullPage: false });
      expect(existsSync(join(dir, 'report.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
