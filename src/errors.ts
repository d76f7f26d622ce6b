import type { ErrorCode } from './error-catalog.ts';

// A code Node or the kernel gave (ECONNREFUSED, EADDRINUSE...), passed on as it came: not the project's,
// so not in the catalog. The brand makes passing one on a visible choice (systemCode) rather than a
// string that a typo in one of our own codes would also be.
declare const passedOn: unique symbol;
export type SystemCode = string & { readonly [passedOn]: true };
export const systemCode = (code: string): SystemCode => code as SystemCode;

// Every error the library throws carries a stable `code`, so scripts can branch without parsing text.
// The constructor takes the catalog's codes (error-catalog.ts), so a code it lacks does not compile;
// `code` itself is a plain string, as passed-on codes are strings too.
export class DaytimeError extends Error {
  readonly code: string;

  constructor(code: ErrorCode | SystemCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DaytimeError';
    this.code = code;
  }
}

// Bad input, found before any socket opens. The CLI turns it into exit code 2.
export class InvalidOptionError extends DaytimeError {
  readonly option: string;

  constructor(option: string, expected: string, received: unknown, hint?: string) {
    const got = typeof received === 'string' ? JSON.stringify(received) : String(received);
    super('ERR_INVALID_OPTION', `${option} must be ${expected}, got ${got}${hint ? `. ${hint}` : ''}`);
    this.name = 'InvalidOptionError';
    this.option = option;
  }
}

// Options that cannot go together, one that means nothing without another, or one given twice: bad
// input too (exit 2), naming both. `describe` spells the names as the caller shows them (the CLI: flags).
export class OptionConflictError extends InvalidOptionError {
  readonly options: readonly [string, string];
  readonly kind: 'conflicts' | 'requires' | 'repeated';
  readonly reason: string;

  constructor(kind: OptionConflictError['kind'], options: readonly [string, string], reason: string) {
    super(options[0], '', '');
    this.name = 'OptionConflictError';
    this.kind = kind;
    this.options = options;
    this.reason = reason;
    this.message = this.describe((option) => option);
  }

  describe(name: (option: string) => string): string {
    const [a, b] = this.options.map(name);
    const what =
      this.kind === 'conflicts'
        ? `${a} and ${b} cannot be used together`
        : this.kind === 'requires'
          ? `${a} needs ${b}`
          : `${a} was given twice`;
    return `${what}: ${this.reason}`;
  }
}

// Node's own socket errors carry codes such as ECONNREFUSED; keep the code and the original as `cause`.
export function fromSystemError(error: unknown, what: string, hint = ''): DaytimeError {
  if (error instanceof DaytimeError) return error;
  const given = (error as NodeJS.ErrnoException | undefined)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  return new DaytimeError(
    given === undefined ? 'ERR_UNKNOWN' : systemCode(given),
    `${what}: ${detail}${hint && ` (${hint})`}`,
    { cause: error },
  );
}
