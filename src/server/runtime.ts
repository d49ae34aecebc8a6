/**
 * One immutable version of the running configuration: router, stages and upstream pools. A config
 * reload builds a new Runtime and swaps it in; requests in flight keep the one they started with,
 * and the old one is closed once they finish.
 */
import type { LoadedConfig } from '../config/load.js';
import type { RampartConfig, RouteConfig, StageConfig } from '../config/schema.js';
import { PHASE_INDEX } from '../core/phases.js';
import type { Services } from '../core/services.js';
import type { Stage } from '../core/stage.js';
import { STAGES_BY_TYPE } from '../stages/registry.js';
import { implicitAuthorizeStage } from '../stages/authorize/authorize.js';
import { createUpstream, type Upstream } from './proxy.js';
import type { ResponsePolicy } from './respond.js';
import { Router, type CompiledRoute } from './router.js';
import { TrustedProxies } from './forwarding.js';

export interface Runtime {
  readonly loaded: LoadedConfig;
  readonly config: RampartConfig;
  readonly router: Router;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly trusted: TrustedProxies;
  readonly policy: ResponsePolicy;
  /** Every stage instance (for close and respond hooks on gateway-made responses). */
  readonly stages: readonly Stage[];
  /** Closes pools once their requests finish; after `graceMs` (if given) the rest are cut. */
  close(graceMs?: number): Promise<void>;
}

/** Resolves `builtin:NAME` upstream URLs to a running local server's URL. */
export type BuiltinResolver = (name: string) => Promise<string>;

function firstAfterAuthenticate(stages: readonly Stage[]): number {
  const i = stages.findIndex((s) => PHASE_INDEX[s.phase] > PHASE_INDEX.authenticate);
  return i === -1 ? stages.length : i;
}

export async function buildRuntime(loaded: LoadedConfig, services: Services, resolveBuiltin: BuiltinResolver): Promise<Runtime> {
  const { config, baseDir } = loaded;
  const allStages: Stage[] = [];
  const upstreams = new Map<string, Upstream>();
  try {
    for (const [name, up] of Object.entries(config.upstreams)) {
      const url = up.url.startsWith('builtin:') ? await resolveBuiltin(up.url.slice('builtin:'.length)) : up.url;
      if (url.startsWith('https:') && !up.tls.verify) services.logger.warn({ upstream: name }, 'upstream TLS verification is disabled');
      upstreams.set(name, createUpstream(name, url, up, baseDir));
    }
    const create = async (entries: readonly StageConfig[], route: RouteConfig | undefined): Promise<Stage[]> => {
      const out: Stage[] = [];
      for (const entry of entries) {
        const def = STAGES_BY_TYPE.get(entry.type);
        if (def === undefined) throw new Error(`unknown stage type ${entry.type}`);
        const stage = await def.create(entry, { services, config, route, baseDir });
        out.push(stage);
        allStages.push(stage);
      }
      return out;
    };
    const globalStages = await create(config.stages, undefined);
    const routes: CompiledRoute[] = [];
    for (const route of config.routes) {
      const own = await create(route.stages, route);
      const listed = [...globalStages, ...own];
      if (!listed.some((s) => s.name === 'authorize')) {
        // Deny by default: an authenticating route with no authorize stage refuses everyone, unless
        // it declares itself public with an `anonymous` stage.
        const authenticates = listed.some((s) => s.phase === 'authenticate') && !listed.some((s) => s.name === 'anonymous');
        const implicit = implicitAuthorizeStage(config, route, authenticates, services.roles);
        if (implicit !== undefined) own.push(implicit);
      }
      const stages = [...globalStages, ...own].sort((a, b) => PHASE_INDEX[a.phase] - PHASE_INDEX[b.phase]);
      const requestStages = stages.filter((s) => s.handle !== undefined);
      const authenticators = requestStages.filter((s) => s.phase === 'authenticate');
      routes.push({
        id: route.id,
        config: route,
        upstreamName: route.upstream,
        upstream: config.upstreams[route.upstream]!,
        stages: requestStages,
        authenticateEnd: authenticators.length === 0 ? -1 : firstAfterAuthenticate(requestStages),
        challenge: authenticators.map((s) => s.challenge).filter((c) => c !== undefined).join(', ') || 'Bearer realm="rampart"',
        responseStages: stages.filter((s) => s.onResponseHead !== undefined || s.onResponseBody !== undefined),
        maxBodyBytes: route.limits.maxBodyBytes ?? config.limits.maxBodyBytes,
      });
    }
    const https = config.listeners.https;
    const runtime: Runtime = {
      loaded,
      config,
      router: new Router(routes),
      upstreams,
      trusted: new TrustedProxies(config.trustedProxies),
      policy: { hsts: `max-age=${https.hstsMaxAgeSeconds}; includeSubDomains` },
      stages: allStages,
      async close(graceMs?: number) {
        const pools = [...upstreams.values()].map((u) => u.pool);
        const force = graceMs === undefined ? undefined : setTimeout(() => pools.forEach((p) => void p.destroy()), graceMs);
        await Promise.allSettled(pools.map((p) => p.close()));
        clearTimeout(force);
        await Promise.allSettled(allStages.map((s) => s.close?.()));
      },
    };
    return runtime;
  } catch (err) {
    await Promise.allSettled([...upstreams.values()].map((u) => u.pool.destroy()));
    await Promise.allSettled(allStages.map((s) => s.close?.()));
    throw err;
  }
}
