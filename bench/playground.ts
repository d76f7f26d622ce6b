// The playground's targets, measured in headless Chromium against `daytime playground` (the built bin,
// a process of its own):
//   1. from a change of Accepts per second to the page showing it: the engine's acknowledgement (the
//      rate-change marker) and its effect (the first client served after it);
//   2. from a client's change of state, as the engine saw it (an event of its socket, or accept4), to
//      the frame that shows it; the same figure for a plain Node client of the event stream, side by
//      side, so the page's own share shows;
//   3. with 500 clients in flight: the page's frames a second and the app's CPU (the CLI's process and
//      the run's own, in its namespace; the scheduler's clock), and beside it the machine's busy time
//      less this harness's and Chromium's (a rough cross-check: bench/lib/machine-busy.ts).
//   node bench/playground.ts [--rounds 5] [--json FILE]     (npm run build first; Linux, Chromium)
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/chromium.ts';
import { describeMachine } from './lib/machine.ts';
import { machineBusyUs } from './lib/machine-busy.ts';
import { ENV } from './lib/peers.ts';
import { cpuSample, median, processTree } from './lib/proc.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, json: { type: 'string' } },
});
const ROUNDS = Number(values.rounds);
const ROOT = fileURLToPath(new URL('../', import.meta.url));

interface Snapshot {
  status: string;
  startedAt: number | null;
  namespace: { pid: number } | null;
  clients: { steps: { state: string; atS: number }[] }[];
}

// The app as a user starts it; its first line is the address with the token.
async function startApp(): Promise<{ child: ChildProcess; url: string; port: number; token: string }> {
  const child = spawn(`${ROOT}node_modules/.bin/node`, [`${ROOT}dist/cli.js`, 'playground'], {
    env: ENV,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [
    string,
  ];
  const url = line.replace(/^playground: /, '');
  const parsed = new URL(url);
  return { child, url, port: Number(parsed.port), token: parsed.searchParams.get('token') ?? '' };
}

// A plain client of the event stream: the wall-clock time each client step first arrives.
function streamClient(port: number, token: string, latencies: number[]) {
  const seen = new Map<number, number>();
  let snapshot: Snapshot | undefined;
  const note = (clients: (Snapshot['clients'][number] & { id: number })[]) => {
    const now = performance.timeOrigin + performance.now();
    for (const c of clients) {
      const known = seen.get(c.id) ?? 0;
      for (const step of c.steps.slice(known)) {
        if (snapshot?.startedAt && EXACT.has(step.state))
          latencies.push(now - (snapshot.startedAt + step.atS * 1000));
      }
      seen.set(c.id, c.steps.length);
    }
  };
  const request = http.get({
    port,
    path: `/api/events?token=${token}`,
    headers: { host: `127.0.0.1:${port}` },
  });
  request.on('response', (response) => {
    let buffer = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffer += chunk;
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (\w+)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) {
          const parsed = JSON.parse(data);
          if (event === 'snapshot') {
            snapshot = parsed;
            seen.clear();
          } else if (snapshot) {
            if (parsed.startedAt) snapshot.startedAt = parsed.startedAt;
            note(parsed.clients ?? []);
          }
        }
        end = buffer.indexOf('\n\n');
      }
    });
  });
  return () => request.destroy();
}

// Steps whose time is the moment the engine saw them happen (the socket's own event, accept4), not a
// poll: their latency is the whole path from the kernel's word to the screen.
const EXACT = new Set(['accepted', 'served', 'refused', 'reset']);

// In the page: frames a second, and for each frame that shows news, how old each new step is, and
// how long ago the last Accepts per second change was made.
const instrument = (run: number) => `(() => {
  const b = (window.__bench = { frames: [], steps: [], ack: [], effect: [], change: null, seen: new Map() });
  const exact = new Set(${JSON.stringify([...EXACT])});
  const loop = () => { b.frames.push(performance.now()); requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  document.addEventListener('playground:rendered', (e) => {
    const s = e.detail;
    const now = performance.timeOrigin + performance.now();
    // Only the run this round starts: the stream opens with the last run's snapshot.
    if (!s.startedAt || s.run < ${run}) return;
    for (const c of s.clients) {
      const known = b.seen.get(c.id) ?? 0;
      for (const step of c.steps.slice(known)) {
        const at = s.startedAt + step.atS * 1000;
        if (exact.has(step.state)) b.steps.push(now - at);
        if (b.change && b.change.rate === 'max' && !b.change.effect && step.state === 'accepted' && at >= b.change.at) {
          b.change.effect = true;
          b.effect.push(now - b.change.at);
        }
      }
      b.seen.set(c.id, c.steps.length);
    }
    const changes = s.acceptChanges ?? [];
    if (b.change && !b.change.ack && changes.length > b.change.count) {
      b.change.ack = true;
      b.ack.push(now - b.change.at);
    }
  });
})()`;

// Moves the slider as a user would (an input event), remembering when.
const setRate = (page: Page, position: number) =>
  page.evaluate(`(() => {
    const b = window.__bench;
    const input = document.getElementById('accepts');
    input.value = '${position}';
    b.change = { at: performance.timeOrigin + performance.now(), rate: ${position} === 11 ? 'max' : 0, count: (window.__lastChanges ?? 0) };
    input.dispatchEvent(new Event('input', { bubbles: true }));
  })()`);

async function waitStatus(
  port: number,
  token: string,
  ready: (s: Snapshot & Record<string, unknown>) => boolean,
) {
  for (let i = 0; i < 1200; i++) {
    const s = await fetch(`http://127.0.0.1:${port}/api/state`, {
      headers: { authorization: `Bearer ${token}` },
    }).then((r) => r.json() as Promise<Snapshot & Record<string, unknown>>);
    if (ready(s)) return s;
    await sleep(50);
  }
  throw new Error('the run did not get there');
}

const nextRun = async (port: number, token: string) =>
  ((await waitStatus(port, token, () => true)).run as number) + 1;

// The page's side of the cross-check: this harness and every process it started that is not the app
// (Chromium's). Processes that exit meanwhile take their time with them: rough.
function driverCpuUs(appPids: number[]): number {
  const app = new Set(appPids.flatMap((pid) => processTree(pid)));
  const others = processTree(process.pid).filter((pid) => pid !== process.pid && !app.has(pid));
  const self = process.cpuUsage();
  return self.user + self.system + cpuOf(others);
}

function cpuOf(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      return sum + cpuSample(pid).cpuUs;
    } catch {
      return sum;
    }
  }, 0);
}

interface Round {
  round: number;
  accepts: { ackMs: number; effectMs: number; changes: number };
  steps: { pageMs: number; pageP95Ms: number; nodeStreamMs: number; count: number };
  busy: { fps: number; longestFrameMs: number; appCpuCores: number; machineBusyLessDriverCores: number };
}

const app = await startApp();
const browser = await launchChromium();
const result = {
  machine: { ...describeMachine(), node: process.version },
  date: new Date().toISOString(),
  rounds: [] as Round[],
};
try {
  for (let round = 1; round <= ROUNDS; round++) {
    // Latency: 60 clients arriving 20 a second into a queue of 1024, Accepts per second switched
    // between 0 and max every 400 ms while they come.
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(
      `${app.url}&backlog=1024&clients=60&arrivalPerSecond=20&acceptsPerSecond=0&clientTimeoutS=10`,
    );
    await page.locator('#presets button').first().waitFor();
    await page.evaluate(instrument(await nextRun(app.port, app.token)));
    await page.evaluate(
      `document.addEventListener('playground:rendered', (e) => { window.__lastChanges = (e.detail.acceptChanges ?? []).length; })`,
    );
    const nodeSteps: number[] = [];
    const stopStream = streamClient(app.port, app.token, nodeSteps);
    await page.getByRole('button', { name: 'Run' }).click();
    await waitStatus(app.port, app.token, (s) => s.status === 'running');
    for (let i = 0; i < 8; i++) {
      await sleep(400);
      await setRate(page, i % 2 === 0 ? 11 : 0);
    }
    await setRate(page, 11);
    await waitStatus(app.port, app.token, (s) => ['finished', 'stopped', 'failed'].includes(s.status));
    await sleep(300);
    const latency = (await page.evaluate(
      '({ steps: __bench.steps, ack: __bench.ack, effect: __bench.effect })',
    )) as {
      steps: number[];
      ack: number[];
      effect: number[];
    };
    stopStream();
    await page.close();

    // 500 clients in flight: all at once against backlog 128, 100 accepts a second, 10 s timeouts.
    const busy = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await busy.goto(
      `${app.url}&backlog=128&clients=500&arrivalPerSecond=0&acceptsPerSecond=100&clientTimeoutS=10`,
    );
    await busy.locator('#presets button').first().waitFor();
    await busy.evaluate(instrument(await nextRun(app.port, app.token)));
    await busy.getByRole('button', { name: 'Run' }).click();
    const running = await waitStatus(
      app.port,
      app.token,
      (s) => s.status === 'running' && s.namespace !== undefined,
    );
    const pids = [app.child.pid as number, ...(running.namespace ? [running.namespace.pid] : [])];
    const cpu0 = cpuOf(pids);
    const [busy0, driver0] = [machineBusyUs(), driverCpuUs(pids)];
    const t0 = performance.now();
    const f0 = (await busy.evaluate('__bench.frames.length')) as number;
    await sleep(5000);
    const f1 = (await busy.evaluate('__bench.frames.length')) as number;
    const wall = performance.now() - t0;
    const [busy1, driver1] = [machineBusyUs(), driverCpuUs(pids)];
    const cpu1 = cpuOf(pids);
    const frames = (await busy.evaluate('__bench.frames')) as number[];
    const window = frames.slice(f0, f1);
    const gaps = window.slice(1).map((t, i) => t - (window[i] as number));
    await waitStatus(app.port, app.token, (s) => ['finished', 'stopped', 'failed'].includes(s.status));
    await busy.close();
    const row: Round = {
      round,
      accepts: { ackMs: median(latency.ack), effectMs: median(latency.effect), changes: latency.ack.length },
      steps: {
        pageMs: median(latency.steps),
        pageP95Ms: latency.steps.sort((a, b) => a - b)[Math.floor(latency.steps.length * 0.95)] ?? 0,
        nodeStreamMs: median(nodeSteps),
        count: latency.steps.length,
      },
      busy: {
        fps: ((f1 - f0) / wall) * 1000,
        longestFrameMs: Math.max(0, ...gaps),
        appCpuCores: (cpu1 - cpu0) / 1000 / wall,
        machineBusyLessDriverCores: (busy1 - busy0 - (driver1 - driver0)) / 1000 / wall,
      },
    };
    result.rounds.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
} finally {
  await browser.close();
  app.child.kill('SIGTERM');
  await once(app.child, 'close');
}
const pick = (f: (r: Round) => number) => median(result.rounds.map(f));
const summary = {
  acceptsAckMs: pick((r) => r.accepts.ackMs),
  acceptsEffectMs: pick((r) => r.accepts.effectMs),
  stepPageMs: pick((r) => r.steps.pageMs),
  stepPageP95Ms: pick((r) => r.steps.pageP95Ms),
  stepNodeStreamMs: pick((r) => r.steps.nodeStreamMs),
  fps500: pick((r) => r.busy.fps),
  longestFrameMs: pick((r) => r.busy.longestFrameMs),
  appCpuCores500: pick((r) => r.busy.appCpuCores),
  machineBusyLessDriverCores500: pick((r) => r.busy.machineBusyLessDriverCores),
};
process.stdout.write(`${JSON.stringify({ ...result.machine, ...summary }, null, 2)}\n`);
if (values.json) writeFileSync(values.json, `${JSON.stringify({ ...result, summary }, null, 2)}\n`);
