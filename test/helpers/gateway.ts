/**
 * Test helpers: start a real gateway on ephemeral ports from a YAML config, and talk to it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { Agent, request } from 'undici';
import { Gateway } from '../../src/server/gateway.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Node flags that run the TypeScript sources from any working directory. */
const TSX = ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href];

/** Listener block for tests: every port ephemeral. */
export const TEST_LISTENERS = `
listeners:
  https: { port: 0, host: 127.0.0.1 }
  http: { port: 0, host: 127.0.0.1 }
admin: { port: 0 }
`;

export interface TestGateway {
  gateway: Gateway;
  dir: string;
  configFile: string;
  /** https://127.0.0.1:PORT */
  https: string;
  /** http://127.0.0.1:PORT */
  http: string;
  admin: string;
  stop(): Promise<void>;
}

/** A temporary directory for a test's files. */
export function tempDir(prefix = 'rampart-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `yaml` to a temp dir and starts an in-process gateway with real listeners on port 0. */
export async function startGateway(yaml: string, options: { watch?: boolean; dir?: string } = {}): Promise<TestGateway> {
  const dir = options.dir ?? tempDir();
  const configFile = join(dir, 'rampart.yaml');
  writeFileSync(configFile, yaml);
  const gateway = await Gateway.start({ configFile, watch: options.watch ?? false, logger: pino({ level: 'silent' }) });
  return {
    gateway,
    dir,
    configFile,
    https: `https://127.0.0.1:${gateway.ports.https}`,
    http: `http://127.0.0.1:${gateway.ports.http}`,
    admin: `http://127.0.0.1:${gateway.ports.admin}`,
    stop: () => gateway.stop(1000),
  };
}

/** A client that accepts the development certificate (tests only). */
export const insecureAgent = new Agent({ connect: { rejectUnauthorized: false }, keepAliveTimeout: 1000 });

export interface SimpleResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One request, whole body read. */
export async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<SimpleResponse> {
  const res = await request(url, {
    method: (init.method ?? 'GET') as 'GET',
    headers: init.headers,
    body: init.body,
    dispatcher: insecureAgent,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

/** Runs `rampart ARGS` as a real process (through tsx) and collects its output. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TSX, join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Starts `rampart start` as a real process and waits until it logs its ports. */
export async function spawnGateway(configFile: string, options: { env?: NodeJS.ProcessEnv; cwd?: string; args?: string[] } = {}): Promise<{
  child: ChildProcess;
  ports: { https?: number; http?: number; admin?: number };
  logs: () => string;
  stop(): Promise<number | null>;
}> {
  const child = spawn(process.execPath, [...TSX, join(ROOT, 'src/cli/main.ts'), 'start', '--config', configFile, ...(options.args ?? [])], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  const ports = await new Promise<{ https?: number; http?: number; admin?: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Do not leak a process that is still starting (or hung) when the test gives up on it.
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start:\n${logs}`));
    }, 60_000);
    const onData = (d: Buffer): void => {
      logs += d.toString();
      for (const line of logs.split('\n')) {
        if (!line.includes('rampart gateway started')) continue;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (more: Buffer) => (logs += more.toString()));
        resolve((JSON.parse(line) as { ports: { https?: number; http?: number; admin?: number } }).ports);
        return;
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${logs}`));
    });
  });
  return {
    child,
    ports,
    logs: () => logs,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}
