/**
 * Like `startGateway`, but keeps every security event the gateway emits (for asserting reasons that
 * never reach clients).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Gateway } from '../../src/server/gateway.js';
import type { SecurityEvent } from '../../src/core/events.js';
import { tempDir, type TestGateway } from './gateway.js';

export interface CapturingGateway extends TestGateway {
  readonly events: SecurityEvent[];
}

export async function startCapturingGateway(yaml: string, options: { dir?: string } = {}): Promise<CapturingGateway> {
  const dir = options.dir ?? tempDir();
  const configFile = join(dir, 'rampart.yaml');
  writeFileSync(configFile, yaml);
  const events: SecurityEvent[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line === '') continue;
        const entry = JSON.parse(line) as { event?: SecurityEvent };
        if (entry.event !== undefined) events.push(entry.event);
      }
      done();
    },
  });
  const gateway = await Gateway.start({ configFile, watch: false, logger: pino({ level: 'info' }, sink) });
  return {
    gateway,
    dir,
    configFile,
    events,
    https: `https://127.0.0.1:${gateway.ports.https}`,
    http: `http://127.0.0.1:${gateway.ports.http}`,
    admin: `http://127.0.0.1:${gateway.ports.admin}`,
    stop: () => gateway.stop(),
  };
}
