import type { CommandDecl } from '../commands/types.ts';
import { argumentChoices, type CompletionOption, completionOptions } from './words.ts';

// Fish's single quotes take \\ and \' as escapes, nothing else.
const quoted = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

function line(program: string, command: string, option: CompletionOption): string {
  const parts = [`complete -c ${program} -n '__fish_seen_subcommand_from ${command}'`];
  if (option.short) parts.push(`-s ${option.short.slice(1)}`);
  parts.push(`-l ${option.long.slice(2)}`);
  if (option.value !== 'none') {
    // -r: the next word is its value; -F lets files be offered, -x (-r -f) does not.
    parts.push(option.complete === 'file' ? '-r -F' : '-x');
    if (option.choices) parts.push(`-a ${quoted(option.choices.join(' '))}`);
    if (option.complete === 'host') parts.push(`-a '(__fish_print_hostnames)'`);
    if (option.complete === 'user') parts.push(`-a '(__fish_complete_users)'`);
    if (option.complete === 'group') parts.push(`-a '(__fish_complete_groups)'`);
  }
  parts.push(`-d ${quoted(option.help)}`);
  return parts.join(' ');
}

// `daytime completion fish`: no files unless an option takes one; the commands until one is given.
export function fishCompletion(program: { name: string }, commands: readonly CommandDecl[]): string {
  const p = program.name;
  const lines = [
    `# ${p}(1) completion for fish, made from its option declarations by \`${p} completion fish\`.`,
    `# Install it as ~/.config/fish/completions/${p}.fish`,
    `complete -c ${p} -f`,
    `complete -c ${p} -n __fish_use_subcommand -s V -l version -d 'output the version number'`,
    `complete -c ${p} -n __fish_use_subcommand -s h -l help -d 'display help for command'`,
    ...commands.map((c) => `complete -c ${p} -n __fish_use_subcommand -a ${c.name} -d ${quoted(c.summary)}`),
    `complete -c ${p} -n __fish_use_subcommand -a help -d 'display help for command'`,
    `complete -c ${p} -n '__fish_seen_subcommand_from help' -a ${quoted(commands.map((c) => c.name).join(' '))}`,
  ];
  for (const command of commands) {
    for (const option of completionOptions(command)) lines.push(line(p, command.name, option));
    const choices = argumentChoices(command);
    if (choices)
      lines.push(
        `complete -c ${p} -n '__fish_seen_subcommand_from ${command.name}' -a ${quoted(choices.join(' '))}`,
      );
  }
  return `${lines.join('\n')}\n`;
}
