import { writeSync } from 'node:fs';
import { optionRules, optionValue } from '../options/declare.ts';
import { checkOptionRules } from '../options/rules.ts';
import { SERVE_OPTIONS } from '../options/serve.ts';
import type { DaytimeFormat } from '../protocol/daytime.ts';
import { ReplyClock, type ServiceName } from '../protocol/replies.ts';

// `daytime serve`'s options as given, every one of them (any other is refused beside --inetd);
// `inetd` is the service (true: the flag alone).
export interface InetdInput {
  inetd?: string | true;
  format?: string;
}

// What --inetd refuses beside it is its declaration's (options/serve.ts, `onlyWith`): every option
// that chooses sockets, processes or limits, including any added after this was written.
const RULES = optionRules(SERVE_OPTIONS);

// Checked before anything is written: the service, the format, and no option that does not apply.
export function normalizeInetd(input: InetdInput): { service: ServiceName; format: DaytimeFormat } {
  checkOptionRules(input, RULES);
  return {
    service: optionValue(SERVE_OPTIONS, 'inetd', input.inetd === true ? undefined : input.inetd),
    format: optionValue(SERVE_OPTIONS, 'format', input.format),
  };
}

// inetd's "nowait" service (and socat's EXEC:, systemd's Accept=yes): the connection is standard input
// and output; one reply, then the process ends and closes it. Nothing else is written: under inetd
// standard output is the client.
export function serveInetd(input: InetdInput, fd = 1): void {
  const { service, format } = normalizeInetd(input);
  const reply = new ReplyClock(format).reply(service);
  for (let written = 0; written < reply.length; ) written += writeSync(fd, reply, written);
}
