/**
 * The quick start's photo upload (`POST /pets/{id}/photo` in rampart.yaml): real images pass to the
 * demo API once scanned by clamd at 127.0.0.1:3310; without a clamd there, a clear 503 problem.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ClamdClient } from '../../../src/upload/clamd.js';
import { call, ROOT, startGateway, type TestGateway } from '../../helpers/gateway.js';
import { EICAR } from '../../helpers/clamd.js';
import { multipart, png } from '../../helpers/files.js';

let gw: TestGateway;
let clamdRuns = false;

beforeAll(async () => {
  const config = parse(readFileSync(join(ROOT, 'rampart.yaml'), 'utf8')) as Record<string, unknown>;
  config.listeners = { https: { port: 0, host: '127.0.0.1' }, http: { port: 0, host: '127.0.0.1' } };
  config.admin = { port: 0 };
  gw = await startGateway(stringify(config));
  // The quick start may have a clamd on its usual port on a developer's machine: both outcomes are the contract.
  clamdRuns = await new ClamdClient({ address: 'tcp://127.0.0.1:3310', timeoutMs: 1000, maxBytes: 1 }).ping();
});
afterAll(() => gw?.stop());

describe('quick start photo upload', () => {
  it('routes POST /pets/{id}/photo through the upload policy', async () => {
    const { body, contentType } = multipart([{ name: 'photo', filename: 'rex.png', type: 'image/png', data: png() }]);
    const res = await call(`${gw.https}/pets/1/photo`, { method: 'POST', headers: { 'content-type': contentType }, body });
    if (clamdRuns) {
      expect(res.status).toBe(201);
    } else {
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'RAMPART_UPLOAD_SCANNER_UNAVAILABLE', detail: expect.stringContaining('malware scanner is unavailable') });
    }
  });

  it('refuses what is not an image before any scan', async () => {
    const { body, contentType } = multipart([{ name: 'photo', filename: 'rex.jpg', type: 'image/jpeg', data: EICAR }]);
    const res = await call(`${gw.https}/pets/1/photo`, { method: 'POST', headers: { 'content-type': contentType }, body });
    expect(res.status).toBe(415);
  });
});
