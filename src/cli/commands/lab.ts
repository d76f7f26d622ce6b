import { LAB_OPTIONS } from '../../options/lab.ts';
import type { CommandDecl } from './types.ts';

export const LAB_COMMAND: CommandDecl = {
  name: 'lab',
  summary: 'measure what listen(backlog) does on this kernel',
  description: 'Run experiments on this kernel that answer the backlog questions with numbers.',
  options: LAB_OPTIONS,
  after: `Experiments on the running kernel, each answering part of: Is listen(5)
different from listen(1)? Why may the backlog be 0? Is there a preferred value?
Does it apply to UDP? Every figure is measured now; nothing is hard-coded.
Listeners are made with socket(2)/listen(2) through libc, so backlog 0,
listen() again and listen() on UDP can be tried as they are.

Experiments: capacity, syn-retry, syn-give-up, burst, queued-data,
close-resets, relisten, somaxconn-clamp, node-backlog, node-eager-accept,
udp-no-listen, udp-rcvbuf, unix-eagain; as root, in private network namespaces:
ns-somaxconn, ns-abort-on-overflow, ns-classic-retry. Clients use their own
timeouts (the kernel's own SYN give-up is about 131 s); a full run takes under
20 s. Ctrl-C stops it, removes what it made and prints what was measured so far
(exit 130).

Examples:
  daytime lab                         # summary on stdout, progress on stderr
  daytime lab --only capacity,udp-no-listen --json
  daytime lab --html report.html      # charts as inline SVG; opens offline
`,
};
