/**
 * Loads an OpenAPI 3.0/3.1 document from disk with every `$ref` resolvable inside one object:
 * local refs stay, refs to relative files are loaded (YAML or JSON) and placed under
 * `x-rampart-files`, and the ref rewritten to point there. Remote refs are refused: nothing is
 * downloaded at load or run time. 3.0 schema dialect differences (`nullable`, boolean
 * `exclusiveMinimum`) are rewritten to JSON Schema 2020-12 so one validator serves both versions.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface OpenApiDocument {
  readonly version: '3.0' | '3.1';
  /** The bundled document: every `$ref` is a local pointer (`#/…`). */
  readonly doc: JsonObject;
}

export class OpenApiLoadError extends Error {
  override readonly name = 'OpenApiLoadError';
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readDocument(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OpenApiLoadError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 })) as Json;
  } catch (err) {
    throw new OpenApiLoadError(`cannot parse ${file}: ${(err as Error).message}`);
  }
}

/** Escapes one JSON-pointer token. */
export function pointerToken(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Follows a local JSON pointer (`#/a/b`) in `doc`. */
export function atPointer(doc: Json, ref: string): Json | undefined {
  if (ref === '#' || ref === '') return doc;
  let node: Json | undefined = doc;
  for (const raw of ref.replace(/^#\//, '').split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node)) node = node[key];
    else return undefined;
  }
  return node;
}

/**
 * Loads and bundles `file`.
 *
 * @example
 *   const { doc, version } = loadOpenApi('pets.openapi.yaml');
 */
export function loadOpenApi(file: string): OpenApiDocument {
  const rootFile = resolve(file);
  const root = readDocument(rootFile);
  if (!isObject(root) || typeof root.openapi !== 'string' || !/^3\.[01]\.\d+/.test(root.openapi)) {
    throw new OpenApiLoadError(`${file} is not an OpenAPI 3.0 or 3.1 document (missing "openapi: 3.x.y")`);
  }
  const version = root.openapi.startsWith('3.1') ? '3.1' : '3.0';
  const files: JsonObject = {};
  const keys = new Map<string, string>([[rootFile, '']]);
  const pending: Array<{ node: Json; file: string }> = [{ node: root, file: rootFile }];

  const prefixOf = (abs: string): string => {
    let key = keys.get(abs);
    if (key === undefined) {
      key = `f${keys.size}`;
      keys.set(abs, key);
      const loaded = readDocument(abs);
      files[key] = loaded;
      pending.push({ node: loaded, file: abs });
    }
    return key === '' ? '#' : `#/x-rampart-files/${key}`;
  };

  const rewrite = (node: Json, file: string): void => {
    if (Array.isArray(node)) {
      for (const child of node) rewrite(child, file);
      return;
    }
    if (!isObject(node)) return;
    const ref = node.$ref;
    if (typeof ref === 'string') {
      const hash = ref.indexOf('#');
      const target = hash === -1 ? ref : ref.slice(0, hash);
      const pointer = hash === -1 ? '' : ref.slice(hash + 1);
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) throw new OpenApiLoadError(`remote $ref ${JSON.stringify(ref)} in ${file} is not supported (nothing is downloaded); use a relative file`);
      const abs = target === '' ? file : resolve(dirname(file), target);
      node.$ref = `${prefixOf(abs)}${pointer}`;
    }
    for (const key in node) if (key !== '$ref') rewrite(node[key]!, file);
  };
  while (pending.length > 0) {
    const { node, file: f } = pending.pop()!;
    rewrite(node, f);
  }
  if (Object.keys(files).length > 0) root['x-rampart-files'] = files;
  for (const [abs, key] of keys) if (key !== '' && atPointer(root, `#/x-rampart-files/${key}`) === undefined) throw new OpenApiLoadError(`cannot bundle ${abs}`);
  if (version === '3.0') convert30(root);
  return { version, doc: root };
}

/** Rewrites OpenAPI 3.0 schema dialect to JSON Schema 2020-12, in place. */
function convert30(node: Json): void {
  if (Array.isArray(node)) {
    for (const child of node) convert30(child);
    return;
  }
  if (!isObject(node)) return;
  if (node.nullable === true) {
    if (typeof node.type === 'string') node.type = [node.type, 'null'];
    if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum.push(null);
    delete node.nullable;
  }
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (node[flag] === true && typeof node[bound] === 'number') {
      node[flag] = node[bound];
      delete node[bound];
    } else if (node[flag] === false) delete node[flag];
  }
  for (const key in node) convert30(node[key]!);
}
