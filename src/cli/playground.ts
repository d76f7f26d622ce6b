import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { optionValue } from '../options/declare.ts';
import { PLAYGROUND_OPTIONS } from '../options/playground.ts';
import { PLAYGROUND_COMMAND } from './commands/playground.ts';
import { declareCommand } from './declared-command.ts';
import { EXIT_OK } from './run-command.ts';

interface PlaygroundFlags {
  host?: string;
  port?: string;
  open?: boolean;
}

export function registerPlayground(program: Command): void {
  declareCommand(program, PLAYGROUND_COMMAND, (_args, options) => playground(options as PlaygroundFlags));
}

async function playground(flags: PlaygroundFlags): Promise<number> {
  const host = optionValue(PLAYGROUND_OPTIONS, 'host', flags.host);
  const port = optionValue(PLAYGROUND_OPTIONS, 'port', flags.port);
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
}

// The desktop's opener (xdg-open, open, start). Where it cannot run, or runs and finds no browser (a
// server, a container: xdg-open exits 3 or 4), it says so, with the address to open by hand.
function openBrowser(url: string): void {
  const [command, ...args] =
    process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '', url]
        : ['xdg-open', url];
  const failed = (why: string) =>
    process.stderr.write(`playground: could not open a browser (${why}); open ${url} by hand\n`);
  const child = spawn(command as string, args, { stdio: 'ignore', detached: true });
  child.on('error', (error: NodeJS.ErrnoException) =>
    failed(error.code === 'ENOENT' ? `no ${command} here` : `${command}: ${error.message}`),
  );
  child.on('exit', (code, signal) => {
    if (code !== 0 && code !== null) failed(`${command} exited with status ${code}`);
    else if (signal) failed(`${command} ended by ${signal}`);
  });
  child.unref();
}
