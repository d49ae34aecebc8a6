/**
 * Webhook signatures: `X-Rampart-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256(secret, "<t>.<body>")>`.
 * The timestamp inside the MAC lets receivers refuse replays of old deliveries.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-rampart-signature';

/**
 * @example
 *   const header = signWebhook(secret, body, Math.floor(Date.now() / 1000));
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Receiver side: true when `header` is a valid signature of `body` made within `toleranceSeconds`
 * of `nowSeconds`. Constant-time comparison.
 *
 * @example
 *   if (!verifyWebhook(secret, req.headers['x-rampart-signature'], rawBody, Date.now() / 1000)) reject();
 */
export function verifyWebhook(secret: string, header: string | undefined, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (header === undefined) return false;
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header);
  if (m === null) return false;
  const t = Number(m[1]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).slice(-64), 'hex');
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}
