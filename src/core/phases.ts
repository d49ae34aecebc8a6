/** The closed, ordered list of pipeline phases (see DESIGN.md §1). Order is by phase, never by config order. */
export const PHASES = ['guard', 'authenticate', 'authorize', 'limit', 'validate', 'inspect', 'forward', 'respond'] as const;
export type Phase = (typeof PHASES)[number];
export const PHASE_INDEX: Readonly<Record<Phase, number>> = Object.freeze(
  Object.fromEntries(PHASES.map((p, i) => [p, i])) as Record<Phase, number>,
);
