import type { z } from 'zod';
import type { Phase } from '../core/phases.js';
import type { Stage } from '../core/stage.js';
import type { Services } from '../core/services.js';
import type { RampartConfig, RouteConfig } from '../config/schema.js';

/** What a stage factory gets besides its own options. */
export interface StageDeps {
  readonly services: Services;
  readonly config: RampartConfig;
  /** The route the stage serves; undefined for top-level (every-route) stages. */
  readonly route: RouteConfig | undefined;
  /** Directory of the config file: relative paths in options resolve against it. */
  readonly baseDir: string;
}

/**
 * A configurable stage type: its options schema (with a literal `type`), its phase and its
 * factory. Options are validated when the config loads; `create` runs once per config version.
 */
export interface StageDefinition<S extends z.ZodObject = z.ZodObject> {
  readonly type: string;
  /** Phase of its stages; a type whose phase depends on its options (rate-limit) gives the usual one here, and the pipeline orders by each stage's own `phase`. */
  readonly phase: Phase;
  readonly options: S;
  create(options: z.infer<S>, deps: StageDeps): Stage | Promise<Stage>;
}

/** Helper that keeps the options type attached to the factory. */
export function defineStage<S extends z.ZodObject>(def: StageDefinition<S>): StageDefinition<S> {
  return def;
}
