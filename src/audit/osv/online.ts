/**
 * `--online`: asks the OSV API which advisories affect each installed package
 * (`POST /v1/querybatch`, up to 1000 queries a call, paged with `page_token`), then fetches each
 * advisory once (`GET /v1/vulns/{id}`) and evaluates it locally like offline data, so both modes
 * report the same way.
 */
import { request } from 'undici';
import { AuditInputError, parseJsonFile } from '../errors.js';
import type { DependencyGraph } from '../types.js';
import { AdvisoryDatabase } from './database.js';
import { checkOsvRecord } from './schema.js';

/** The public OSV API; `--osv-url` or RAMPART_OSV_URL point elsewhere (a mirror, or a test server). */
export const DEFAULT_OSV_URL = 'https://api.osv.dev';
/** The API's limit on queries per batch call. */
const BATCH = 1000;
/** Advisory fetches in flight at once. */
const CONCURRENCY = 8;
/** Largest response body accepted (bytes; 64 MiB). */
const MAX_BODY = 64 * 1024 * 1024;
/** Per-request timeout (ms). */
const TIMEOUT_MS = 30_000;

interface Query {
  package: { name: string; ecosystem: string };
  version: string;
  page_token?: string;
}
interface BatchResponse {
  results?: { vulns?: { id: string }[]; next_page_token?: string }[];
}

async function callJson(url: string, init: { method: 'GET' | 'POST'; body?: string }): Promise<unknown> {
  let res;
  try {
    res = await request(url, {
      method: init.method,
      body: init.body,
      headers: init.body !== undefined ? { 'content-type': 'application/json' } : {},
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
  } catch (err) {
    throw new AuditInputError(url, `cannot reach the OSV API: ${(err as Error).message}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) {
      res.body.destroy();
      throw new AuditInputError(url, `response larger than ${MAX_BODY} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  if (res.statusCode !== 200) throw new AuditInputError(url, `OSV API answered ${res.statusCode}`);
  return parseJsonFile(url, Buffer.concat(chunks).toString('utf8'));
}

/**
 * Builds an advisory database for these graphs from the OSV API.
 *
 * @example
 * const db = await fetchOnline([graph], 'https://api.osv.dev');
 */
export async function fetchOnline(graphs: DependencyGraph[], baseUrl: string, now = Date.now()): Promise<AdvisoryDatabase> {
  const base = baseUrl.replace(/\/+$/, '');
  let pending: Query[] = graphs.flatMap((g) => [...g.packages.values()].map((p) => ({ package: { name: p.name, ecosystem: g.ecosystem }, version: p.version })));
  const ids = new Set<string>();
  while (pending.length > 0) {
    const next: Query[] = [];
    for (let i = 0; i < pending.length; i += BATCH) {
      const queries = pending.slice(i, i + BATCH);
      const url = `${base}/v1/querybatch`;
      const data = (await callJson(url, { method: 'POST', body: JSON.stringify({ queries }) })) as BatchResponse;
      if (!Array.isArray(data.results) || data.results.length !== queries.length) throw new AuditInputError(url, 'querybatch answer does not have one result per query');
      data.results.forEach((r, j) => {
        for (const v of r.vulns ?? []) if (typeof v.id === 'string') ids.add(v.id);
        if (typeof r.next_page_token === 'string' && r.next_page_token !== '') next.push({ ...queries[j]!, page_token: r.next_page_token });
      });
    }
    pending = next;
  }
  const db = new AdvisoryDatabase([], now);
  const queue = [...ids].sort();
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const url = `${base}/v1/vulns/${encodeURIComponent(id)}`;
      db.add(checkOsvRecord(url, await callJson(url, { method: 'GET' })));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return db;
}
