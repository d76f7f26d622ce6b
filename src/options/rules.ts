import { OptionConflictError } from '../errors.ts';

// The one rule for options that depend on each other, for every command and the library alike:
// two that cannot go together, or one that means nothing without another, is bad input (exit 2),
// refused before any socket opens with one line naming both. Normalizers call checkOptionRules with
// the options as given (the CLI passes only the flags the user typed, not commander's defaults).
// `unless`: the rule does not apply when that input is given.
export type OptionRule =
  // [a, b]: a and b together are refused.
  | { conflicts: readonly [string, string]; reason: string; unless?: string }
  // [a, b]: a without b is refused.
  | { requires: readonly [string, string]; reason: string; unless?: string };

// Given: any value but undefined, and a boolean flag only when true.
export const isGiven = (value: unknown): boolean => value !== undefined && value !== false;

export function checkOptionRules(input: object, rules: readonly OptionRule[]): void {
  const value = (name: string) => (input as Record<string, unknown>)[name];
  for (const rule of rules) {
    if (rule.unless !== undefined && isGiven(value(rule.unless))) continue;
    if ('conflicts' in rule) {
      const [a, b] = rule.conflicts;
      if (isGiven(value(a)) && isGiven(value(b)))
        throw new OptionConflictError('conflicts', [a, b], rule.reason);
    } else {
      const [a, b] = rule.requires;
      if (isGiven(value(a)) && !isGiven(value(b)))
        throw new OptionConflictError('requires', [a, b], rule.reason);
    }
  }
}
