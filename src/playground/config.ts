import { readLabSysctls } from '../lab/environment.ts';
import { COUNTERS, TICK_MS } from './kernel-view.ts';
import { DEFAULT_PARAMS, LIMITS, PRESETS, SYSCTL_NAMES } from './params.ts';
import { namespaceUnavailable } from './run-playground.ts';
import { CLIENT_STATES } from './state.ts';

// What the page needs to draw its controls, and a script to know the ranges: GET /api/config.
export function playgroundConfig() {
  const why = namespaceUnavailable();
  return {
    limits: LIMITS,
    defaults: DEFAULT_PARAMS,
    presets: PRESETS,
    states: CLIENT_STATES,
    counters: COUNTERS,
    tickMs: TICK_MS,
    sysctls: {
      // Runs get a network namespace of their own, where these may be set.
      available: why === undefined,
      reason: why ?? null,
      names: SYSCTL_NAMES,
      // This namespace's values: a run without its own namespace runs with these.
      host: readLabSysctls(Object.values(SYSCTL_NAMES).map((name) => name.replaceAll('.', '/'))),
    },
  };
}
