/**
 * Content type by magic bytes (file-type), never by the client's Content-Type or file name, plus
 * the text formats file-type leaves out (SVG, HTML, XML, plain text), and the rules that decide
 * whether a declared type or extension contradicts the content.
 */
import { fileTypeFromFile, supportedExtensions } from 'file-type';
import { looksLikeText } from './content-scanner.js';

export interface DetectedType {
  /** Media type from the content, e.g. `image/png`; `application/octet-stream` when unknown. */
  readonly mime: string;
  /** Canonical extension without a dot, '' when unknown. */
  readonly ext: string;
}

const UNKNOWN: DetectedType = { mime: 'application/octet-stream', ext: '' };

/**
 * Detects the type of a spooled file from its bytes. `head` is the first bytes of the file (used
 * for the text formats).
 *
 * @example
 *   await detectType('/tmp/x', head) // { mime: 'image/png', ext: 'png' }
 */
export async function detectType(path: string, head: Buffer): Promise<DetectedType> {
  const found = await fileTypeFromFile(path);
  if (found !== undefined && found.ext !== 'xml') return { mime: found.mime, ext: found.ext };
  if (!looksLikeText(head)) return found === undefined ? UNKNOWN : { mime: found.mime, ext: found.ext };
  return textType(head);
}

function textType(head: Buffer): DetectedType {
  const text = head.toString('utf8', 0, Math.min(head.length, 4096)).replace(/^\ufeff/, '').toLowerCase();
  // Skip the XML declaration, comments, processing instructions and a DOCTYPE to find the root element.
  const root = /^\s*(?:<\?[^>]*>\s*|<!--[\s\S]*?-->\s*|<!doctype[^>[]*(?:\[[\s\S]*?\])?\s*>\s*)*<([a-z][a-z0-9:_-]*)/.exec(text);
  if (root !== null) {
    const el = root[1]!;
    if (el === 'svg' || el.endsWith(':svg')) return { mime: 'image/svg+xml', ext: 'svg' };
    if (el === 'html' || el === 'head' || el === 'body') return { mime: 'text/html', ext: 'html' };
    return { mime: 'application/xml', ext: 'xml' };
  }
  if (/^\s*<(?:!doctype\s+html|script|iframe|div|p|a|img|meta|title)[\s>]/.test(text)) return { mime: 'text/html', ext: 'html' };
  return { mime: 'text/plain', ext: 'txt' };
}

/** Media types a client sends when it does not know or say: no claim to compare. */
const GENERIC_TYPES = new Set(['application/octet-stream', 'binary/octet-stream', 'application/unknown', '']);

/** Names for one format that differ only by convention. */
const MIME_ALIASES: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'application/x-zip-compressed': 'application/zip',
  'application/x-zip': 'application/zip',
  'application/x-gzip': 'application/gzip',
  'text/xml': 'application/xml',
  'application/x-pdf': 'application/pdf',
};
const EXT_ALIASES: Readonly<Record<string, string>> = { jpeg: 'jpg', jpe: 'jpg', jfif: 'jpg', tiff: 'tif', htm: 'html', tgz: 'gz' };

const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set([...supportedExtensions, 'svg', 'html', 'htm', 'xml', 'txt', 'jpeg', 'jpe', 'jfif', 'tiff']);

function canonicalMime(mime: string): string {
  const m = mime.split(';')[0]!.trim().toLowerCase();
  return MIME_ALIASES[m] ?? m;
}

/**
 * Why the declared media type or the file name's extension contradicts the content, or undefined
 * when they agree. A generic declared type and an unknown extension make no claim.
 *
 * @example
 *   mismatch({ mime: 'image/png', ext: 'png' }, 'image/jpeg', 'png') // 'declared image/jpeg'
 *   mismatch({ mime: 'text/plain', ext: 'txt' }, 'image/jpeg', 'jpg') // 'declared image/jpeg'
 */
export function mismatch(detected: DetectedType, declaredType: string | undefined, extension: string): string | undefined {
  const declared = canonicalMime(declaredType ?? '');
  // busboy reports `text/plain` for parts without a Content-Type: only a text file may stay silent.
  const generic = GENERIC_TYPES.has(declared) || (declared === 'text/plain' && detected.mime.startsWith('text/'));
  if (!generic && declared !== canonicalMime(detected.mime)) return `declared ${declared}`;
  const ext = EXT_ALIASES[extension] ?? extension;
  if (ext !== '' && KNOWN_EXTENSIONS.has(extension) && ext !== (EXT_ALIASES[detected.ext] ?? detected.ext)) return `extension .${extension}`;
  return undefined;
}

/**
 * True when `mime` is in the allow list (exact types, `image/*` style wildcards, or `*\/*`).
 *
 * @example
 *   typeAllowed('image/png', ['image/*']) // true
 */
export function typeAllowed(mime: string, allow: readonly string[]): boolean {
  const [major] = mime.split('/');
  return allow.some((a) => a === '*/*' || a === mime || (a.endsWith('/*') && a.slice(0, -2) === major));
}

/** Media types that are markup: inspected for scripts and external entities. */
export function isMarkup(mime: string): boolean {
  return mime === 'image/svg+xml' || mime === 'text/html' || mime === 'application/xml' || mime.endsWith('+xml');
}
