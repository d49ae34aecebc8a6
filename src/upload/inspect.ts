/**
 * The content decision for one spooled file: detected type against the allow list and the client's
 * claims, active content in markup, polyglots, and archives. Scanning for malware is separate
 * (clamd.ts) because it depends on a daemon; everything here is local and deterministic.
 */
import { open } from 'node:fs/promises';
import { RampartError } from '../core/errors.js';
import { archiveKind, ArchiveViolation, inspectArchive, type ArchiveLimits, type ArchiveReport } from './archive.js';
import { detectType, isMarkup, mismatch, typeAllowed, type DetectedType } from './sniff.js';
import type { SpooledFile } from './spool.js';

export interface ContentPolicy {
  /** Detected media types accepted (`image/png`, `image/*`, `*\/*`). */
  readonly allow: readonly string[];
  /** Refuse when the declared type or the extension contradicts the content. */
  readonly refuseMismatch: boolean;
  readonly archives: ArchiveLimits;
}

/** What the inspection found about an accepted file. */
export interface Inspection {
  readonly detected: DetectedType;
  readonly archive?: ArchiveReport;
}

/** Formats whose readers ignore leading or trailing bytes: where a second format can hide. */
const TAIL_WINDOW = 65_557;

/**
 * Inspects a spooled file; throws a RampartError (415/422) naming the rule that refused it.
 *
 * @example
 *   await inspectFile(spooled, 'image/png', 'cat.png', { allow: ['image/png'], refuseMismatch: true, archives })
 */
export async function inspectFile(file: SpooledFile, declaredType: string | undefined, extension: string, policy: ContentPolicy): Promise<Inspection> {
  const detected = await detectType(file.path, file.head);
  if (!typeAllowed(detected.mime, policy.allow)) {
    throw new RampartError('RAMPART_UPLOAD_TYPE_NOT_ALLOWED', `Files of type ${detected.mime} are not accepted here.`, {
      reason: `detected ${detected.mime}, allowed ${policy.allow.join(', ')}`,
    });
  }
  if (policy.refuseMismatch) {
    const claim = mismatch(detected, declaredType, extension);
    if (claim !== undefined) {
      throw new RampartError('RAMPART_UPLOAD_TYPE_MISMATCH', `The file's content (${detected.mime}) does not match its ${claim.startsWith('declared') ? 'declared type' : 'extension'}.`, {
        reason: `content ${detected.mime}, ${claim}`,
      });
    }
  }
  const markup = isMarkup(detected.mime);
  const kinds = new Set(file.findings.map((f) => f.kind));
  const markers = file.findings.map((f) => f.marker).join(', ');
  if (markup && (kinds.has('script') || kinds.has('xxe') || kinds.has('server-script'))) {
    throw new RampartError('RAMPART_UPLOAD_ACTIVE_CONTENT', 'The file contains scripts or external entities.', { reason: `${detected.mime} with ${markers}` });
  }
  if (!markup && !detected.mime.startsWith('text/')) {
    // A binary format carrying markup or script markers is a polyglot: served back, it runs.
    // Browsers sniff markup in the first bytes only, while PHP runs `<?php` wherever it is; past
    // the head, short markup markers also occur by chance in large compressed files.
    const strong = file.findings.filter((f) => f.kind === 'server-script' || (f.kind !== 'xxe' && f.head));
    if (strong.length > 0) {
      throw new RampartError('RAMPART_UPLOAD_ACTIVE_CONTENT', 'The file also contains markup or script (a polyglot).', {
        reason: `${detected.mime} carrying ${strong.map((f) => f.marker).join(', ')}`,
      });
    }
  }
  const kind = archiveKind(detected.mime);
  if (kind === undefined) {
    if (!markup && (await hasZipDirectory(file))) {
      throw new RampartError('RAMPART_UPLOAD_ACTIVE_CONTENT', 'The file also contains a zip archive (a polyglot).', { reason: `${detected.mime} with a zip central directory` });
    }
    return { detected };
  }
  try {
    return { detected, archive: await inspectArchive(file.path, kind, policy.archives) };
  } catch (err) {
    if (!(err instanceof ArchiveViolation)) throw err;
    throw new RampartError('RAMPART_UPLOAD_ARCHIVE_REJECTED', archiveDetail(err.rule), { reason: `${err.rule}: ${err.message}` });
  }
}

function archiveDetail(rule: ArchiveViolation['rule']): string {
  switch (rule) {
    case 'path':
      return 'The archive contains an entry path that escapes its folder.';
    case 'depth':
      return 'The archive contains archives nested too deeply.';
    case 'ratio':
    case 'size':
    case 'overlap':
      return 'The archive expands to too much data.';
    case 'entries':
      return 'The archive has too many entries.';
    case 'encrypted':
      return 'Password-protected archives cannot be inspected.';
    default:
      return 'The archive could not be inspected.';
  }
}

/** A zip end-of-central-directory record near the end of a non-zip file (JPEG+ZIP, GIFAR). */
async function hasZipDirectory(file: SpooledFile): Promise<boolean> {
  const length = Math.min(file.size, TAIL_WINDOW);
  if (length < 22) return false;
  const fh = await open(file.path, 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, file.size - length);
    return buf.includes(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  } finally {
    await fh.close();
  }
}
