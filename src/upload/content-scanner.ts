/**
 * Streaming search for active content: scripts and event handlers in markup, XML external entities,
 * and the markers of a second format hidden inside a file (polyglots such as a JPEG that is also an
 * HTML page or a PHP script). Fed chunk by chunk while a file is spooled, so no file is held whole.
 */

/** What a finding means for the decision. */
export type FindingKind =
  /** Client-side script: `<script`, `javascript:` URLs, event handler attributes, embedded documents. */
  | 'script'
  /** XML entity declarations or an external DTD (XXE, billion laughs). */
  | 'xxe'
  /** Server-side script markers (`<?php`, `<%@`, `<jsp:`). */
  | 'server-script'
  /** The start of an HTML or SVG document inside a non-markup file. */
  | 'markup';

export interface Finding {
  readonly kind: FindingKind;
  /** Short name of the marker, for events (never file content). */
  readonly marker: string;
  /** Seen in the first 64 KiB: the part that browsers' content sniffing reads. */
  readonly head: boolean;
}

interface Marker {
  readonly kind: FindingKind;
  readonly marker: string;
  readonly re: RegExp;
  /** Weak markers are only meaningful in text: in compressed binary data they occur by chance. */
  readonly weak: boolean;
}

const MARKERS: readonly Marker[] = [
  { kind: 'script', marker: 'script-tag', re: /<script[\s>/]/, weak: false },
  { kind: 'script', marker: 'javascript-url', re: /(?:java|vb)script\s*:/, weak: false },
  { kind: 'script', marker: 'embedded-document', re: /<(?:iframe|embed|object|foreignobject|handler)[\s>/]/, weak: false },
  { kind: 'server-script', marker: 'php', re: /<\?php[\s]/, weak: false },
  { kind: 'server-script', marker: 'jsp', re: /<jsp:[a-z]/, weak: false },
  // Three-byte markers occur by chance in compressed data (about 60 times per GiB): text only.
  { kind: 'server-script', marker: 'php-echo', re: /<\?=/, weak: true },
  { kind: 'server-script', marker: 'asp', re: /<%[@=!]/, weak: true },
  { kind: 'markup', marker: 'html', re: /<(?:html|body|!doctype\s+html)[\s>]/, weak: false },
  { kind: 'markup', marker: 'svg', re: /<svg[\s>]/, weak: false },
  { kind: 'xxe', marker: 'entity', re: /<!entity/, weak: false },
  { kind: 'xxe', marker: 'external-dtd', re: /<!doctype[^>[]*\s(?:system|public)\s/, weak: false },
  { kind: 'script', marker: 'event-handler', re: /[\s"'/]on[a-z]{3,40}\s*=/, weak: true },
  { kind: 'script', marker: 'external-reference', re: /(?:xlink:)?href\s*=\s*["']?\s*(?:https?:|file:|\/\/|data:text\/html)/, weak: true },
  { kind: 'script', marker: 'xsl-stylesheet', re: /<\?xml-stylesheet/, weak: true },
];

/** Bytes kept from the previous chunk so markers split across chunks are still seen. */
const OVERLAP = 256;
/** Findings starting before this offset are flagged `head`. */
const HEAD = 64 * 1024;

/**
 * Accumulates findings over a stream of chunks.
 *
 * @example
 *   const s = new ContentScanner();
 *   s.push(Buffer.from('<svg onload="alert(1)">'));
 *   s.findings() // [{ kind: 'markup', marker: 'svg', head: true }, { kind: 'script', marker: 'event-handler', head: true }]
 */
export class ContentScanner {
  private tail = '';
  private offset = 0;
  private readonly found = new Map<string, Finding>();
  /** Decided on the first chunk: text files get the weak markers too. */
  private text: boolean | undefined;

  push(chunk: Buffer): void {
    this.text ??= looksLikeText(chunk);
    // latin1 maps bytes 1:1 to code units, so offsets and markers stay byte-exact and cheap.
    const window = this.tail + chunk.toString('latin1').toLowerCase();
    const windowStart = this.offset - this.tail.length;
    for (const m of MARKERS) {
      // The first sighting has the lowest offset: later ones add nothing.
      if (this.found.has(m.marker) || (m.weak && !this.text)) continue;
      const at = window.search(m.re);
      if (at !== -1) this.found.set(m.marker, { kind: m.kind, marker: m.marker, head: windowStart + at < HEAD });
    }
    this.offset += chunk.length;
    this.tail = window.slice(-OVERLAP);
  }

  findings(): Finding[] {
    return [...this.found.values()];
  }
}

/** No NUL and few other controls in the first chunk: a text format (markup, script, CSV…). */
export function looksLikeText(head: Buffer): boolean {
  const n = Math.min(head.length, 8192);
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i]!;
    if (b === 0) return false;
    if (b < 9 || (b > 13 && b < 32)) odd++;
  }
  return odd <= n / 100;
}
