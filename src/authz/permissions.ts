import type { RoleSource } from './store-roles.js';

/**
 * Roles → permissions. A grant is a concrete permission (`pets:read`), a prefix wildcard
 * (`pets:*`, covering `pets:read` and `pets:read:own`) or `*` (everything). Required permissions
 * are always concrete, so a check is a handful of set lookups.
 */

/** The permissions one caller holds, flattened from its roles. */
export interface Grants {
  has(permission: string): boolean;
  /** Every grant, sorted (for explanations). */
  readonly list: readonly string[];
}

class GrantSet implements Grants {
  private readonly set: ReadonlySet<string>;
  readonly list: readonly string[];
  constructor(grants: Iterable<string>) {
    this.set = new Set(grants);
    this.list = [...this.set].sort();
  }
  has(permission: string): boolean {
    const set = this.set;
    if (set.has(permission) || set.has('*')) return true;
    for (let i = permission.indexOf(':'); i !== -1; i = permission.indexOf(':', i + 1)) {
      if (set.has(`${permission.slice(0, i)}:*`)) return true;
    }
    return false;
  }
}

/** No permissions at all (anonymous callers, unknown roles). */
export const NO_GRANTS: Grants = new GrantSet([]);

/**
 * Role definitions, resolved once per distinct roles list. Identities built by authentication
 * stages are cached there, so the same `roles` array comes back and the lookup is one WeakMap hit.
 * A role comes from the config first, then from `store` (roles defined through the admin API): on
 * a name clash the config wins, so the admin API cannot widen a role the config file pins down.
 * When the store's snapshot changes, the cache starts over.
 *
 * @example
 *   const table = new RoleTable({ reader: ['pets:read'], admin: ['*'] });
 *   table.grantsOf(['reader']).has('pets:read') // true
 */
export class RoleTable {
  private readonly roles: ReadonlyMap<string, readonly string[]>;
  private cache = new WeakMap<readonly string[], Grants>();
  private generation: number;

  constructor(
    roles: Readonly<Record<string, readonly string[]>>,
    private readonly store?: RoleSource,
  ) {
    this.roles = new Map(Object.entries(roles));
    this.generation = store?.generation ?? 0;
  }

  /** Names of the roles the config defines. */
  get names(): readonly string[] {
    return [...this.roles.keys()];
  }

  /** The permissions of one role (config first, then the store), or undefined when no one defines it. */
  permissionsOf(role: string): readonly string[] | undefined {
    return this.roles.get(role) ?? this.store?.permissionsOf(role);
  }

  grantsOf(roles: readonly string[]): Grants {
    if (this.store !== undefined && this.store.generation !== this.generation) {
      this.cache = new WeakMap();
      this.generation = this.store.generation;
    }
    let grants = this.cache.get(roles);
    if (grants === undefined) {
      grants = roles.length === 0 ? NO_GRANTS : new GrantSet(roles.flatMap((r) => this.permissionsOf(r) ?? []));
      this.cache.set(roles, grants);
    }
    return grants;
  }
}
