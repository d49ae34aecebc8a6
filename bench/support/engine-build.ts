/**
 * An injection engine loaded from a build directory (`dist`, or a worktree's `dist` of an earlier
 * commit), for the scripts that compare two builds: `npm run waf:diff` and `npm run waf:ab`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export type DetectAll = (value: string, location: string, internalHosts: readonly string[]) => readonly string[];

/** `detectAll` of BUILD/waf/engine.js; a build that cannot be loaded ends the script with one line and exit code 2. */
export async function loadDetectAll(build: string): Promise<DetectAll> {
  const file = pathToFileURL(resolve(build, 'waf/engine.js')).href;
  try {
    return ((await import(file)) as { detectAll: DetectAll }).detectAll;
  } catch (err) {
    console.error(`cannot load ${file} (build it first): ${String(err)}`);
    process.exit(2);
  }
}
