import type { Migration } from './migration.js';
import { KEYS_MIGRATIONS } from './core-migrations.js';
import { AUDIT_MIGRATIONS } from './audit.js';
import { OAUTH_MIGRATIONS } from '../oauth/migrations.js';

/**
 * Every module's migration list. A module that owns tables (audit log, OAuth clients) exports its
 * own `readonly Migration[]` and adds it here; ids are global (`NNNN_module_what`) and applied in
 * id order.
 */
export const STORE_MIGRATIONS: readonly (readonly Migration[])[] = [KEYS_MIGRATIONS, OAUTH_MIGRATIONS, AUDIT_MIGRATIONS];
