/**
 * Cluster state relayed by the primary (src/server/cluster.ts), with real observers and the hub
 * and worker links wired over an asynchronous, JSON-serialising stand-in for the IPC channel:
 * merged metrics, the timeout, detector blocks on every worker and for late joiners, and the
 * refusal of per-process counters under --workers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { configSchema } from '../../src/config/schema.js';
import { ConfigError } from '../../src/config/load.js';
import { RampartError } from '../../src/core/errors.js';
import { Observer } from '../../src/observe/observer.js';
import { assertSharedCounters, ClusterHub, WorkerLink, type WorkerEnd } from '../../src/server/cluster.js';
import { Gateway } from '../../src/server/gateway.js';
import { tempDir, TEST_LISTENERS } from '../helpers/gateway.js';
import { manualClock } from './helpers.js';

const logger = pino({ level: 'silent' });
const config = configSchema.parse({ observe: { detectors: { enumeration: { windowSeconds: 60, deniedOrMissing: 2, blockSeconds: 60 } } } });
const observers: Observer[] = [];

afterEach(async () => {
  await Promise.all(observers.splice(0).map((o) => o.close()));
});

/** Delivers a message on a later turn, as JSON, like the cluster channel. */
const deliver = (to: (m: unknown) => void, message: unknown): void => {
  setImmediate(() => to(JSON.parse(JSON.stringify(message))));
};

interface Joined {
  observer: Observer;
  link: WorkerLink;
  end: WorkerEnd & { connected: boolean };
}

/** A worker process: an observer whose link talks to `hub`. `deaf`: it never answers metrics collections. */
async function joinCluster(hub: ClusterHub, options: { deaf?: boolean; now?: () => number } = {}): Promise<Joined> {
  const end = {
    connected: true,
    isConnected: () => end.connected,
    send(message: { type: string }): boolean {
      if (!(options.deaf === true && message.type === 'rampart:collect')) deliver((m) => link.receive(m), message);
      return true;
    },
  };
  const link = new WorkerLink((m) => deliver((msg) => hub.receive(end, msg), m), 1000);
  const observer = new Observer(config, { logger, now: options.now, cluster: link });
  observers.push(observer);
  await link.attach(observer);
  return { observer, link, end };
}

/** The two 404s that make the enumeration detector block `ip` (threshold 2 in `config`). */
function provoke(observer: Observer, ip: string, time = Date.now()): void {
  for (let i = 0; i < 2; i++) {
    observer.observeFacts({ time, requestId: `r${i}`, clientIp: ip, route: undefined, status: 404, code: undefined, consumer: undefined, principal: undefined, credential: undefined, objectIds: [], injection: false });
  }
}

async function blockedEvents(observer: Observer): Promise<number> {
  return (await observer.metrics.events.get()).values.find((v) => v.labels.type === 'incident.ip_blocked')?.value ?? 0;
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe('metrics across workers', () => {
  it('the admin worker serves the sum of every worker’s counters; gauges use their aggregator', async () => {
    const hub = new ClusterHub({ maxBlocks: 100 });
    const a = await joinCluster(hub);
    const b = await joinCluster(hub);
    a.observer.metrics.requests.inc({ route: 'api', method: 'GET', status_class: '2xx' }, 3);
    b.observer.metrics.requests.inc({ route: 'api', method: 'GET', status_class: '2xx' }, 4);
    b.observer.metrics.requests.inc({ route: 'other', method: 'POST', status_class: '4xx' });
    a.observer.metrics.latency.observe({ route: 'api', status_class: '2xx' }, 0.003);
    b.observer.metrics.latency.observe({ route: 'api', status_class: '2xx' }, 0.2);
    a.observer.metrics.componentUp.set({ component: 'counters' }, 1);
    b.observer.metrics.componentUp.set({ component: 'counters' }, 0);
    provoke(a.observer, '198.51.100.1');
    await settle();

    const text = await a.link.metrics();
    expect(text).toContain('rampart_requests_total{route="api",method="GET",status_class="2xx"} 7');
    expect(text).toContain('rampart_requests_total{route="other",method="POST",status_class="4xx"} 1');
    expect(text).toContain('rampart_request_duration_seconds_count{route="api",status_class="2xx"} 2');
    expect(text).toContain('rampart_request_duration_seconds_bucket{le="0.005",route="api",status_class="2xx"} 1');
    // both workers hold the one blocked address: max, not 2
    expect(text).toContain('rampart_blocked_addresses 1\n');
    // one worker cannot reach the counters backend: the cluster shows it down
    expect(text).toContain('rampart_component_up{component="counters"} 0');
    // what the endpoint serves through the observer
    expect(await a.observer.metricsText()).toContain('status_class="2xx"} 7');
  });

  it('a worker that does not answer in time makes the scrape fail (503), not show part of the cluster', async () => {
    const hub = new ClusterHub({ maxBlocks: 100, timeoutMs: 50 });
    const a = await joinCluster(hub);
    const deaf = await joinCluster(hub, { deaf: true });
    const started = performance.now();
    const err = await a.link.metrics().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RampartError);
    expect(err).toMatchObject({ status: 503, code: 'RAMPART_SERVICE_UNAVAILABLE', headers: { 'retry-after': '5' } });
    expect((err as Error).message).toMatch(/1 of 2 gateway processes did not send their metrics within 50 ms.*No partial set/);
    expect(performance.now() - started).toBeLessThan(900);

    // once the silent worker has exited, the live ones are the whole cluster again
    hub.gone(deaf.end);
    await expect(a.link.metrics()).resolves.toContain('rampart_requests_total');
  });

  it('a worker exiting during a collection is not waited for', async () => {
    const hub = new ClusterHub({ maxBlocks: 100, timeoutMs: 10_000 });
    const a = await joinCluster(hub);
    const dying = await joinCluster(hub, { deaf: true });
    a.observer.metrics.requests.inc({ route: 'api', method: 'GET', status_class: '2xx' }, 2);
    const pending = a.link.metrics();
    await settle();
    dying.end.connected = false;
    hub.gone(dying.end);
    await expect(pending).resolves.toContain('rampart_requests_total{route="api",method="GET",status_class="2xx"} 2');
  });
});

describe('detector blocks across workers', () => {
  it('a block decided in one worker is enforced by every worker, recorded once', async () => {
    const hub = new ClusterHub({ maxBlocks: 100 });
    const [a, b, c] = [await joinCluster(hub), await joinCluster(hub), await joinCluster(hub)];
    provoke(b.observer, '203.0.113.5');
    expect(b.observer.isBlocked('203.0.113.5')).toBe(true);
    await settle();
    for (const w of [a, b, c]) expect(w.observer.isBlocked('203.0.113.5')).toBe(true);
    expect(a.observer.isBlocked('203.0.113.6')).toBe(false);
    expect([await blockedEvents(a.observer), await blockedEvents(b.observer), await blockedEvents(c.observer)]).toEqual([0, 1, 0]);
  });

  it('a worker that joins later (a restart) has the blocks in force once attached', async () => {
    const hub = new ClusterHub({ maxBlocks: 100 });
    const a = await joinCluster(hub);
    provoke(a.observer, '203.0.113.7');
    await settle();
    const restarted = await joinCluster(hub);
    expect(restarted.observer.isBlocked('203.0.113.7')).toBe(true);
    expect(await blockedEvents(restarted.observer)).toBe(0);
  });

  it('ended blocks are not handed on; the primary keeps at most maxBlocks, the most recent', async () => {
    const clock = manualClock(Date.now());
    const hub = new ClusterHub({ maxBlocks: 2, now: clock.now });
    const a = await joinCluster(hub, { now: clock.now });
    a.link.shareBlock('192.0.2.1', clock.now() + 1000);
    for (const ip of ['192.0.2.2', '192.0.2.3', '192.0.2.4']) a.link.shareBlock(ip, clock.now() + 60_000);
    await settle();
    const late = await joinCluster(hub, { now: clock.now });
    expect(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'].map((ip) => late.observer.isBlocked(ip))).toEqual([false, false, true, true]);

    a.link.shareBlock('192.0.2.9', clock.now() + 1000);
    clock.advance(2000);
    await settle();
    const later = await joinCluster(hub, { now: clock.now });
    expect(later.observer.isBlocked('192.0.2.9')).toBe(false);
    expect(later.observer.isBlocked('192.0.2.4')).toBe(true);
  });
});

describe('blocks in force', () => {
  it('an ended block leaves rampart_blocked_addresses even when its client never comes back', async () => {
    const clock = manualClock(Date.now());
    const observer = new Observer(config, { logger, now: clock.now });
    observers.push(observer);
    provoke(observer, '198.51.100.7', clock.now());
    expect(observer.isBlocked('198.51.100.7')).toBe(true);
    expect(await observer.metricsText()).toContain('rampart_blocked_addresses 1\n');
    clock.advance(61_000);
    // The observer's once-a-second housekeeping, not a request from that address, forgets it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await observer.metricsText()).toContain('rampart_blocked_addresses 0\n');
  });
});

describe('per-process counters under --workers', () => {
  const load = (yaml: Record<string, unknown>): Parameters<typeof assertSharedCounters>[0] => ({
    config: configSchema.parse({ upstreams: { up: { url: 'http://127.0.0.1:1' } }, ...yaml }),
    file: '/etc/rampart.yaml',
    baseDir: '/etc',
  });
  const limited = { routes: [{ id: 'open', path: '/open/**', upstream: 'up' }, { id: 'login', path: '/login', upstream: 'up', stages: [{ type: 'rate-limit', by: ['ip'], rate: { limit: 5, windowSeconds: 60 } }] }] };
  const lockedGlobally = { stages: [{ type: 'lockout', threshold: 5, windowSeconds: 900, baseSeconds: 60, maxSeconds: 3600 }], routes: [{ id: 'api', path: '/api/**', upstream: 'up' }] };

  it('refuses memory counters with a rate-limit or lockout stage when more than one process runs, naming the fix', () => {
    expect(() => assertSharedCounters(load(limited), 3)).toThrow(ConfigError);
    expect(() => assertSharedCounters(load(limited), 3)).toThrow(/3 gateway processes \(--workers 3\) would let 3 × each limit through: routes\[1\] login stages\[0\] \(rate-limit\)\. Use counters: redis:\/\/… .*or run one process/);
    expect(() => assertSharedCounters(load(lockedGlobally), 2)).toThrow(/stages\[0\] \(lockout\)/);
  });

  it('accepts one process, shared counters, or no per-process stage', () => {
    expect(() => assertSharedCounters(load(limited), 1)).not.toThrow();
    expect(() => assertSharedCounters(load({ ...limited, counters: 'redis://127.0.0.1:6379' }), 4)).not.toThrow();
    expect(() => assertSharedCounters(load({ routes: [{ id: 'api', path: '/api/**', upstream: 'up', stages: [{ type: 'cors', origins: ['https://a.example'] }] }] }), 4)).not.toThrow();
  });

  it('a worker refuses a reload that adds a rate-limit stage on memory counters, and keeps serving', async () => {
    const dir = tempDir();
    const configFile = join(dir, 'rampart.yaml');
    const base = `${TEST_LISTENERS}\nupstreams: { up: { url: "http://127.0.0.1:1" } }\n`;
    writeFileSync(configFile, `${base}routes: [{ id: api, path: /api/**, upstream: up }]\n`);
    const gateway = await Gateway.start({ configFile, watch: false, logger, processes: 2 });
    try {
      writeFileSync(configFile, `${base}routes: [{ id: api, path: /api/**, upstream: up, stages: [{ type: rate-limit, by: [ip], rate: { limit: 5, windowSeconds: 60 } }] }]\n`);
      const result = await gateway.reload();
      expect(result.ok).toBe(false);
      expect(result.ok === false && result.problems.join('\n')).toMatch(/counters: memory .* Use counters: redis:\/\//);
      expect(gateway.config.routes[0]!.stages).toEqual([]);
      await expect(Gateway.start({ configFile, watch: false, logger, processes: 2 })).rejects.toThrow(ConfigError);
    } finally {
      await gateway.stop(1000);
    }
  });
});
