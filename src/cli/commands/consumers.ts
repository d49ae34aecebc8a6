import { EXIT, parse, UsageError, type Command } from '../command.js';
import { adminClient, csv, onePathSegment, printRecords } from '../admin-client.js';

const COLUMNS = ['name', 'status', 'roles', 'scopes', 'tenant', 'id'] as const;

/** `rampart consumers add|list|get|suspend|resume` through the admin API. */
export const consumersCommand: Command = {
  name: 'consumers',
  help: `Usage:
  rampart consumers add NAME [--roles a,b] [--scopes x,y] [--tenant T]
  rampart consumers list [--limit N]
  rampart consumers get NAME
  rampart consumers suspend NAME     its keys stop working at once
  rampart consumers resume NAME

Options (every subcommand):
  --admin-url URL   admin API (default http://127.0.0.1:9901); token from RAMPART_ADMIN_TOKEN
  --json            machine-readable output`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') return io.out(`${this.help}\n`), EXIT.ok;
    const { values, positionals } = parse(rest, {
      'admin-url': { type: 'string' },
      json: { type: 'boolean' },
      roles: { type: 'string' },
      scopes: { type: 'string' },
      tenant: { type: 'string' },
      limit: { type: 'string' },
    });
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    const admin = adminClient(values['admin-url'], io);
    const name = (): string => onePathSegment(positionals, `consumers ${sub} takes exactly one NAME`);
    const show = (value: unknown): number => printRecords(io, value, values.json, COLUMNS);
    switch (sub) {
      case 'add':
        return show(
          await admin.call('POST', '/admin/v1/consumers', {
            name: decodeURIComponent(name()),
            ...(values.roles === undefined ? {} : { roles: csv(values.roles) }),
            ...(values.scopes === undefined ? {} : { scopes: csv(values.scopes) }),
            ...(values.tenant === undefined ? {} : { tenant: values.tenant }),
          }),
        );
      case 'list': {
        if (positionals.length > 0) throw new UsageError('consumers list takes no arguments');
        const limit = values.limit === undefined ? '' : `?limit=${encodeURIComponent(values.limit)}`;
        return show(await admin.call('GET', `/admin/v1/consumers${limit}`));
      }
      case 'get':
        return show(await admin.call('GET', `/admin/v1/consumers/${name()}`));
      case 'suspend':
      case 'resume':
        return show(await admin.call('POST', `/admin/v1/consumers/${name()}/${sub}`));
      default:
        throw new UsageError(`unknown consumers subcommand ${JSON.stringify(sub)} (add, list, get, suspend, resume)`);
    }
  },
};
