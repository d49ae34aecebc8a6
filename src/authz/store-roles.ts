/**
 * Roles defined through the admin API, held in memory so that decisions stay synchronous: the
 * authorizer never queries the store. The snapshot reloads at once when this process changes a
 * role (the admin API calls {@link StoreRoles.refresh}), and other processes sharing the store
 * see the change within one poll of the store's roles version (`pollMs`, 1 s by default).
 */
import type { Logger } from 'pino';
import type { RoleStore } from '../stores/contracts.js';

/** Roles that can change while the gateway runs; `generation` moves on every change. */
export interface RoleSource {
  readonly generation: number;
  permissionsOf(role: string): readonly string[] | undefined;
}

export interface StoreRolesOptions {
  readonly store: RoleStore;
  readonly logger: Logger;
  /** How often to check the store's roles version, ms (default 1000). */
  readonly pollMs?: number;
}

/**
 * @example
 *   const roles = await StoreRoles.start({ store, logger });
 *   roles.permissionsOf('support') // ['users:any'] once `rampart roles set support --permissions users:any` ran
 */
export class StoreRoles implements RoleSource {
  generation = 0;
  private roles: ReadonlyMap<string, readonly string[]> = new Map();
  private version = -1;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private failing = false;

  private constructor(private readonly options: StoreRolesOptions) {}

  /** Loads the snapshot and starts polling. A store that is down leaves no store roles (fail closed) until a poll succeeds. */
  static async start(options: StoreRolesOptions): Promise<StoreRoles> {
    const roles = new StoreRoles(options);
    await roles.poll();
    roles.timer = setInterval(() => void roles.poll(), options.pollMs ?? 1000);
    roles.timer.unref();
    return roles;
  }

  permissionsOf(role: string): readonly string[] | undefined {
    return this.roles.get(role);
  }

  /** Every store role, by name. */
  get all(): ReadonlyMap<string, readonly string[]> {
    return this.roles;
  }

  /** Reloads every role now (after a change made by this process). */
  async refresh(): Promise<void> {
    // Version first: a change landing between the two reads makes the next poll reload again, never miss it.
    const version = await this.options.store.rolesVersion();
    const list = await this.options.store.listRoles();
    this.roles = new Map(list.map((r) => [r.name, r.permissions]));
    this.version = version;
    this.generation++;
  }

  /** Reloads when the store's roles version moved (another process changed a role). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if ((await this.options.store.rolesVersion()) !== this.version) await this.refresh();
      if (this.failing) this.options.logger.info('store roles poll recovered');
      this.failing = false;
    } catch (err) {
      // Keep the last snapshot: dropping it would lock everyone out during a store blip.
      if (!this.failing) this.options.logger.warn({ err: (err as Error).message }, 'store roles poll failed; keeping the last snapshot');
      this.failing = true;
    } finally {
      this.polling = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
