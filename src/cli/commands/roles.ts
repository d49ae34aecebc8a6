import { EXIT, parse, UsageError, type Command } from '../command.js';
import { adminClient, csv, onePathSegment, printRecords } from '../admin-client.js';

const COLUMNS = ['name', 'source', 'permissions'] as const;

/** `rampart roles list|get|set|delete`: roles → permissions kept in the store, through the admin API. */
export const rolesCommand: Command = {
  name: 'roles',
  help: `Usage:
  rampart roles list                          config and store roles
  rampart roles get NAME
  rampart roles set NAME --permissions a,b    create or replace a store role (admin token)
  rampart roles delete NAME                   delete a store role (admin token)

A role in the config file (authorization.roles) wins over a store role of the same name; the
admin API refuses to set or delete those.

Options (every subcommand):
  --admin-url URL   admin API (default http://127.0.0.1:9901); token from RAMPART_ADMIN_TOKEN
  --json            machine-readable output`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') return io.out(`${this.help}\n`), EXIT.ok;
    const { values, positionals } = parse(rest, {
      'admin-url': { type: 'string' },
      json: { type: 'boolean' },
      permissions: { type: 'string' },
    });
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    const admin = adminClient(values['admin-url'], io);
    const name = (): string => onePathSegment(positionals, `roles ${sub} takes exactly one NAME`);
    const show = (value: unknown): number => printRecords(io, value, values.json, COLUMNS);
    if (sub !== 'set' && values.permissions !== undefined) throw new UsageError(`--permissions only applies to roles set`);
    switch (sub) {
      case 'list':
        if (positionals.length > 0) throw new UsageError('roles list takes no arguments');
        return show(await admin.call('GET', '/admin/v1/roles'));
      case 'get':
        return show(await admin.call('GET', `/admin/v1/roles/${name()}`));
      case 'set': {
        const path = `/admin/v1/roles/${name()}`;
        if (values.permissions === undefined) throw new UsageError('roles set needs --permissions a,b (an empty list is --permissions "")');
        return show(await admin.call('PUT', path, { permissions: csv(values.permissions) }));
      }
      case 'delete':
        return show(await admin.call('DELETE', `/admin/v1/roles/${name()}`));
      default:
        throw new UsageError(`unknown roles subcommand ${JSON.stringify(sub)} (list, get, set, delete)`);
    }
  },
};
