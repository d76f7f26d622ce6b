import type { CommandDecl } from '../commands/types.ts';
import { argumentChoices, type CompletionOption, completionOptions } from './words.ts';

// Inside a single-quoted _arguments spec: the quote closes and reopens, and the description's
// brackets and colons would end it early.
const quoted = (text: string) => text.replaceAll("'", "'\\''");
// _arguments' escapes first: quoting's '\'' must not get a backslash of its own (an apostrophe in the help).
const described = (text: string) => quoted(text.replace(/([[\]:\\])/g, '\\$1'));

function action(option: CompletionOption): string {
  if (option.value === 'none') return '';
  const name = option.long.slice(2);
  const what = option.choices
    ? `(${option.choices.join(' ')})`
    : option.complete === 'file'
      ? '_files'
      : option.complete
        ? `_${option.complete}s`
        : ' ';
  return `${option.value === 'optional' ? '::' : ':'}${name}:${what}`;
}

// '(-p --port)'{-p,--port}'[help]:port: ': both spellings exclude each other, unless it collects.
function spec(option: CompletionOption): string {
  const body = `[${described(option.help)}]${action(option)}`;
  if (option.repeatable) return `'*${option.long}${body}'`;
  if (!option.short) return `'${option.long}${body}'`;
  return `'(${option.short} ${option.long})'{${option.short},${option.long}}'${body}'`;
}

function commandCase(command: CommandDecl): string {
  const choices = argumentChoices(command);
  const positional = (command.arguments ?? []).map((argument, i) => {
    const name = argument.name.slice(1, -1);
    const optional = argument.name.startsWith('[') ? ':' : '';
    return `'${optional}${i + 1}:${name}:${choices && i === 0 ? `(${choices.join(' ')})` : ' '}'`;
  });
  const specs = [...completionOptions(command).map(spec), ...positional];
  return `    (${command.name}) _arguments -s \\\n      ${specs.join(' \\\n      ')} ;;`;
}

// `daytime completion zsh`: the command first, then its own options and arguments.
export function zshCompletion(program: { name: string }, commands: readonly CommandDecl[]): string {
  const described = commands.map((c) => `'${quoted(c.name)}:${quoted(c.summary.replaceAll(':', '\\:'))}'`);
  return `#compdef ${program.name}
# ${program.name}(1) completion for zsh, made from its option declarations by
# \`${program.name} completion zsh\`. Install it as _${program.name} in a directory of $fpath.
_${program.name}() {
  local curcontext=$curcontext state line
  local -a commands
  commands=(
    ${described.join('\n    ')}
    'help:display help for command'
  )
  _arguments -C \\
    '(- *)'{-V,--version}'[output the version number]' \\
    '(- *)'{-h,--help}'[display help for command]' \\
    '1:command:->command' \\
    '*::argument:->argument'
  case $state in
    (command) _describe -t commands '${program.name} command' commands ;;
    (argument)
      case $line[1] in
${commands.map(commandCase).join('\n')}
    (help) _describe -t commands '${program.name} command' commands ;;
      esac ;;
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _${program.name} "$@"
else
  compdef _${program.name} ${program.name}
fi
`;
}
