import { z } from 'zod';
import { DEFAULT_JSON_LIMITS } from '../validate/json.js';

/** Structural limits on parsed bodies, shared by the `openapi` and `waf` stage options. */
export const bodyLimitsSchema = z
  .object({
    /** Maximum nesting depth of JSON objects/arrays (levels). */
    maxDepth: z.number().int().min(1).max(1_000).default(DEFAULT_JSON_LIMITS.maxDepth),
    /** Maximum properties in one object / fields in a form (count). */
    maxKeys: z.number().int().min(1).default(DEFAULT_JSON_LIMITS.maxKeys),
    /** Maximum elements in one array (count). */
    maxArrayLength: z.number().int().min(1).default(DEFAULT_JSON_LIMITS.maxArrayLength),
    /** Maximum length of one string, characters. */
    maxStringLength: z.number().int().min(1).default(DEFAULT_JSON_LIMITS.maxStringLength),
    /** Largest absolute value of a number (default 2^53-1: beyond it JSON numbers lose precision). */
    maxNumber: z.number().positive().default(DEFAULT_JSON_LIMITS.maxNumber),
  })
  .strict()
  .default(DEFAULT_JSON_LIMITS);
