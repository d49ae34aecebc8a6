/**
 * Runs one gateway from a config file in its own process and prints `{"ports":…}` on stdout once it
 * listens (logs go to stderr), so a benchmark can measure the gateway alone (its RSS, its CPU) apart from the load generator.
 *
 *   node --import tsx bench/support/gateway-process.ts CONFIG
 */
import pino from 'pino';
import { Gateway } from '../../src/server/gateway.js';

const configFile = process.argv[2];
if (configFile === undefined) {
  console.error('usage: gateway-process.ts CONFIG');
  process.exit(2);
}
const gateway = await Gateway.start({ configFile, watch: false, logger: pino({ level: 'warn' }, pino.destination(2)) });
process.stdout.write(`${JSON.stringify({ ports: gateway.ports })}\n`);
const stop = (): void => void gateway.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
