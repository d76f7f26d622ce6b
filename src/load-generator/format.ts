import type { BenchProgress, BenchResult } from './run-bench.ts';

const num = (n: number) => n.toLocaleString('en-US');

// One line of progress for a terminal: a bar, the count and the current rate.
export function formatProgress(progress: BenchProgress, width = 30): string {
  const filled = Math.round(progress.fraction * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  return `${bar} ${Math.round(progress.fraction * 100)}%  ${num(progress.completed)} conns  ${num(progress.rate)}/s  errors ${num(progress.errors)}`;
}

const OTHER_PROTOCOL = {
  daytime: 'otherProtocol: 4-byte replies without a line, from an RFC 868 time server? Try --time',
  time: 'otherProtocol: a line instead of 4 bytes, from a daytime server? Leave out --time',
};

// The human summary (stderr): throughput, outcomes, latency percentiles and slow connections.
export function formatBenchResult(r: BenchResult): string {
  const errors = Object.entries(r.errors)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${num(n)}`);
  const l = r.latencyMs;
  const rows: [string, string][] = [
    ...(r.interrupted
      ? [
          [
            'interrupted',
            'stopped before its end (Ctrl-C, SIGTERM or SIGHUP): the figures below are partial',
          ] as [string, string],
        ]
      : []),
    ['target', `${r.target} (${r.service}), ${r.connections} connections in flight, ${r.workers} worker(s)`],
    ['duration', `${(r.durationMs / 1000).toFixed(2)} s`],
    ['conn/s', num(r.connPerSec)],
    ['ok', num(r.ok)],
    ['errors', errors.length ? errors.join(', ') : '0'],
    ...(r.errors.otherProtocol ? [['', OTHER_PROTOCOL[r.service]] as [string, string]] : []),
    [
      'latency ms',
      l
        ? `p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p999}  max ${l.max}`
        : 'none: no connection got its reply',
    ],
    ['took >= 1 s', `${num(r.slow)}${r.slow ? ' (the signature of dropped SYNs: a full accept queue)' : ''}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}
