import { readSysctl } from '../../kernel/sysctl.ts';
import type { Experiment } from '../types.ts';

// How long a client whose SYNs keep being dropped tries before ETIMEDOUT. Waiting it out would take
// minutes, so it is computed from this kernel's sysctls (the lab's own clients use short timeouts).
export const synGiveUp: Experiment = {
  id: 'syn-give-up',
  title: 'When a client gives up (computed from the sysctls, not waited for)',
  questions: ['Q1'],
  expected: 'about 131 s with tcp_syn_retries=6 and tcp_syn_linear_timeouts=4 (127 s before Linux 6.5)',
  async run() {
    const retries = readSysctl('net.ipv4.tcp_syn_retries') ?? 6;
    const linear = readSysctl('net.ipv4.tcp_syn_linear_timeouts') ?? 0;
    // net/ipv4/tcp_timer.c: SYN_SENT retransmits syn_retries + linear_timeouts times; the first `linear`
    // RTOs stay at 1 s, then they double (capped at 120 s); the connection fails one RTO after the last.
    const rtos: number[] = [];
    let rto = 1;
    for (let i = 0; i <= retries + linear; i++) {
      rtos.push(rto);
      if (i >= linear) rto = Math.min(rto * 2, 120);
    }
    const retransmitsAt = rtos.slice(0, -1).map((_, i) => rtos.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const giveUpS = rtos.reduce((a, b) => a + b, 0);
    return {
      parameters: { tcp_syn_retries: retries, tcp_syn_linear_timeouts: linear },
      measurements: { retransmitsAtS: retransmitsAt, giveUpS, computed: true },
      status: 'ok',
      verdict: `With tcp_syn_retries=${retries} and tcp_syn_linear_timeouts=${linear}, a client whose SYNs are all dropped retransmits at ${retransmitsAt.join(', ')} s and fails with ETIMEDOUT after about ${giveUpS} s (computed from the sysctls; the lab's clients use their own short timeouts instead of waiting).`,
    };
  },
};
