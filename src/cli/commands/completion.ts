import type { CommandDecl } from './types.ts';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

export const COMPLETION_COMMAND: CommandDecl = {
  name: 'completion',
  summary: 'print a completion script for bash, zsh or fish',
  description:
    "Print a script that completes daytime's commands, options and their values in bash, zsh or fish.",
  arguments: [{ name: '<shell>', help: 'bash, zsh or fish', choices: SHELLS }],
  options: {},
  after: `Made from the same declarations as --help, so it offers every option there is.

Install one of:
  daytime completion bash > ~/.local/share/bash-completion/completions/daytime
  daytime completion zsh > ~/.zfunc/_daytime   # fpath+=(~/.zfunc), compinit
  daytime completion fish > ~/.config/fish/completions/daytime.fish
or, for the shell you are in: source <(daytime completion bash)
`,
};
