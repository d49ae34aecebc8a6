import { EXIT, parse, UsageError, type Command } from '../command.js';
import { adminClient, csv, table, onePathSegment } from '../admin-client.js';

const COLUMNS = ['id', 'prefix', 'consumer', 'status', 'scopes', 'expiresAt', 'lastUsedAt'] as const;

/** `rampart keys create|list|rotate|revoke` through the admin API. */
export const keysCommand: Command = {
  name: 'keys',
  help: `Usage:
  rampart keys create --consumer NAME [--scopes x,y] [--roles a,b] [--expires 30d]
                      prints the key once: store it now, it cannot be shown again
  rampart keys list [--consumer NAME]
  rampart keys rotate ID [--grace 24h]   new key; the old one works until the grace ends (0s: at once)
  rampart keys revoke ID                 refused at once, on every gateway process within a second

Options (every subcommand):
  --admin-url URL   admin API (default http://127.0.0.1:9901); token from RAMPART_ADMIN_TOKEN
  --json            machine-readable output (create/rotate: id, prefix, key)`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') return io.out(`${this.help}\n`), EXIT.ok;
    const { values, positionals } = parse(rest, {
      'admin-url': { type: 'string' },
      json: { type: 'boolean' },
      consumer: { type: 'string' },
      scopes: { type: 'string' },
      roles: { type: 'string' },
      expires: { type: 'string' },
      grace: { type: 'string' },
    });
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    const admin = adminClient(values['admin-url'], io);
    const id = (): string => onePathSegment(positionals, `keys ${sub} takes exactly one key ID`);
    const issued = (value: { key: string; prefix: string; id: string }): number => {
      if (values.json) io.out(`${JSON.stringify(value, null, 2)}\n`);
      else io.out(`${value.key}\n\nid ${value.id}, prefix ${value.prefix}. This key is shown once: store it now.\n`);
      return EXIT.ok;
    };
    switch (sub) {
      case 'create': {
        if (values.consumer === undefined) throw new UsageError('keys create needs --consumer NAME');
        if (positionals.length > 0) throw new UsageError('keys create takes no positional arguments');
        return issued(
          await admin.call('POST', '/admin/v1/keys', {
            consumer: values.consumer,
            ...(values.scopes === undefined ? {} : { scopes: csv(values.scopes) }),
            ...(values.roles === undefined ? {} : { roles: csv(values.roles) }),
            ...(values.expires === undefined ? {} : { expires: values.expires }),
          }),
        );
      }
      case 'list': {
        const q = values.consumer === undefined ? '' : `?consumer=${encodeURIComponent(values.consumer)}`;
        const list = await admin.call<Record<string, unknown>[]>('GET', `/admin/v1/keys${q}`);
        if (values.json) io.out(`${JSON.stringify(list, null, 2)}\n`);
        else table(io, list, COLUMNS);
        return EXIT.ok;
      }
      case 'rotate':
        return issued(await admin.call('POST', `/admin/v1/keys/${id()}/rotate`, values.grace === undefined ? {} : { grace: values.grace }));
      case 'revoke': {
        const revoked = await admin.call<Record<string, unknown>>('POST', `/admin/v1/keys/${id()}/revoke`);
        if (values.json) io.out(`${JSON.stringify(revoked, null, 2)}\n`);
        else io.out(`revoked ${String(revoked.prefix)} (${String(revoked.id)})\n`);
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown keys subcommand ${JSON.stringify(sub)} (create, list, rotate, revoke)`);
    }
  },
};
