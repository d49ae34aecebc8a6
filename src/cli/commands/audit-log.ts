import { createWriteStream, type WriteStream } from 'node:fs';
import { loadConfigFile } from '../../config/load.js';
import { openAuditStore } from '../../stores/open-audit.js';
import type { AuditStore } from '../../stores/audit.js';
import { verifyAuditStore } from '../../observe/audit/verify.js';
import { toCef, toJsonl } from '../../observe/audit/export.js';
import { parseTime } from '../../observe/admin.js';
import { auditKey } from '../../observe/observer.js';
import { EXIT, parse, UsageError, type CliIO, type Command } from '../command.js';

const HELP = `Usage:
  rampart audit-log verify [--config FILE] [--json]
      Check the audit log's hash chain. Exit 0 when intact; exit 1 naming the first entry
      (sequence number) that was edited, removed, reordered or added outside the gateway.
  rampart audit-log export [--config FILE] [--since T] [--until T] [--format jsonl|cef] [--out FILE]
      Write audit entries (oldest first) for a SIEM. T: ISO date, epoch milliseconds, or a
      duration before now (24h, 7d). Default format jsonl, default output stdout.

Both read the store named in the config (store: sqlite:PATH or postgres://…) directly, so they
work whether or not the gateway is running. The chain key (observe.audit.key) comes from the config.`;

async function openFromConfig(file: string, io: CliIO): Promise<{ store: AuditStore; key: Buffer | undefined }> {
  const loaded = loadConfigFile(file, io.env);
  const store = await openAuditStore(loaded.config.store, { baseDir: loaded.baseDir, key: auditKey(loaded.config) });
  return { store, key: auditKey(loaded.config) };
}

/** `rampart audit-log verify|export`. */
export const auditLogCommand: Command = {
  name: 'audit-log',
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') return io.out(`${HELP}\n`), EXIT.ok;
    if (sub === 'verify') {
      const { values, positionals } = parse(rest, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } });
      if (values.help) return io.out(`${HELP}\n`), EXIT.ok;
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
      const { store, key } = await openFromConfig(values.config ?? 'rampart.yaml', io);
      try {
        const result = await verifyAuditStore(store, key);
        if (values.json) io.out(`${JSON.stringify(result)}\n`);
        else if (result.ok) io.out(`audit log intact: ${result.checked} entries, head ${result.lastSeq} ${result.lastHash}\n`);
        else io.out(`audit log BROKEN at entry ${result.break!.seq} (${result.break!.problem}): ${result.break!.detail}\n${result.checked} entries before it verify (last good: ${result.lastSeq})\n`);
        return result.ok ? EXIT.ok : EXIT.findings;
      } finally {
        await store.close();
      }
    }
    if (sub === 'export') {
      const { values, positionals } = parse(rest, {
        config: { type: 'string', short: 'c' },
        since: { type: 'string' },
        until: { type: 'string' },
        format: { type: 'string', default: 'jsonl' },
        out: { type: 'string', short: 'o' },
      });
      if (values.help) return io.out(`${HELP}\n`), EXIT.ok;
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
      if (values.format !== 'jsonl' && values.format !== 'cef') throw new UsageError(`--format must be jsonl or cef, not ${JSON.stringify(values.format)}`);
      const now = Date.now();
      const time = (name: string, v: string | undefined): number | undefined => {
        if (v === undefined) return undefined;
        const t = parseTime(v, now);
        if (t === undefined) throw new UsageError(`--${name} must be an ISO date, epoch milliseconds or a duration like 24h`);
        return t;
      };
      const since = time('since', values.since);
      const until = time('until', values.until);
      const format = values.format === 'cef' ? toCef : toJsonl;
      const { store } = await openFromConfig(values.config ?? 'rampart.yaml', io);
      let file: WriteStream | undefined;
      try {
        file = values.out === undefined ? undefined : createWriteStream(values.out, { flags: 'w', mode: 0o600 });
        const write = (line: string): void => {
          if (file === undefined) io.out(`${line}\n`);
          else file.write(`${line}\n`);
        };
        let cursor: number | undefined;
        let count = 0;
        do {
          const page = await store.query({ order: 'asc', since, until, cursor, limit: 1000 });
          for (const e of page.entries) write(format(e));
          count += page.entries.length;
          cursor = page.next;
        } while (cursor !== undefined);
        if (file !== undefined) {
          await new Promise<void>((resolve, reject) => file!.end((err?: Error | null) => (err ? reject(err) : resolve())));
          io.err(`${count} entries written to ${values.out}\n`);
        }
        return EXIT.ok;
      } finally {
        await store.close();
      }
    }
    throw new UsageError(`unknown audit-log subcommand ${JSON.stringify(sub)} (verify, export)`);
  },
};
