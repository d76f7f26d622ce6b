import type { CommandDecl } from '../commands/types.ts';
import { argumentChoices, completionOptions } from './words.ts';

// The words are option names, choices and command names: none has a space or a quote, so they go
// into compgen -W as they are.
const words = (list: readonly string[]) => `'${list.join(' ')}'`;

function commandCase(command: CommandDecl): string {
  const options = completionOptions(command);
  const flags = options.flatMap((o) => [o.long, ...(o.short ? [o.short] : [])]);
  const values = options.filter((o) => o.value !== 'none');
  const valueCases = values.map((o) => {
    const spellings = [o.long, o.short].filter(Boolean).join('|');
    // An optional value (--inetd [service]) may be left out: the flags are offered beside it.
    const offered = o.value === 'optional' ? [...(o.choices ?? []), ...flags] : o.choices;
    const reply = offered
      ? `COMPREPLY=($(compgen -W ${words(offered)} -- "$cur"))`
      : o.complete === 'file'
        ? 'compopt -o filenames; COMPREPLY=($(compgen -f -- "$cur"))'
        : o.complete === 'host' || o.complete === 'user' || o.complete === 'group'
          ? `COMPREPLY=($(compgen -A ${o.complete === 'host' ? 'hostname' : o.complete} -- "$cur"))`
          : // A number, a port, an address: nothing to offer but not the flags either.
            'COMPREPLY=()';
    return `        ${spellings}) ${reply}; return ;;`;
  });
  const choices = argumentChoices(command);
  const positional = choices
    ? `      [[ $cur == -* ]] || { COMPREPLY=($(compgen -W ${words(choices)} -- "$cur")); return; }\n`
    : '';
  return [
    `    ${command.name})`,
    ...(valueCases.length > 0 ? ['      case $prev in', ...valueCases, '      esac'] : []),
    `${positional}      COMPREPLY=($(compgen -W ${words(flags)} -- "$cur")) ;;`,
  ].join('\n');
}

// `daytime completion bash`: one function, the subcommand found as the first word that is not an
// option (the program's own options take no value).
export function bashCompletion(program: { name: string }, commands: readonly CommandDecl[]): string {
  const names = commands.map((c) => c.name);
  return `# ${program.name}(1) completion for bash, made from its option declarations by
# \`${program.name} completion bash\`. Load it with: source <(${program.name} completion bash)
_${program.name}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} command= i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in -*) ;; *) command=\${COMP_WORDS[i]}; break ;; esac
  done
  case $command in
    '') COMPREPLY=($(compgen -W ${words([...names, 'help', '--help', '--version'])} -- "$cur")) ;;
    help) COMPREPLY=($(compgen -W ${words(names)} -- "$cur")) ;;
${commands.map(commandCase).join('\n')}
  esac
}
complete -F _${program.name} ${program.name}
`;
}
