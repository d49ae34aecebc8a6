/**
 * `npx tsx bench/authz.ts`: cost of one authorization decision (the pure function the authorize
 * stage and `rampart policy explain` share), on a policy like the quick start's: function-level
 * rules, per-method permissions, a path binding with a bypass permission, property rules.
 *
 * Options: --iterations N (1,000,000 per case), --rounds N (5; the median is reported), --json.
 */
import { authorizationSchema, authorizeOptionsSchema } from '../src/authz/config.js';
import { parseJsonBody } from '../src/authz/json.js';
import { compileAuthorization, compileRoutePolicy, decide, decideBody, type AuthzRequest } from '../src/authz/policy.js';
import type { Identity } from '../src/core/identity.js';
import { benchArgs } from './support/args.js';

const { values } = benchArgs({ options: { iterations: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' }, json: { type: 'boolean' } } });
const ITERATIONS = Number(values.iterations);
const ROUNDS = Number(values.rounds);

const authz = compileAuthorization(
  authorizationSchema.parse({
    roles: { user: ['users:read', 'users:write', 'pets:read', 'pets:write'], support: ['users:*', 'pets:read'], admin: ['*'] },
    adminOnly: [
      { id: 'delete', methods: ['DELETE'] },
      { id: 'admin-area', paths: ['/admin/**', '/internal/**'] },
    ],
  }),
);
const policy = compileRoutePolicy(
  'users',
  authorizeOptionsSchema.parse({
    type: 'authorize',
    rules: [
      { id: 'read', methods: ['GET', 'HEAD'], permissions: ['users:read'] },
      { id: 'write', methods: ['PATCH'], permissions: ['users:write'] },
    ],
    objects: [{ id: 'own-profile', in: 'path', name: 'userId', equals: 'identity.consumer', bypass: 'users:any' }],
    properties: [
      { id: 'role-read-only', fields: ['role', 'tenant'], write: 'deny', bypass: 'admin' },
      { id: 'internal-notes', fields: ['internalNotes'], read: 'deny', bypass: 'users:internal' },
    ],
  }),
);
const alice: Identity = { consumer: 'alice', roles: ['user'], scopes: [], tenant: 'acme', method: 'api_key' };
const support: Identity = { consumer: 'sam', roles: ['support'], scopes: [], tenant: 'rampart', method: 'api_key' };
const req = (method: string, user: string): AuthzRequest => ({ method, path: `/users/${user}`, params: { userId: user }, query: '', headers: {} });
const profile = Buffer.from('{"name":"Alice B.","email":"alice@acme.example"}');

const cases: Record<string, () => unknown> = {
  'allow: owner reads own profile': () => decide(authz, policy, req('GET', 'alice'), alice),
  'deny: reads another user (BOLA)': () => decide(authz, policy, req('GET', 'bob'), alice),
  'allow: support bypass permission': () => decide(authz, policy, req('GET', 'bob'), support),
  'deny: admin-only method (BFLA)': () => decide(authz, policy, req('DELETE', 'alice'), alice),
  'body: parse + mass-assignment check (48 B)': () => decideBody(authz, policy, 'PATCH', alice, parseJsonBody(profile)),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const results: { case: string; nsPerDecision: number; decisionsPerSecond: number }[] = [];
let sink = 0;
for (const [name, fn] of Object.entries(cases)) {
  for (let i = 0; i < 10_000; i++) sink += fn() === undefined ? 0 : 1; // warm-up (JIT)
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) sink += fn() === undefined ? 0 : 1;
    rounds.push(Number(process.hrtime.bigint() - start) / ITERATIONS);
  }
  const ns = median(rounds);
  results.push({ case: name, nsPerDecision: Math.round(ns), decisionsPerSecond: Math.round(1e9 / ns) });
}
if (sink < 0) console.log(sink);
if (values.json) console.log(JSON.stringify({ node: process.version, iterations: ITERATIONS, rounds: ROUNDS, results }, null, 2));
else {
  console.log(`node ${process.version}, ${ITERATIONS} decisions per round, median of ${ROUNDS} rounds`);
  for (const r of results) console.log(`${r.case.padEnd(44)} ${String(r.nsPerDecision).padStart(6)} ns  ${(r.decisionsPerSecond / 1e6).toFixed(2).padStart(6)} M/s`);
}
