/**
 * A running gateway process: listeners (HTTPS, HTTP redirect or plain serving, admin), the live
 * config (hot reload), the built-in demo upstream and shared services.
 */
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { loadConfigFile, ConfigError, type LoadedConfig } from '../config/load.js';
import type { RampartConfig } from '../config/schema.js';
import type { Services } from '../core/services.js';
import { startPetsApi, type RunningDemo } from '../demo/pets.js';
import { startAdminServer, type AdminServer } from '../admin/server.js';
import { createRequestHandler } from './handler.js';
import { buildRuntime, type Runtime } from './runtime.js';
import { clientCertificateOptions, resolveCertificate, secureContextOptions, watchCertificate, type CertificateFiles } from './tls.js';
import { clientErrorToProblem, writeRawProblem } from './client-error.js';
import { createLogger } from './logger.js';
import { Observer } from '../observe/observer.js';
import { observeAdminRoutes } from '../observe/admin.js';
import { openCounterStore } from '../stores/open-counter-store.js';
import { assertSharedCounters, type WorkerLink } from './cluster.js';
import { limitsAdminRoutes } from '../stages/rate-limit/admin.js';
import { openKeyComponents, type KeyComponents } from '../keys/open.js';
import { adminSetup } from '../admin/setup.js';
import { OAuthServer } from '../oauth/server.js';
import { oauthAdminRoutes } from '../oauth/admin.js';
import { StoreRoles } from '../authz/store-roles.js';
import { roleRoutes } from '../admin/resources/roles.js';

export interface GatewayOptions {
  /** Path of rampart.yaml. */
  configFile: string;
  /** Replaces the logger built from the config (tests). */
  logger?: Logger;
  /** Watch the config file and reload on change (default true). */
  watch?: boolean;
  /** Start the admin listener (default: as configured). Cluster workers leave it to the primary. */
  admin?: boolean;
  /** Clock for the detectors and alerts, milliseconds since the epoch (tests). */
  now?: () => number;
  /** Set in a `--workers` cluster worker: detector blocks and metrics are shared through the primary. */
  cluster?: WorkerLink;
  /**
   * Gateway processes serving the same listeners (default 1). With more, a config counting rate
   * limits or lockouts per process (`counters: memory`) is refused at start and on reload.
   */
  processes?: number;
}

export interface GatewayPorts {
  https?: number;
  http?: number;
  admin?: number;
}

export type ReloadResult = { ok: true } | { ok: false; problems: readonly string[] };

export class Gateway {
  private runtime!: Runtime;
  private readonly servers: Server[] = [];
  private admin: AdminServer | undefined;
  private readonly demos = new Map<string, Promise<RunningDemo>>();
  private stopCert: (() => void) | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<ReloadResult> | undefined;
  readonly ports: GatewayPorts = {};
  readonly services: Services;
  /** Access log, audit log, metrics, detectors and alerts (src/observe/). */
  readonly observer: Observer;

  private constructor(private readonly options: GatewayOptions, services: Services, private readonly keyComponents: KeyComponents, observer: Observer) {
    this.services = services;
    this.observer = observer;
  }

  /** Loads the config, opens the store, starts the demo upstream when used, and opens every listener. */
  static async start(options: GatewayOptions): Promise<Gateway> {
    const loaded = loadConfigFile(options.configFile);
    assertSharedCounters(loaded, options.processes ?? 1);
    const logger = options.logger ?? createLogger(loaded.config.log.level);
    const components = await openKeyComponents(loaded.config, loaded.baseDir, logger);
    const observer = new Observer(loaded.config, { logger, now: options.now, cluster: options.cluster });
    await options.cluster?.attach(observer);
    const { emit, observeRequest, isBlocked, metrics } = observer;
    const services: Services = {
      logger,
      emit,
      observeRequest,
      isBlocked,
      metrics,
      counters: openCounterStore(loaded.config.counters, { logger, emit }),
      store: components.store,
      keys: components.keys,
      secrets: components.secrets,
      roles: await StoreRoles.start({ store: components.store, logger }),
    };
    const gw = new Gateway(options, services, components, observer);
    try {
      await gw.open(loaded);
    } catch (err) {
      await gw.stop();
      throw err;
    }
    return gw;
  }

  get config(): RampartConfig {
    return this.runtime.config;
  }

  private resolveBuiltin = async (name: string): Promise<string> => {
    if (name !== 'pets') throw new ConfigError([`upstreams: unknown builtin upstream ${JSON.stringify(name)} (known: pets)`], this.options.configFile);
    // Cluster workers share the demo API that the primary started (one state for every worker).
    const shared = process.env.RAMPART_BUILTIN_PETS_URL;
    if (shared !== undefined) return shared;
    let demo = this.demos.get(name);
    if (demo === undefined) {
      demo = startPetsApi();
      this.demos.set(name, demo);
    }
    return (await demo).url;
  };

  private async open(loaded: LoadedConfig): Promise<void> {
    const { config } = loaded;
    const { logger } = this.services;
    await this.observer.openAudit(loaded.baseDir);
    await this.services.counters.ready(2000);
    if (config.oauth !== undefined) {
      const oauth = await OAuthServer.start(config.oauth, { store: this.services.store, secrets: this.services.secrets, logger });
      this.services.oauth = oauth;
      this.services.tokenRevocations = oauth.revocations;
    }
    this.runtime = await buildRuntime(loaded, this.services, this.resolveBuiltin);
    const current = (): Runtime => this.runtime;
    const limits = config.limits;
    const serverOptions = {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (default 30 s): slow clients are cut off promptly.
      connectionsCheckingInterval: Math.min(1000, Math.floor(limits.headersTimeoutMs / 2)),
    };
    const { https, http } = config.listeners;
    if (https.enabled) {
      const files = await resolveCertificate(https, loaded.baseDir, logger);
      const server = createHttpsServer(
        { ...serverOptions, ...secureContextOptions(files, https.minVersion), ...clientCertificateOptions(files) },
        createRequestHandler(current, this.services, true),
      );
      this.stopCert = this.watchCert(server, files, https.minVersion);
      this.ports.https = await this.listen(server, https.host, https.port);
    }
    if (http.enabled) {
      const handler =
        http.mode === 'serve'
          ? createRequestHandler(current, this.services, false)
          : createRedirectHandler(() => this.ports.https ?? 443);
      const server = createHttpServer(serverOptions, handler);
      this.ports.http = await this.listen(server, http.host, http.port);
    }
    if (config.admin.enabled && this.options.admin !== false) {
      if (!isLoopback(config.admin.host)) {
        throw new ConfigError([`admin.host: ${config.admin.host} is not a loopback address; the admin API is only served on loopback`], loaded.file ?? '<inline>');
      }
      const oauthRoutes = this.services.oauth === undefined ? [] : oauthAdminRoutes(this.services.oauth, this.services.emit);
      this.admin = await startAdminServer(config.admin, this.services, {
        ready: () => this.runtime !== undefined,
        ...(await adminSetup(this.services, this.keyComponents.hasher, process.env, [
          ...roleRoutes(this.services, () => this.runtime.config),
          ...limitsAdminRoutes(this.services),
          ...observeAdminRoutes(this.observer, config),
          ...oauthRoutes,
        ])),
      });
      this.ports.admin = this.admin.port;
    }
    if (this.options.watch !== false && loaded.file !== undefined) this.watchConfig(loaded.file);
    logger.info({ ports: this.ports }, 'rampart gateway started');
    logger.flush(); // the log destination batches writes; operators and scripts wait for this line
  }

  private listen(server: Server, host: string, port: number): Promise<number> {
    this.servers.push(server);
    this.limitConnections(server);
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const problem = clientErrorToProblem(err);
      this.services.logger.info({ code: problem.code, reason: problem.reason, peer: socket.remoteAddress }, 'client error');
      // Bytes after a request we are still answering failed to parse (e.g. the tail of a smuggling
      // attempt): finish that response, then close; a second response would desynchronise the client.
      // `_httpMessage` is the socket's current response: Node's own default clientError handler reads it too.
      const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (pending !== undefined && pending !== null) {
        if (pending.writableFinished) socket.destroy();
        else pending.once('finish', () => socket.destroy());
        return;
      }
      writeRawProblem(socket, problem);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Connection floods: a cap per client address (trusted proxies exempt: a load balancer carries
   * many clients) and per listener. Excess connections are closed before any byte is parsed.
   */
  private limitConnections(server: Server): void {
    const open = new Map<string, number>();
    server.maxConnections = this.runtime.config.limits.maxConnections;
    server.on('connection', (socket: Socket) => {
      const { limits } = this.runtime.config;
      const ip = socket.remoteAddress ?? '';
      if (this.runtime.trusted.has(ip)) return;
      const count = (open.get(ip) ?? 0) + 1;
      if (count > limits.maxConnectionsPerIp) {
        this.services.logger.warn({ clientIp: ip, open: count - 1 }, 'connection refused: too many open connections from this address');
        socket.destroy();
        return;
      }
      open.set(ip, count);
      socket.once('close', () => {
        const left = (open.get(ip) ?? 1) - 1;
        if (left === 0) open.delete(ip);
        else open.set(ip, left);
      });
    });
  }

  private watchCert(server: ReturnType<typeof createHttpsServer>, files: CertificateFiles, minVersion: 'TLSv1.2' | 'TLSv1.3'): () => void {
    return watchCertificate(files, () => {
      try {
        server.setSecureContext(secureContextOptions(files, minVersion));
        this.services.logger.info({ cert: files.cert }, 'TLS certificate reloaded');
      } catch (err) {
        this.services.logger.error({ err: (err as Error).message, cert: files.cert }, 'TLS certificate reload failed; keeping the previous one');
      }
    });
  }

  private watchConfig(file: string): void {
    // Watch the directory: editors and deploy tools replace files by rename, which a file watch misses.
    const name = basename(file);
    this.watcher = watch(dirname(file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(), 150);
    });
    this.watcher.on('error', (err) => this.services.logger.error({ err: err.message }, 'config watcher failed'));
  }

  /**
   * Re-reads the config file and swaps in a new runtime. In-flight requests finish on the old
   * one; an invalid file is refused and the old config keeps serving.
   */
  async reload(): Promise<ReloadResult> {
    while (this.reloading !== undefined) await this.reloading;
    this.reloading = this.doReload();
    try {
      return await this.reloading;
    } finally {
      this.reloading = undefined;
    }
  }

  private async doReload(): Promise<ReloadResult> {
    const { logger } = this.services;
    let next: Runtime;
    try {
      const loaded = loadConfigFile(this.options.configFile);
      assertSharedCounters(loaded, this.options.processes ?? 1);
      next = await buildRuntime(loaded, this.services, this.resolveBuiltin);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      logger.error({ problems }, 'config reload refused; the previous config keeps serving');
      return { ok: false, problems };
    }
    const old = this.runtime;
    this.runtime = next;
    for (const server of this.servers) applyTimeouts(server, next.config);
    logger.info({ routes: next.config.routes.length }, 'config reloaded');
    // Requests in flight finish on the old runtime: its pools close only once they complete.
    void old.close();
    return { ok: true };
  }

  /**
   * Closes listeners, letting in-flight requests finish for up to `graceMs` before cutting the
   * remaining connections, then pools and the demo upstream.
   */
  async stop(graceMs = 10_000): Promise<void> {
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
    this.stopCert?.();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            const force = setTimeout(() => s.closeAllConnections(), graceMs);
            s.close(() => {
              clearTimeout(force);
              resolve();
            });
            s.closeIdleConnections();
          }),
      ),
    );
    await this.admin?.close();
    await this.runtime?.close(graceMs);
    await this.services.counters.close();
    for (const demo of this.demos.values()) await (await demo).close();
    await this.observer.close();
    await this.services.oauth?.close();
    this.services.roles?.close();
    await this.keyComponents.close();
    this.services.logger.flush?.();
  }
}

function applyTimeouts(server: Server, config: RampartConfig): void {
  server.headersTimeout = config.limits.headersTimeoutMs;
  server.requestTimeout = config.limits.requestTimeoutMs;
  server.keepAliveTimeout = config.limits.keepAliveTimeoutMs;
  server.maxConnections = config.limits.maxConnections;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || /^127\./.test(host);
}

const HOST = /^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$/;

/** Plain-HTTP listener in redirect mode: 308 to HTTPS, except the health endpoint. */
function createRedirectHandler(httpsPort: () => number): Parameters<typeof createHttpServer>[1] {
  return (req, res) => {
    const url = req.url ?? '/';
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end('{"status":"ok"}');
      return;
    }
    const rawHost = req.headers.host ?? '';
    const hostOnly = rawHost.startsWith('[') ? rawHost.slice(0, rawHost.indexOf(']') + 1) : rawHost.replace(/:\d+$/, '');
    const port = httpsPort();
    const safeHost = HOST.test(hostOnly) ? hostOnly : 'localhost';
    const target = `https://${safeHost}${port === 443 ? '' : `:${port}`}${url.startsWith('/') ? url : '/'}`;
    res.writeHead(308, { location: target, 'content-length': 0, 'cache-control': 'no-store' });
    res.end();
  };
}
