import { netnsUnavailable } from '../../kernel/netns.ts';
import { readSysctl } from '../../kernel/sysctl.ts';
import { runInNetns } from '../netns.ts';
import type { Experiment } from '../types.ts';
import type { CapacityRow } from './capacity.ts';

// The clamp with a different somaxconn, in a private namespace (somaxconn is per namespace).
export const nsSomaxconn: Experiment = {
  id: 'ns-somaxconn',
  title: 'somaxconn = 8 in a private network namespace',
  questions: ['Q3'],
  expected: 'listen(100) and listen(-1) give Send-Q 8; capacity at backlog 10 is 9',
  unavailable: () => netnsUnavailable('unshare'),
  isolated: true,
  async run({ signal }) {
    const clamp = await runInNetns('somaxconn-clamp', { 'net.core.somaxconn': 8 }, signal);
    const capacity = await runInNetns('capacity', { 'net.core.somaxconn': 8 }, signal);
    const rows = (capacity.measurements.rows as CapacityRow[]) ?? [];
    const ten = rows.find((r) => r.backlog === 10);
    const clampRows = (clamp.measurements.rows as { asked: number; ssBacklog?: number }[]) ?? [];
    const ok = clampRows.every((r) => r.ssBacklog === 8) && ten?.connected === 9;
    return {
      parameters: { 'net.core.somaxconn': 8 },
      measurements: { clamp: clampRows, capacity: rows },
      status: ok ? 'ok' : 'differs',
      verdict: `With somaxconn set to 8 in a private namespace: ${clampRows.map((r) => `listen(${r.asked}) → ${r.ssBacklog}`).join(', ')}; backlog 10 held ${ten?.connected ?? '?'} connections (8 + 1). The host's somaxconn was not touched.`,
    };
  },
};

// The classic exponential SYN retry schedule, for comparison with Linux 6.5+'s linear start.
export const nsClassicRetry: Experiment = {
  id: 'ns-classic-retry',
  title: 'SYN retries with tcp_syn_linear_timeouts = 0',
  questions: ['Q1'],
  expected: 'connect latency ≈1, 3, 7 s for draining after 0.5/1.5/3.5 s',
  isolated: true,
  unavailable: () => {
    const why = netnsUnavailable('unshare');
    if (why) return why;
    return readSysctl('net.ipv4.tcp_syn_linear_timeouts') !== undefined
      ? undefined
      : 'this kernel has no tcp_syn_linear_timeouts (before Linux 6.5: the schedule is already exponential)';
  },
  async run({ signal }) {
    const result = await runInNetns('syn-retry', { 'net.ipv4.tcp_syn_linear_timeouts': 0 }, signal);
    const runs =
      (result.measurements.runs as { drainAfterS: number; connectS: number; outcome: string }[]) ?? [];
    return {
      parameters: { 'net.ipv4.tcp_syn_linear_timeouts': 0 },
      measurements: { runs },
      status: result.status,
      verdict: `With linear timeouts off, the waiting client connected ${runs.map((r) => `${r.connectS} s`).join(', ')} after trying (accepting began after ${runs.map((r) => r.drainAfterS).join(', ')} s): the 1, 2, 4 s backoff of kernels before 6.5.`,
    };
  },
};

// tcp_abort_on_overflow acts when the final ACK finds the queue full, not on a SYN: SYN drops stay silent.
export const nsAbortOnOverflow: Experiment = {
  id: 'ns-abort-on-overflow',
  title: 'tcp_abort_on_overflow = 1 does not turn SYN drops into resets',
  questions: ['Q1'],
  expected: 'clients beyond the queue are still neither connected nor refused',
  unavailable: () => netnsUnavailable('unshare'),
  isolated: true,
  async run({ signal }) {
    const result = await runInNetns('capacity', { 'net.ipv4.tcp_abort_on_overflow': 1 }, signal);
    const rows = (result.measurements.rows as CapacityRow[]) ?? [];
    const refused = rows.reduce((n, r) => n + r.refusedOrReset, 0);
    const pending = rows.reduce((n, r) => n + r.pending, 0);
    return {
      parameters: { 'net.ipv4.tcp_abort_on_overflow': 1 },
      measurements: { rows },
      status: refused === 0 && pending > 0 ? 'ok' : 'differs',
      verdict: `With tcp_abort_on_overflow = 1, ${pending} clients beyond full queues were still left waiting and ${refused} were refused or reset: the sysctl resets a connection whose final ACK finds the queue full, while a SYN that finds it full is still dropped without a word.`,
    };
  },
};
