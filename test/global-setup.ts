/**
 * Runs once before the tests: makes sure PostgreSQL and Redis answer (starting or installing them
 * through scripts/ensure-services.sh when they do not), and publishes their addresses.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../scripts/ensure-services.sh', import.meta.url));
  execFileSync('bash', [script], { stdio: 'inherit' });
  process.env.RAMPART_TEST_PG_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
  process.env.RAMPART_TEST_REDIS_URL ??= 'redis://127.0.0.1:6379';
}
