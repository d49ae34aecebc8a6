import type { Logger } from 'pino';
import type { EventSink } from '../core/events.js';
import type { CounterStore } from './counter-store.js';
import { MemoryCounterStore } from './memory/counter-store.js';
import { RedisCounterStore } from './redis/counter-store.js';

/**
 * Builds the counters backend named by the config's `counters:` value.
 *
 * @example
 *   const counters = openCounterStore('redis://127.0.0.1:6379?prefix=rampart:', { logger, emit });
 */
export function openCounterStore(spec: string, deps: { logger: Logger; emit: EventSink }): CounterStore {
  if (spec === 'memory') return new MemoryCounterStore();
  return new RedisCounterStore({ url: spec, logger: deps.logger, emit: deps.emit });
}
