import { FLEET_OPTIONS } from '../../options/fleet.ts';
import type { CommandDecl } from './types.ts';

export const FLEET_COMMAND: CommandDecl = {
  name: 'fleet',
  summary: 'run daytime servers behind HAProxy in network namespaces, and measure',
  description: 'Build a fleet of daytime hosts behind HAProxy in network namespaces and run the scenarios.',
  options: FLEET_OPTIONS,
  after: `As root, builds a fleet in network namespaces: a client, a balancer (Debian's
HAProxy, unprivileged, with deploy/haproxy/daytime.cfg), a switch and N hosts
running \`daytime serve --proxy-protocol\`, joined by veth pairs and a bridge
(10.77.0.0/16, nothing outside the namespaces is touched). The scenarios:
  spread           30,000 connections through the balancer: no error, each host
                   within 20 % of its share
  proxy-v2         the hosts' log lines name the client's address, not the
                   balancer's
  rolling-restart  every host in turn under load: drained in HAProxy, SIGTERM,
                   restarted, back once UP
  kill-host        kill -9 of a host under load: errors only for what it held,
                   none once it is DOWN
  reload           HAProxy reloaded three times under load (master-worker,
                   SIGUSR2)
  queueing         a host stopped (SIGSTOP) without and with a server maxconn:
                   where connections wait
then removes every namespace, interface and process it made, also on Ctrl-C or
a failure.

Exit status: 0 when every scenario met its figures, 1 when one did not, 2
without root or haproxy, 130 when stopped by Ctrl-C.

Examples:
  sudo npx daytime fleet
  sudo npx daytime fleet --hosts 4 --only spread,kill-host --json
`,
};
