/**
 * The built-in demo API behind the quick start: a small "pets" service on loopback. It trusts the
 * gateway in front of it (it reads the caller from `X-Rampart-Consumer` when present), like a real
 * internal service would.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUsersResource } from './users.js';

interface Pet {
  id: number;
  name: string;
  species: string;
  notes?: string;
  owner: string;
  createdAt: string;
  photo?: { contentType: string; bytes: number };
}

export interface RunningDemo {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 10 * 1024 * 1024;

/** Starts the pets API on 127.0.0.1 (port 0 = any free port). */
export async function startPetsApi(port = 0): Promise<RunningDemo> {
  const pets = new Map<number, Pet>();
  let nextId = 1;
  const seed = (name: string, species: string, owner: string): void => {
    const id = nextId++;
    pets.set(id, { id, name, species, owner, createdAt: new Date(0).toISOString() });
  };
  seed('Rex', 'dog', 'alice');
  seed('Tom', 'cat', 'bob');

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const problem = (res: ServerResponse, status: number, detail: string): void => {
    const text = JSON.stringify({ title: detail, status });
    res.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          reject(new Error('too large'));
          req.destroy();
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  const readJson = async (req: IncomingMessage): Promise<Record<string, unknown> | undefined> => {
    try {
      const v: unknown = JSON.parse((await readBody(req)).toString('utf8'));
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const applyFields = (pet: Pet, body: Record<string, unknown>): string | undefined => {
    for (const key of ['name', 'species', 'notes'] as const) {
      if (body[key] === undefined) continue;
      if (typeof body[key] !== 'string') return `${key} must be a string`;
      pet[key] = body[key];
    }
    return undefined;
  };

  const users = createUsersResource({ send, problem, readJson });

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://demo');
      const caller = (req.headers['x-rampart-consumer'] as string | undefined) ?? 'anonymous';
      const parts = url.pathname.split('/').filter(Boolean);
      if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
      if (parts[0] === 'users') return await users(req, res, url);
      if (parts[0] !== 'pets') return problem(res, 404, 'not found');
      if (parts.length === 1) {
        if (req.method === 'GET') {
          const q = (url.searchParams.get('q') ?? '').toLowerCase();
          const limit = Math.min(Number(url.searchParams.get('limit') ?? 20) || 20, 100);
          const list = [...pets.values()].filter((p) => q === '' || p.name.toLowerCase().includes(q) || p.species.includes(q));
          return send(res, 200, { items: list.slice(0, limit), total: list.length });
        }
        if (req.method === 'POST') {
          const body = await readJson(req);
          if (body === undefined || typeof body.name !== 'string' || typeof body.species !== 'string') {
            return problem(res, 400, 'name and species are required strings');
          }
          const pet: Pet = { id: nextId++, name: '', species: '', owner: caller, createdAt: new Date().toISOString() };
          const err = applyFields(pet, body);
          if (err !== undefined) return problem(res, 400, err);
          pets.set(pet.id, pet);
          res.setHeader('location', `/pets/${pet.id}`);
          return send(res, 201, pet);
        }
        return problem(res, 405, 'method not allowed');
      }
      const pet = pets.get(Number(parts[1]));
      if (pet === undefined || !/^\d+$/.test(parts[1]!)) return problem(res, 404, 'no such pet');
      if (parts.length === 3 && parts[2] === 'photo' && req.method === 'POST') {
        const body = await readBody(req);
        pet.photo = { contentType: req.headers['content-type'] ?? 'application/octet-stream', bytes: body.length };
        return send(res, 201, pet.photo);
      }
      if (parts.length !== 2) return problem(res, 404, 'not found');
      switch (req.method) {
        case 'GET':
        case 'HEAD':
          return send(res, 200, pet);
        case 'PUT':
        case 'PATCH': {
          const body = await readJson(req);
          if (body === undefined) return problem(res, 400, 'a JSON object is required');
          const err = applyFields(pet, body);
          return err === undefined ? send(res, 200, pet) : problem(res, 400, err);
        }
        case 'DELETE':
          pets.delete(pet.id);
          res.writeHead(204).end();
          return;
        default:
          return problem(res, 405, 'method not allowed');
      }
    } catch {
      if (!res.headersSent) problem(res, 400, 'bad request');
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
