import { InvalidOptionError } from '../errors.ts';

// Option values arrive as numbers from scripts and as strings from the command line; both pass here.
export type NumberInput = number | string;

export function integerOption(
  name: string,
  value: NumberInput,
  { min, max, hint }: { min: number; max: number; hint?: (n: number) => string | undefined },
): number {
  const text = typeof value === 'string' ? value.trim() : String(value);
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidOptionError(
      name,
      `an integer from ${min} to ${max}`,
      value,
      Number.isSafeInteger(n) ? hint?.(n) : undefined,
    );
  }
  return n;
}

// Seconds as the CLI takes them ("5", "0.5"), returned in milliseconds.
export function secondsOption(name: string, value: NumberInput, { min, max }: { min: number; max: number }) {
  const text = typeof value === 'string' ? value.trim() : String(value);
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new InvalidOptionError(name, `a number of seconds from ${min} to ${max}`, value);
  }
  return Math.round(n * 1000);
}

export function choiceOption<T extends string>(
  name: string,
  value: string,
  choices: readonly T[],
  context?: string,
): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new InvalidOptionError(name, `one of ${choices.join(', ')}${context ? ` ${context}` : ''}`, value);
  }
  return value as T;
}

// Host names and addresses are printable ASCII without spaces; resolution itself happens at bind or
// connect time and fails there with the resolver's own code (ENOTFOUND).
// A bare number is refused: inet_aton() would take "9464" as the address 0.0.36.248, and it is always
// a port given where a host was asked for.
export function hostOption(name: string, value: string): string {
  if (!/^[\x21-\x7e]{1,253}$/.test(value)) {
    throw new InvalidOptionError(name, 'a host name or IP address', value);
  }
  if (/^\d+$/.test(value)) {
    throw new InvalidOptionError(
      name,
      'a host name or IP address',
      value,
      'A bare number is a port, not a host',
    );
  }
  return value;
}
