import type { OptionTable } from '../../options/declare.ts';

// A positional argument as commander takes it: '[target]' optional, '<port>' required.
export interface ArgumentDecl {
  name: `<${string}>` | `[${string}]`;
  help: string;
  // The values it takes, for the completion scripts.
  choices?: readonly string[];
}

// One subcommand, declared once: --help, the man page and the completion scripts are made from it
// (cli/declared-command.ts, cli/man-page.ts, cli/completion/), the options from their own table.
export interface CommandDecl {
  name: string;
  // One line in `daytime --help`'s list; the description heads the command's own --help.
  summary: string;
  description: string;
  arguments?: readonly ArgumentDecl[];
  options: OptionTable;
  // Every option may also come from DAYTIME_<OPTION> (cli/environment.ts).
  environment?: boolean;
  // What --help says after the options, wrapped for 80 columns.
  after?: string;
}
