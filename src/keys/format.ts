/**
 * Credential format: `<kind>_<body>_<check>`, e.g. `rk_live_3ZyF…_1vA9kC`. `body` is 28 base62
 * characters (≥ 166 bits from the CSPRNG); `check` is the CRC-32 of `<kind>_<body>` in 6 base62
 * characters. The fixed, recognisable prefix lets secret scanners find leaked keys, and the
 * checksum lets the gateway refuse mistyped or forged-at-random keys before any store lookup.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** Credential kinds: API keys per environment, and admin tokens. */
export type CredentialKind = 'rk_live' | 'rk_test' | 'rk_admin';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 28 base62 characters = 166.7 bits. */
const BODY_LENGTH = 28;
const CHECK_LENGTH = 6;
/** Characters of the credential kept as its non-secret, displayable prefix. */
const PREFIX_BODY_CHARS = 8;
const SHAPE = /^(rk_live|rk_test|rk_admin)_([0-9A-Za-z]{28})_([0-9A-Za-z]{6})$/;
/** Longest string worth parsing: anything longer is malformed without further work. */
export const MAX_CREDENTIAL_LENGTH = 64;

function base62(bytes: Buffer, length: number): string {
  // Rejection sampling keeps every character uniform (no modulo bias).
  let out = '';
  let pool = bytes;
  let i = 0;
  while (out.length < length) {
    if (i === pool.length) {
      pool = randomBytes(length * 2);
      i = 0;
    }
    const b = pool[i++]! & 0x3f;
    if (b < 62) out += ALPHABET[b];
  }
  return out;
}

function encodeChecksum(value: number): string {
  let n = value >>> 0;
  let out = '';
  for (let i = 0; i < CHECK_LENGTH; i++) {
    out = ALPHABET[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function checksum(head: string): string {
  return encodeChecksum(crc32(head));
}

/**
 * Generates a new credential of `kind`.
 *
 * @example
 *   generateCredential('rk_live') // 'rk_live_8fJ2…_0aZ19Q'
 */
export function generateCredential(kind: CredentialKind): string {
  const head = `${kind}_${base62(randomBytes(BODY_LENGTH * 2), BODY_LENGTH)}`;
  return `${head}_${checksum(head)}`;
}

export type ParsedCredential =
  | { readonly ok: true; readonly kind: CredentialKind; readonly prefix: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks shape and checksum without any store lookup. `prefix` is the non-secret display id
 * (`rk_live_8fJ2abcd`) used in lists, logs and events.
 *
 * @example
 *   parseCredential('rk_live_x') // { ok: false, reason: 'malformed credential' }
 */
export function parseCredential(value: string): ParsedCredential {
  if (value.length > MAX_CREDENTIAL_LENGTH) return { ok: false, reason: 'credential too long' };
  const m = SHAPE.exec(value);
  if (m === null) return { ok: false, reason: 'malformed credential' };
  // The check digits are read as a number rather than the CRC written out as text: the same test
  // (a value below 62⁶ has one 6-digit form), without building a string on every request.
  if (decodeChecksum(m[3]!) !== crc32(value.slice(0, value.length - CHECK_LENGTH - 1)) >>> 0) return { ok: false, reason: 'credential checksum mismatch' };
  return { ok: true, kind: m[1] as CredentialKind, prefix: credentialPrefix(value) };
}

/** The number that 6 base62 digits (already matched by SHAPE) spell. */
function decodeChecksum(digits: string): number {
  let n = 0;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    n = n * 62 + (c <= 57 ? c - 48 : c <= 90 ? c - 55 : c - 61);
  }
  return n;
}

/** The displayable, non-secret start of a credential (kind plus 8 characters: 47 bits, not enough to guess the rest). */
export function credentialPrefix(value: string): string {
  const kindEnd = value.indexOf('_', 3);
  return value.slice(0, kindEnd + 1 + PREFIX_BODY_CHARS);
}
