/**
 * End to end through a real gateway: a brute-force run (wrong credentials against an API that
 * checks them) produces exactly one de-duplicated, correctly signed alert at a real webhook
 * receiver; failed deliveries are retried and dead-lettered in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, TEST_LISTENERS } from '../helpers/gateway.js';
import { verifyWebhook } from '../../src/observe/alerts/signature.js';
import type { AlertPayload } from '../../src/observe/alerts/dispatcher.js';
import { manualClock, startAuthUpstream, startObservedGateway, startReceiver } from './helpers.js';

const SECRET = 'webhook-secret-0123456789';

describe('brute force → one signed, de-duplicated alert', () => {
  const clock = manualClock();
  let upstream: Awaited<ReturnType<typeof startAuthUpstream>>;
  let hook: Awaited<ReturnType<typeof startReceiver>>;
  let slack: Awaited<ReturnType<typeof startReceiver>>;
  let gw: Awaited<ReturnType<typeof startObservedGateway>>;

  beforeAll(async () => {
    upstream = await startAuthUpstream();
    hook = await startReceiver();
    slack = await startReceiver(() => 200);
    gw = await startObservedGateway(
      `${TEST_LISTENERS}
upstreams:
  api: { url: "${upstream.url}" }
routes:
  - { id: api, path: "/api/**", upstream: api }
observe:
  detectors:
    bruteForce: { threshold: 5, windowSeconds: 60, blockSeconds: 900 }
  alerts:
    sinks:
      - { name: soc, type: webhook, url: "${hook.url}", secret: "${SECRET}", minSeverity: high, dedupSeconds: 300, backoffMs: 1 }
      - { name: chat, type: slack, url: "${slack.url}", minSeverity: high, backoffMs: 1 }
`,
      clock.now,
    );
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.close();
    await hook.close();
    await slack.close();
  });

  it('legitimate traffic with valid credentials raises nothing', async () => {
    for (let i = 0; i < 20; i++) expect((await call(`${gw.https}/api/items/${i}`, { headers: { authorization: 'Bearer good' } })).status).toBe(200);
    await gw.gateway.observer.flush();
    expect(hook.received).toHaveLength(0);
  });

  it('sends exactly one alert with a valid HMAC signature, then blocks the address', async () => {
    for (let i = 0; i < 12; i++) {
      clock.advance(1000);
      const res = await call(`${gw.https}/api/items`, { headers: { authorization: `Bearer guess-${i}` } });
      // From the 5th failure on, the detector's response blocks the address at the gateway.
      expect(res.status).toBe(i < 5 ? 401 : 403);
    }
    await gw.gateway.observer.flush();
    expect(hook.received).toHaveLength(1);
    const [alert] = hook.received;
    expect(verifyWebhook(SECRET, alert!.headers['x-rampart-signature'] as string, alert!.body, clock.now() / 1000)).toBe(true);
    // A tampered body or another secret does not verify.
    expect(verifyWebhook(SECRET, alert!.headers['x-rampart-signature'] as string, alert!.body.replace('brute', 'brutE'), clock.now() / 1000)).toBe(false);
    expect(verifyWebhook('another-secret-0123456', alert!.headers['x-rampart-signature'] as string, alert!.body, clock.now() / 1000)).toBe(false);
    const payload = JSON.parse(alert!.body) as AlertPayload;
    expect(payload.event).toMatchObject({ type: 'detection.brute_force', severity: 'high', clientIp: '127.0.0.1' });
    expect((payload.event.data!['evidence'] as { requestIds: string[] }).requestIds).toHaveLength(5);
    expect(slack.received).toHaveLength(1);
    expect((JSON.parse(slack.received[0]!.body) as { text: string }).text).toContain('[HIGH] detection.brute_force');
  });

  it('records the detection, the block and the delivery in the audit log', async () => {
    const store = gw.gateway.observer.auditStore!;
    const types = (await store.query({ limit: 100 })).entries.map((e) => e.type);
    expect(types.filter((t) => t === 'detection.brute_force')).toHaveLength(1);
    expect(types).toContain('incident.ip_blocked');
    expect(types.filter((t) => t === 'alert.sent')).toHaveLength(2);
  });

  it('the block expires; a new burst after the de-duplication window alerts again', async () => {
    clock.advance(901_000);
    for (let i = 0; i < 5; i++) expect((await call(`${gw.https}/api/x`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    await gw.gateway.observer.flush();
    expect(hook.received).toHaveLength(2);
  });
});

describe('brute force against the demo route (api_key stage)', () => {
  const clock = manualClock();
  let hook: Awaited<ReturnType<typeof startReceiver>>;
  let gw: Awaited<ReturnType<typeof startObservedGateway>>;

  beforeAll(async () => {
    hook = await startReceiver();
    gw = await startObservedGateway(
      `${TEST_LISTENERS}
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - id: pets
    path: /pets/**
    upstream: pets
    stages:
      - { type: api_key, header: X-API-Key }
observe:
  detectors:
    bruteForce: { threshold: 10, windowSeconds: 60 }
  alerts:
    sinks:
      - { name: soc, type: webhook, url: "${hook.url}", secret: "${SECRET}", backoffMs: 1 }
`,
      clock.now,
    );
  });
  afterAll(async () => {
    await gw.stop();
    await hook.close();
  });

  it('30 guessed keys → exactly one signed alert; requests without a key are not counted as guesses', async () => {
    for (let i = 0; i < 20; i++) expect((await call(`${gw.https}/pets`)).status).toBe(401);
    await gw.gateway.observer.flush();
    expect(hook.received).toHaveLength(0);
    for (let i = 0; i < 30; i++) {
      clock.advance(500);
      expect((await call(`${gw.https}/pets`, { headers: { 'x-api-key': `rk_live_guess${i}xxxxxxxxxxxxxxxx` } })).status).toBe(401);
    }
    await gw.gateway.observer.flush();
    expect(hook.received).toHaveLength(1);
    const [alert] = hook.received;
    expect(verifyWebhook(SECRET, alert!.headers['x-rampart-signature'] as string, alert!.body, clock.now() / 1000)).toBe(true);
    expect((JSON.parse(alert!.body) as AlertPayload).event).toMatchObject({ type: 'detection.brute_force', route: 'pets' });
  });
});

describe('delivery failures', () => {
  const clock = manualClock();
  let down: Awaited<ReturnType<typeof startReceiver>>;
  let gw: Awaited<ReturnType<typeof startObservedGateway>>;

  beforeAll(async () => {
    down = await startReceiver(() => 503);
    gw = await startObservedGateway(
      `${TEST_LISTENERS}
observe:
  alerts:
    sinks:
      - { name: flaky, type: webhook, url: "${down.url}", secret: "${SECRET}", minSeverity: medium, retries: 2, backoffMs: 1, maxPerMinute: 1 }
`,
      clock.now,
    );
  });
  afterAll(async () => {
    await gw.stop();
    await down.close();
  });

  it('retries with backoff, then dead-letters the alert in the audit log; throttled alerts are dead-lettered too', async () => {
    const { emit } = gw.gateway.services;
    emit({ type: 'key.revoked', severity: 'high', source: 'admin', time: clock.now(), consumer: 'alice' });
    emit({ type: 'key.revoked', severity: 'high', source: 'admin', time: clock.now(), consumer: 'bob' });
    emit({ type: 'request.denied', severity: 'low', source: 'cors', time: clock.now() }); // below the sink's severity
    await gw.gateway.observer.flush();
    expect(down.received).toHaveLength(3); // first attempt + 2 retries for alice; bob was throttled
    const dead = (await gw.gateway.observer.auditStore!.query({ types: ['alert.dead_letter'], order: 'asc', limit: 10 })).entries;
    expect(dead).toHaveLength(2);
    const reasons = dead.map((d) => d.reason);
    expect(reasons[0]).toContain('throttled');
    expect(reasons[1]).toContain('HTTP 503');
    const data = JSON.parse(dead[1]!.data!) as { attempts: number; alert: AlertPayload };
    expect(data.attempts).toBe(3);
    expect(data.alert.event.consumer).toBe('alice');
  });
});
