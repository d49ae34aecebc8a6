/** Audit log export formats for SIEMs: JSON Lines and ArcSight CEF. */
import type { AuditEntry } from '../../stores/audit.js';
import { presentEntry } from '../admin.js';

const CEF_SEVERITY: Record<AuditEntry['severity'], number> = { info: 1, low: 3, medium: 5, high: 8, critical: 10 };

/** One JSON object per line, every stored field (including `seq`, `prevHash`, `hash`). */
export function toJsonl(e: AuditEntry): string {
  return JSON.stringify(presentEntry(e));
}

const header = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
const ext = (v: string): string => v.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r?\n|\r/g, '\\n');

/**
 * One CEF:0 line (header fields escape `\` and `|`; extension values escape `\`, `=` and newlines).
 *
 * @example
 *   toCef(entry) // 'CEF:0|Rampart|Rampart Gateway|0.1.0|auth.failure|…|3|rt=… src=10.0.0.1 …'
 */
export function toCef(e: AuditEntry): string {
  const fields: [string, string | number | undefined][] = [
    ['rt', e.time],
    ['externalId', e.seq],
    ['src', e.clientIp],
    ['suser', e.consumer],
    ['requestMethod', e.method],
    ['request', e.path],
    ['reason', e.reason],
  ];
  // CEF's custom string slots: a label is written only together with its value.
  const custom: [string, string | undefined][] = [['route', e.route], ['code', e.code], ['requestId', e.requestId], ['source', e.source], ['chainHash', e.hash], ['data', e.data]];
  custom.forEach(([label, value], i) => {
    if (value !== undefined) fields.push([`cs${i + 1}Label`, label], [`cs${i + 1}`, value]);
  });
  const extension = fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${ext(String(v))}`).join(' ');
  return `CEF:0|Rampart|Rampart Gateway|0.1.0|${header(e.type)}|${header(e.reason ?? e.type).slice(0, 512)}|${CEF_SEVERITY[e.severity]}|${extension}`;
}
