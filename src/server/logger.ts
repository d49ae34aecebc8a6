import pino, { type Logger } from 'pino';

/**
 * The process logger: JSON lines on stdout, written asynchronously (sonic-boom) so logging is never
 * the bottleneck. Secrets are removed by construction: the paths below are censored wherever they appear.
 */
export function createLogger(level: string, destination: number | string = 1): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', 'headers.cookie', 'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'key', 'apiKey'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: destination, sync: false, minLength: 4096 }),
  );
}
