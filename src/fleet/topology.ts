import { execFileSync, spawnSync } from 'node:child_process';

// The fleet's network: namespaces for a client, a balancer, a switch (a bridge) and N hosts, joined by
// veth pairs. Only these addresses are ever a target; nothing here touches the host's own namespace
// but the veth pairs' creation, and every name carries this run's prefix so clean-up can find them.
//
//   client 10.77.1.2 ── 10.77.1.1 lb 10.77.2.1 ── [br0 in sw] ── 10.77.2.11 host1, .12 host2, ...

export interface Topology {
  prefix: string;
  client: Namespace;
  lb: Namespace & { frontend: string; backend: string };
  hosts: (Namespace & { name: string })[];
}

export interface Namespace {
  ns: string;
  address: string;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export function fleetTopology(hosts: number, prefix = `dtf${process.pid % 100000}`): Topology {
  return {
    prefix,
    client: { ns: `${prefix}-client`, address: '10.77.1.2' },
    lb: { ns: `${prefix}-lb`, address: '10.77.1.1', frontend: '10.77.1.1', backend: '10.77.2.1' },
    hosts: Array.from({ length: hosts }, (_, i) => ({
      name: `host${i + 1}`,
      ns: `${prefix}-h${i + 1}`,
      address: `10.77.2.${11 + i}`,
    })),
  };
}

const namespaces = (t: Topology) => [t.client.ns, t.lb.ns, `${t.prefix}-sw`, ...t.hosts.map((h) => h.ns)];

// Creates everything; on failure removes what it made and throws.
export function createTopology(t: Topology): void {
  try {
    for (const ns of namespaces(t)) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    const sw = `${t.prefix}-sw`;
    veth(
      `${t.prefix}c0`,
      t.client.ns,
      `${t.client.address}/24`,
      `${t.prefix}c1`,
      t.lb.ns,
      `${t.lb.frontend}/24`,
    );
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    veth(`${t.prefix}l0`, t.lb.ns, `${t.lb.backend}/24`, `${t.prefix}l1`, sw, undefined);
    ip('-n', sw, 'link', 'set', `${t.prefix}l1`, 'master', 'br0');
    t.hosts.forEach((h, i) => {
      const port = `${t.prefix}h${i + 1}b`;
      veth(`${t.prefix}h${i + 1}`, h.ns, `${h.address}/24`, port, sw, undefined);
      ip('-n', sw, 'link', 'set', port, 'master', 'br0');
    });
    // HAProxy runs unprivileged and binds the real ports (13, 37): in its own namespace only.
    execFileSync('ip', ['netns', 'exec', t.lb.ns, 'sysctl', '-qw', 'net.ipv4.ip_unprivileged_port_start=0']);
  } catch (error) {
    destroyTopology(t);
    throw error;
  }
}

function veth(a: string, nsA: string, addrA: string, b: string, nsB: string, addrB: string | undefined) {
  ip('link', 'add', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB);
  ip('-n', nsA, 'addr', 'add', addrA, 'dev', a);
  ip('-n', nsA, 'link', 'set', a, 'up');
  if (addrB) ip('-n', nsB, 'addr', 'add', addrB, 'dev', b);
  ip('-n', nsB, 'link', 'set', b, 'up');
}

// Deleting a namespace removes its veth ends (and with them their peers). Synchronous, so it can run
// from an exit handler; errors are ignored (already gone).
export function destroyTopology(t: Topology): void {
  for (const ns of namespaces(t)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

// Namespaces of this run still present (for the tests: nothing may be left behind).
export function leftovers(prefix: string): string[] {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  return list
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${prefix}-`));
}
