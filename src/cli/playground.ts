import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { portOption } from '../net/service-port.ts';
import { hostOption } from '../options/validate.ts';
import { EXIT_OK, reportError } from './run-command.ts';

interface PlaygroundFlags {
  host: string;
  port: string;
  open?: boolean;
}

const HELP_AFTER = `
A web page on which you set the backlog, send clients, stop and start
accepting, and watch the kernel: the listener's accept queue (TCP_INFO), each
client's state from its own socket (SYN_SENT and its retransmissions, in the
queue, accepted, served, or refused, reset, lost), and the kernel's counters
(ListenOverflows, ListenDrops, SyncookiesSent, ...). The listener and the
clients are the lab's own. As root, each run gets a network namespace of its
own, where somaxconn, tcp_syncookies, tcp_abort_on_overflow and
tcp_syn_linear_timeouts can be set; without root those are shown disabled.

The first line on stdout is the address with its token; every request needs
that token, and requests for another Host or from another Origin are refused.
The JSON API (for scripts) is in the README. Ctrl-C or SIGTERM stops a run that
goes on, removes what it made, and exits.

Examples:
  daytime playground                  # prints the address and its ?token=...
  daytime playground --port 8080 --open
`;

export function registerPlayground(program: Command): void {
  program
    .command('playground')
    .summary('the accept queue, live in the browser: turn the backlog and watch the kernel')
    .description('Start a local web page that runs the lab live: backlog, clients, accepts a second.')
    .option('--host <host>', 'address to serve the page on', '127.0.0.1')
    .option('-p, --port <port>', 'port for the page, 0 for any free one', '0')
    .option('--open', 'open the page in a browser, where one can be opened')
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: PlaygroundFlags) => {
      process.exitCode = await playground(flags);
    });
}

async function playground(flags: PlaygroundFlags): Promise<number> {
  try {
    const host = hostOption('host', flags.host);
    const port = portOption('port', flags.port, { min: 0 });
    const { createPlaygroundApp } = await import('../playground/app.ts');
    const { namespaceUnavailable } = await import('../playground/run-playground.ts');
    const app = await createPlaygroundApp({
      host,
      port,
      onRunEnd: (s) =>
        process.stderr.write(
          `playground: run ${s.run} ${s.status}${s.summary ? `: ${s.summary.text}` : s.error ? `: ${s.error}` : ''}\n`,
        ),
    });
    process.stdout.write(`playground: ${app.url}\n`);
    const why = namespaceUnavailable();
    process.stderr.write(
      why
        ? `playground: runs use this machine's network namespace; the sysctl controls are off (${why})\n`
        : 'playground: each run gets a network namespace of its own\n',
    );
    if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
      process.stderr.write(
        `playground: listening on ${host}: anyone who can reach it and has the token can start runs\n`,
      );
    }
    if (flags.open) openBrowser(app.url);
    await new Promise<void>((resolve) => {
      const stop = () => {
        // A second signal ends the process at once.
        for (const s of ['SIGINT', 'SIGTERM'] as const)
          process.once(s, () => process.exit(128 + (s === 'SIGINT' ? 2 : 15)));
        app.close().then(resolve, resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.stderr.write('playground: stopped\n');
    return EXIT_OK;
  } catch (error) {
    return reportError('playground', error);
  }
}

function openBrowser(url: string): void {
  const [command, ...args] =
    process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '', url]
        : ['xdg-open', url];
  const child = spawn(command as string, args, { stdio: 'ignore', detached: true });
  child.on('error', () =>
    process.stderr.write(`playground: cannot open a browser here (${command}); open the address above\n`),
  );
  child.unref();
}
