/**
 * Detectors over the stream of finished requests: each raises a security event (`detection.*`)
 * with a severity and the evidence, once per subject per window, and may ask for a response
 * (block the client address for a while).
 */
import type { SecurityEvent } from '../../core/events.js';
import type { DetectorsConfig } from '../config.js';
import { DistinctCounter, WindowCounter } from './window.js';

/** What the detectors learn from one finished request (no secrets: principal names and key prefixes only). */
export interface RequestFacts {
  readonly time: number;
  readonly requestId: string;
  readonly clientIp: string;
  readonly route: string | undefined;
  readonly status: number;
  /** Error code of the denial, if the gateway refused the request. */
  readonly code: string | undefined;
  readonly consumer: string | undefined;
  /** Principal an authentication attempt named (even a failed one). */
  readonly principal: string | undefined;
  /** Non-secret credential id (key prefix, token id) of a successful authentication. */
  readonly credential: string | undefined;
  /** Object ids addressed (route parameter values). */
  readonly objectIds: readonly string[];
  /** An injection detector blocked this request. */
  readonly injection: boolean;
}

/** A detection, as handed to the event pipeline. */
export interface Detection {
  readonly event: SecurityEvent;
  /** Seconds to block `event.clientIp` for (0: no block). */
  readonly blockSeconds: number;
}

/**
 * @example
 *   const d = new Detectors(config.observe.detectors, (det) => services.emit(det.event));
 *   d.observe(facts);
 */
export class Detectors {
  private readonly bruteForce: WindowCounter;
  private readonly stuffing: DistinctCounter;
  private readonly objects: DistinctCounter;
  private readonly deniedOrMissing: WindowCounter;
  private readonly injection: WindowCounter;
  private readonly leakedKey: DistinctCounter;
  private bucketStart = -1;
  private bucketCount = 0;
  private baseline = 0;
  private buckets = 0;
  private anomalyRaised = false;

  constructor(private readonly cfg: DetectorsConfig, private readonly raise: (d: Detection) => void) {
    const maxKeys = cfg.maxTracked;
    this.bruteForce = new WindowCounter({ maxKeys, windowMs: cfg.bruteForce.windowSeconds * 1000, threshold: cfg.bruteForce.threshold });
    this.stuffing = new DistinctCounter({ maxKeys, windowMs: cfg.credentialStuffing.windowSeconds * 1000, threshold: cfg.credentialStuffing.distinct });
    this.objects = new DistinctCounter({ maxKeys, windowMs: cfg.enumeration.windowSeconds * 1000, threshold: cfg.enumeration.distinctObjects });
    this.deniedOrMissing = new WindowCounter({ maxKeys, windowMs: cfg.enumeration.windowSeconds * 1000, threshold: cfg.enumeration.deniedOrMissing });
    this.injection = new WindowCounter({ maxKeys, windowMs: cfg.injection.windowSeconds * 1000, threshold: cfg.injection.threshold });
    this.leakedKey = new DistinctCounter({ maxKeys, windowMs: cfg.leakedKey.windowSeconds * 1000, threshold: cfg.leakedKey.distinctIps });
  }

  observe(f: RequestFacts): void {
    const { cfg } = this;
    // 401 with a presented-but-refused credential; a request with no credential at all is not an attempt.
    const authFailure = f.status === 401 && f.code !== 'RAMPART_AUTH_REQUIRED';
    if (authFailure && cfg.bruteForce.enabled) {
      const hit = this.bruteForce.hit(f.clientIp, f.time, f.requestId);
      if (hit !== undefined) {
        this.emit('brute_force', cfg.bruteForce, f, `${hit.count} failed authentications from ${f.clientIp} within ${cfg.bruteForce.windowSeconds} s`, `ip:${f.clientIp}`, {
          failures: hit.count,
          requestIds: hit.evidence,
        });
      }
    }
    if (authFailure && cfg.credentialStuffing.enabled && f.principal !== undefined) {
      const tried = this.stuffing.hit(f.clientIp, f.principal, f.time);
      if (tried !== undefined) {
        this.emit('credential_stuffing', cfg.credentialStuffing, f, `${tried.length} distinct principals tried from ${f.clientIp} within ${cfg.credentialStuffing.windowSeconds} s`, `ip:${f.clientIp}`, {
          principals: tried.slice(-10),
        });
      }
    }
    if (cfg.enumeration.enabled) {
      const subject = f.consumer !== undefined ? `consumer:${f.consumer}` : `ip:${f.clientIp}`;
      if (f.objectIds.length > 0 && f.route !== undefined) {
        const ids = this.objects.hit(subject, `${f.route}:${f.objectIds.join('/')}`, f.time);
        if (ids !== undefined) {
          this.emit('enumeration', cfg.enumeration, f, `${subject} addressed ${ids.length} distinct objects within ${cfg.enumeration.windowSeconds} s`, subject, { objects: ids.slice(-10) });
        }
      }
      if (f.status === 403 || f.status === 404) {
        const hit = this.deniedOrMissing.hit(subject, f.time, f.requestId);
        if (hit !== undefined) {
          this.emit('enumeration', cfg.enumeration, f, `${subject} received ${hit.count} forbidden/not-found answers within ${cfg.enumeration.windowSeconds} s`, subject, {
            answers: hit.count,
            requestIds: hit.evidence,
          });
        }
      }
    }
    if (f.injection && cfg.injection.enabled) {
      const hit = this.injection.hit(f.clientIp, f.time, f.requestId);
      if (hit !== undefined) {
        this.emit('injection_campaign', cfg.injection, f, `${hit.count} injection attempts blocked from ${f.clientIp} within ${cfg.injection.windowSeconds} s`, `ip:${f.clientIp}`, {
          blocked: hit.count,
          requestIds: hit.evidence,
        });
      }
    }
    if (f.credential !== undefined && f.status < 400 && cfg.leakedKey.enabled) {
      const ips = this.leakedKey.hit(f.credential, f.clientIp, f.time);
      if (ips !== undefined) {
        this.emit('leaked_key', cfg.leakedKey, f, `credential ${f.credential} used from ${ips.length} addresses within ${cfg.leakedKey.windowSeconds} s`, `credential:${f.credential}`, {
          credential: f.credential,
          addresses: ips.slice(-10),
          recommendedAction: 'suspend_key',
        });
      }
    }
    if (cfg.trafficAnomaly.enabled) this.countTraffic(f);
  }

  /** Requests per bucket against an exponentially weighted baseline of earlier buckets. */
  private countTraffic(f: RequestFacts): void {
    const c = this.cfg.trafficAnomaly;
    const size = c.bucketSeconds * 1000;
    const bucket = Math.floor(f.time / size);
    if (bucket !== this.bucketStart) {
      if (this.bucketStart >= 0) {
        // Empty buckets in between count as zero traffic.
        const gap = Math.min(bucket - this.bucketStart - 1, 1000);
        this.learn(this.bucketCount);
        for (let i = 0; i < gap; i++) this.learn(0);
      }
      this.bucketStart = bucket;
      this.bucketCount = 0;
      this.anomalyRaised = false;
    }
    this.bucketCount++;
    if (this.anomalyRaised || this.buckets < c.warmupBuckets || this.bucketCount < c.minRequests) return;
    if (this.bucketCount > c.factor * Math.max(this.baseline, 1)) {
      this.anomalyRaised = true;
      this.raise({
        blockSeconds: 0,
        event: {
          type: 'detection.traffic_anomaly',
          severity: c.severity,
          source: 'detector',
          reason: `${this.bucketCount} requests in ${c.bucketSeconds} s against a baseline of ${this.baseline.toFixed(1)}`,
          time: f.time,
          data: { detector: 'traffic_anomaly', dedupKey: 'traffic_anomaly', requests: this.bucketCount, baseline: Math.round(this.baseline * 10) / 10, bucketSeconds: c.bucketSeconds },
        },
      });
    }
  }

  private learn(count: number): void {
    this.baseline = this.buckets === 0 ? count : 0.8 * this.baseline + 0.2 * count;
    this.buckets++;
  }

  private emit(
    detector: string,
    rule: { severity: SecurityEvent['severity']; windowSeconds: number; blockSeconds: number },
    f: RequestFacts,
    reason: string,
    subject: string,
    evidence: Record<string, unknown>,
  ): void {
    this.raise({
      blockSeconds: subject.startsWith('ip:') || subject.startsWith('consumer:') ? rule.blockSeconds : 0,
      event: {
        type: `detection.${detector}`,
        severity: rule.severity,
        source: 'detector',
        reason,
        time: f.time,
        requestId: f.requestId,
        clientIp: f.clientIp,
        consumer: f.consumer,
        route: f.route,
        data: { detector, subject, dedupKey: `${detector}:${subject}`, windowSeconds: rule.windowSeconds, evidence },
      },
    });
  }
}
