import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PlaygroundSnapshot } from '../../src/playground/state.ts';
import { missingPeer } from '../helpers/peers.ts';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: () => { error?: { code: string; message: string } } & Record<string, unknown>;
}

// One HTTP request with full control of its headers (fetch will not let a test set Host).
export function request(
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/api/state',
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

// The API as a script uses it: the token in Authorization, JSON in and out.
export function api(port: number, token: string, method: string, path: string, body?: unknown) {
  return request(port, {
    method,
    path,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function state(port: number, token: string): Promise<PlaygroundSnapshot> {
  return (await api(port, token, 'GET', '/api/state')).json() as unknown as PlaygroundSnapshot;
}

// Polls the state until `ready` holds; a generous bound, never a timing assertion.
export async function waitForState(
  port: number,
  token: string,
  ready: (s: PlaygroundSnapshot) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<PlaygroundSnapshot> {
  const until = Date.now() + timeoutMs;
  let last = await state(port, token);
  while (!ready(last)) {
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last).slice(0, 600)}`);
    await sleep(50);
    last = await state(port, token);
  }
  return last;
}

// `ss` on the run's listener, in the run's own namespace where it has one: [Recv-Q, Send-Q].
export function ssListener(snapshot: PlaygroundSnapshot): [number, number] | undefined {
  const port = snapshot.listener?.port;
  const args = ['-Hltn', `sport = :${port}`];
  try {
    const out = snapshot.namespace
      ? execFileSync('nsenter', ['-t', String(snapshot.namespace.pid), '-n', 'ss', ...args], {
          encoding: 'utf8',
        })
      : execFileSync('ss', args, { encoding: 'utf8' });
    const cols = out.trim().split(/\s+/);
    return cols[0] === 'LISTEN' ? [Number(cols[1]), Number(cols[2])] : undefined;
  } catch {
    return undefined;
  }
}

// `ss` on the run's listener says [Recv-Q, Send-Q]; where ss is missing the test says so (and fails
// under CI, which installs iproute2).
export function assertSsSays(t: TestContext, snapshot: PlaygroundSnapshot, expected: [number, number]): void {
  if (!hasSs) {
    missingPeer(t, 'ss is missing (apt-get install iproute2): the check against ss is left out');
    return;
  }
  assert.deepEqual(
    ssListener(snapshot),
    expected,
    `ss on that listener: Recv-Q ${expected[0]}, Send-Q ${expected[1]}`,
  );
}

export const hasSs = (() => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export const finished = (s: PlaygroundSnapshot) => ['finished', 'stopped', 'failed'].includes(s.status);
