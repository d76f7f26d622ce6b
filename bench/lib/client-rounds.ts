// The client side of bench/compare.ts: `daytime bench --workers 2` (on each connect path given) and
// `dtload -t 2` take turns against one server (dtref), round after round; the ratio of their median
// connections a second is the figure. Inside the server's namespace where it has one.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Netns } from '../../src/kernel/netns.ts';
import { dtload } from './dtload.ts';
import { ENV } from './peers.ts';
import { median } from './proc.ts';

const BIN = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const round2 = (x: number) => Math.round(x * 100) / 100;

export interface ClientRounds {
  port: number;
  netns?: Netns;
  connects: string[];
  rounds: number;
  seconds: string;
}

export function benchAgainstDtload({ port, netns, connects, rounds, seconds }: ClientRounds) {
  const benchRates = new Map<string, number[]>(connects.map((c) => [c, []]));
  const loadRates: number[] = [];
  const inside = (command: string[]) => (netns ? netns.exec(command) : command);
  for (let round = 1; round <= rounds; round++) {
    for (const connect of connects) {
      const args = ['bench', `127.0.0.1:${port}`, '--workers', '2', '-c', '64', '-d', seconds];
      const [file = '', ...argv] = inside([BIN, ...args, '--connect', connect, '--json']);
      const out = execFileSync(file, argv, { encoding: 'utf8', env: ENV });
      benchRates.get(connect)?.push(JSON.parse(out).connPerSec);
    }
    loadRates.push(dtload(port, ['-c', '64', '-d', seconds, '-t', '2'], { netns: netns?.name }).rate ?? 0);
    const benches = connects.map((c) => `daytime bench --connect ${c} ${benchRates.get(c)?.at(-1)} conn/s`);
    process.stderr.write(`bench round ${round}: ${benches.join(', ')}, dtload ${loadRates.at(-1)} conn/s\n`);
  }
  return connects.map((connectPath) => {
    const rates = benchRates.get(connectPath) ?? [];
    return {
      connectPath,
      daytimeBench: Math.round(median(rates)),
      dtload: Math.round(median(loadRates)),
      ratio: round2(median(rates) / median(loadRates)),
      ratioRounds: rates.map((b, i) => round2(b / (loadRates[i] ?? 1))),
    };
  });
}
