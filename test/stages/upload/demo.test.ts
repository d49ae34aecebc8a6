/**
 * The quick start's photo upload (`POST /pets/{id}/photo` in rampart.yaml): real images pass to the
 * demo API once scanned by clamd at 127.0.0.1:3310; without a clamd there, a clear 503 problem.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdClient } from '../../../src/upload/clamd.js';
import { call, quickStartConfig, startGateway, type TestGateway } from '../../helpers/gateway.js';
import { EICAR } from '../../helpers/clamd.js';
import { multipart, png } from '../../helpers/files.js';

let gw: TestGateway;
let clamdRuns = false;
let key = '';

beforeAll(async () => {
  gw = await startGateway(quickStartConfig());
  // The photo route authenticates and authorizes like the rest of the demo: a consumer allowed to write pets.
  const { store, keys } = gw.gateway.services;
  const now = Date.now();
  await store.createConsumer({ id: 'photo-owner', name: 'photo-owner', roles: ['user'], scopes: [], tenant: null, metadata: {}, status: 'active', createdAt: now, updatedAt: now });
  ({ key } = await keys.create({ consumer: (await store.getConsumer('photo-owner'))!, scopes: null, roles: null, expiresAt: null, createdBy: 'test' }));
  // The quick start may have a clamd on its usual port on a developer's machine: both outcomes are the contract.
  clamdRuns = await new ClamdClient({ address: 'tcp://127.0.0.1:3310', timeoutMs: 1000, maxBytes: 1 }).ping();
});
afterAll(() => gw?.stop());

describe('quick start photo upload', () => {
  it('routes POST /pets/{id}/photo through the upload policy', async () => {
    const { body, contentType } = multipart([{ name: 'photo', filename: 'rex.png', type: 'image/png', data: png() }]);
    const res = await call(`${gw.https}/pets/1/photo`, { method: 'POST', headers: { 'content-type': contentType, 'x-api-key': key }, body });
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
    const res = await call(`${gw.https}/pets/1/photo`, { method: 'POST', headers: { 'content-type': contentType, 'x-api-key': key }, body });
    expect(res.status).toBe(415);
  });

  it('refuses uploads without a key before reading the body', async () => {
    const { body, contentType } = multipart([{ name: 'photo', filename: 'rex.png', type: 'image/png', data: png() }]);
    const res = await call(`${gw.https}/pets/1/photo`, { method: 'POST', headers: { 'content-type': contentType }, body });
    expect(res.status).toBe(401);
  });
});
