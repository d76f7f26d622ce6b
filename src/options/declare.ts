import type { OptionRule } from './rules.ts';
import type { NumberInput } from './validate.ts';

// One option of one command, declared once. Commander's flag and the help line (cli/declared-command.ts),
// the man page and the completion scripts, the environment variable, the library's default and its
// check all read this, so none of them can say something another does not.
export interface OptionDecl<T = unknown> {
  // The one-letter alias, without its dash.
  short?: string;
  // The value as the help shows it: '<n>' when one is required, '[service]' when optional. None: a switch.
  arg?: `<${string}>` | `[${string}]`;
  help: string;
  // The library's default, as a user would type it (seconds, not milliseconds); the help shows it.
  default?: string | number;
  // What the help says when there is no default value to show ("no limit", "off").
  defaultText?: string;
  // Collects every value given (--host a --host b); any other option given twice is refused.
  repeatable?: boolean;
  // The values it takes, for the completion scripts (the check itself is `parse`'s).
  choices?: readonly string[];
  // What completion offers for the value besides `choices`.
  complete?: 'file' | 'host' | 'user' | 'group';
  // Checks a value (the one given, or the default) and returns what the library uses; throws
  // InvalidOptionError naming `name`.
  parse?: (name: string, value: NumberInput) => T;
  // Another option this one means nothing without, or cannot go with.
  requires?: Relation;
  conflicts?: Relation;
  // Goes with none but these: every other option of its command is refused beside it.
  onlyWith?: { options: readonly string[]; reason: string };
}

export interface Relation {
  option: string;
  reason: string;
  // The rule does not apply when this input is given (the UDP knobs under socket activation).
  unless?: string;
}

export type OptionTable = Readonly<Record<string, OptionDecl>>;

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

// The long flag is the name in kebab case: nothing to keep in step with the table's key.
export const longFlag = (name: string) => `--${kebab(name)}`;

// '-p, --port <port>', as commander takes it.
export function flagsOf(name: string, decl: OptionDecl): string {
  return [decl.short ? `-${decl.short}, ` : '', longFlag(name), decl.arg ? ` ${decl.arg}` : ''].join('');
}

// DAYTIME_ and the name in capitals, - as _: maxConnections is DAYTIME_MAX_CONNECTIONS.
export const envName = (name: string) => `DAYTIME_${kebab(name).replaceAll('-', '_').toUpperCase()}`;

// What the help shows after "default:", or undefined for a switch or an option without one. An
// optional value's default is what `--inetd` alone means, not what its absence means: not shown.
export function defaultShown(decl: OptionDecl): string | undefined {
  if (!decl.arg || decl.arg.startsWith('[')) return undefined;
  return decl.defaultText ?? (decl.default === undefined ? undefined : String(decl.default));
}

type Parsed<D> = D extends { parse: (name: string, value: NumberInput) => infer T } ? T : never;
export type OptionValue<D> = D extends { default: string | number } ? Parsed<D> : Parsed<D> | undefined;

// The value the library uses: the one given, else the declared default, through the option's own check.
// Undefined only where neither is there.
export function optionValue<
  Table extends OptionTable,
  K extends keyof Table & string,
  G extends NumberInput | undefined,
>(table: Table, name: K, given: G): undefined extends G ? OptionValue<Table[K]> : Parsed<Table[K]> {
  const decl = table[name] as OptionDecl;
  const value = given ?? decl.default;
  type Result = undefined extends G ? OptionValue<Table[K]> : Parsed<Table[K]>;
  if (value === undefined) return undefined as Result;
  if (!decl.parse) throw new Error(`option ${name} has no check`);
  return decl.parse(name, value) as Result;
}

// The table's rules between options, for checkOptionRules: the "only with" ones first, so that
// `--inetd --proxy-from x` is refused for --inetd, not for the --proxy-protocol it lacks.
export function optionRules(table: OptionTable): OptionRule[] {
  const names = Object.keys(table);
  const alone = Object.entries(table).flatMap(([name, { onlyWith }]) =>
    onlyWith
      ? names
          .filter((other) => other !== name && !onlyWith.options.includes(other))
          .map((other): OptionRule => ({ conflicts: [name, other], reason: onlyWith.reason }))
      : [],
  );
  const pairs = Object.entries(table).flatMap(([name, { requires, conflicts }]) => {
    const rules: OptionRule[] = [];
    if (requires)
      rules.push({ requires: [name, requires.option], reason: requires.reason, unless: requires.unless });
    if (conflicts)
      rules.push({ conflicts: [name, conflicts.option], reason: conflicts.reason, unless: conflicts.unless });
    return rules;
  });
  return [...alone, ...pairs];
}

// A comma-separated list (`--only capacity,burst`), each name trimmed; the names are the library's to check.
export const commaList = (_name: string, value: NumberInput) =>
  String(value)
    .split(',')
    .map((s) => s.trim());
