/**
 * Secret redaction by construction: log lines and events are built from allow-listed fields, and
 * every free-form part that could carry a credential (query strings, path parameters, event data,
 * reasons) goes through one {@link Redactor}.
 */

/** Field names that always hold secrets, whatever the configuration says. */
const SENSITIVE = /authorization|cookie|passw|pwd|secret|token|api[-_]?key|apikey|session|credential|private[-_]?key|signature|otp|^pin$|^sig$|^code$|access[-_]?key|^auth$|^key$|jwt|bearer/i;

/** Credentials that show up inside free text (a reason quoting a header, say). */
const INLINE_SECRETS = /\b(Bearer|Basic|Digest|ApiKey|Token)\s+[A-Za-z0-9._~+/=-]{4,}|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/gi;

export const REDACTED = '[redacted]';

const MAX_STRING = 512;
const MAX_DEPTH = 4;
const MAX_KEYS = 50;

/**
 * @example
 *   const r = new Redactor({ redact: ['ssn'], queryValues: ['page'] });
 *   r.query('page=2&token=abc&ssn=1') // 'page=2&token=[redacted]&ssn=[redacted]'
 */
export class Redactor {
  private readonly extra: ReadonlySet<string>;
  private readonly queryValues: ReadonlySet<string>;

  constructor(options: { redact?: readonly string[]; queryValues?: readonly string[] } = {}) {
    this.extra = new Set((options.redact ?? []).map((n) => n.toLowerCase()));
    this.queryValues = new Set(options.queryValues ?? []);
  }

  isSensitive(name: string): boolean {
    return SENSITIVE.test(name) || this.extra.has(name.toLowerCase());
  }

  /** Query string with values kept only for allow-listed, non-sensitive parameters. */
  query(query: string): string {
    let out = '';
    for (const pair of query.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const rawName = (eq === -1 ? pair : pair.slice(0, eq)).slice(0, 64);
      const name = safeDecode(rawName);
      let value = '';
      if (eq !== -1) value = this.queryValues.has(name) && !this.isSensitive(name) ? `=${this.text(pair.slice(eq + 1, eq + 1 + 128))}` : `=${REDACTED}`;
      out += `${out === '' ? '' : '&'}${this.isSensitive(name) ? rawName.replace(/[^\w.-]/g, '_') : rawName}${value}`;
    }
    return out;
  }

  /**
   * Positions of the path segments that hold sensitive parameters in a route pattern
   * (`/reset/{token}` → [2]); empty for most routes, so redaction then costs nothing.
   */
  sensitiveSegments(pattern: string): readonly number[] {
    const out: number[] = [];
    pattern.split('/').forEach((seg, i) => {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(seg);
      if (m !== null && this.isSensitive(m[1]!)) out.push(i);
    });
    return out;
  }

  /** Path with the segments at `positions` replaced (see {@link sensitiveSegments}). */
  path(path: string, positions: readonly number[]): string {
    if (positions.length === 0) return path;
    const segs = path.split('/');
    for (const i of positions) if (i < segs.length) segs[i] = REDACTED;
    return segs.join('/');
  }

  /** Free text with inline credentials removed and length capped. */
  text(value: string): string {
    const capped = value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
    return capped.replace(INLINE_SECRETS, REDACTED);
  }

  /** Deep copy of structured data with sensitive keys redacted, strings cleaned, size bounded. */
  data(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
    if (depth >= MAX_DEPTH) return '[truncated]';
    if (Array.isArray(value)) return value.slice(0, MAX_KEYS).map((v) => this.data(v, depth + 1));
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [k, v] of Object.entries(value)) {
      if (n++ >= MAX_KEYS) break;
      out[k] = this.isSensitive(k) ? REDACTED : this.data(v, depth + 1);
    }
    return out;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
