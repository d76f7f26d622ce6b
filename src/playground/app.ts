import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpStatusOf } from '../error-catalog.ts';
import { DaytimeError, InvalidOptionError } from '../errors.ts';
import { formatHostPort } from '../net/address.ts';
import { readAsset } from './assets.ts';
import { playgroundConfig } from './config.ts';
import { allowedHosts, refuse } from './guard.ts';
import { HttpError, json, page401, readJson, SECURITY_HEADERS } from './http.ts';
import { type PlaygroundRun, runPlayground } from './run-playground.ts';
import { idleSnapshot, isFinal, type PlaygroundSnapshot, type PlaygroundTick } from './state.ts';

export interface PlaygroundAppOptions {
  host?: string;
  port?: number;
  // A fixed token (tests); a random one otherwise.
  token?: string;
  // Each run's last snapshot, once it has ended.
  onRunEnd?: (snapshot: PlaygroundSnapshot) => void;
}

export interface PlaygroundApp {
  // http://HOST:PORT/?token=TOKEN
  url: string;
  host: string;
  port: number;
  token: string;
  // Stops a run that goes on (its namespace and sockets go with it) and closes the app.
  close(): Promise<void>;
}

const KEEPALIVE_MS = 15_000;
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

// The playground's web app on node:http: the page, the JSON API under /api/, and a server-sent
// events stream of every tick. One run at a time.
export async function createPlaygroundApp(options: PlaygroundAppOptions = {}): Promise<PlaygroundApp> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(18).toString('base64url');
  let run: PlaygroundRun | undefined;
  let stopRun: AbortController | undefined;
  let last: PlaygroundSnapshot = idleSnapshot();
  let runs = 0;
  const streams = new Set<ServerResponse>();
  const broadcast = (event: string, data: unknown) => {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const stream of streams) stream.write(text);
  };
  const snapshot = () => run?.snapshot() ?? last;

  const startRun = (input: unknown): PlaygroundSnapshot => {
    if (run && !isFinal(run.snapshot().status)) {
      throw new HttpError('ERR_RUN_GOING', 'a run is going on: one at a time (stop it with DELETE /api/run)');
    }
    const stop = new AbortController();
    const number = runs + 1;
    const started = runPlayground(input, {
      signal: stop.signal,
      run: number,
      onTick: (tick: PlaygroundTick) => broadcast('tick', { run: number, ...tick }),
    });
    runs = number;
    stopRun = stop;
    run = started;
    broadcast('snapshot', started.snapshot());
    started.done.then((final) => {
      last = final;
      options.onRunEnd?.(final);
    });
    return started.snapshot();
  };

  const api = async (request: IncomingMessage, response: ServerResponse, path: string) => {
    const method = request.method ?? 'GET';
    const route = `${method} ${path}`;
    switch (route) {
      case 'GET /api/config':
        return json(response, 200, playgroundConfig());
      case 'GET /api/state':
        return json(response, 200, snapshot());
      case 'GET /api/events':
        return events(response);
      case 'POST /api/run':
        return json(response, 202, startRun(await readJson(request)));
      case 'PATCH /api/run': {
        const body = (await readJson(request)) as { acceptsPerSecond?: unknown } | null;
        if (!run || isFinal(run.snapshot().status)) throw new HttpError('ERR_NO_RUN', 'no run is going on');
        if (body?.acceptsPerSecond === undefined) {
          throw new InvalidOptionError(
            'acceptsPerSecond',
            'given (an integer from 0 to 1000, or "max")',
            'nothing',
          );
        }
        return json(response, 200, { acceptsPerSecond: run.setAcceptsPerSecond(body.acceptsPerSecond) });
      }
      case 'DELETE /api/run': {
        stopRun?.abort();
        return json(response, 200, run ? await run.done : snapshot());
      }
    }
    if (['/api/config', '/api/state', '/api/events', '/api/run'].includes(path)) {
      throw new HttpError('ERR_METHOD', `${method} is not allowed on ${path}`);
    }
    throw new HttpError('ERR_NOT_FOUND', `no such API: ${path}`);
  };

  const events = (response: ServerResponse) => {
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream',
      connection: 'keep-alive',
    });
    response.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`);
    streams.add(response);
    const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
    response.on('close', () => {
      clearInterval(keepalive);
      streams.delete(response);
    });
  };

  let hosts = new Set<string>();
  const server = http.createServer(async (request, response) => {
    try {
      const url = new URL(request.url ?? '/', 'http://playground.invalid');
      const isApi = url.pathname.startsWith('/api/');
      const refusal = refuse(request, url, { hosts, token, needsToken: isApi || url.pathname === '/' });
      if (refusal) {
        if (!isApi && refusal.code === 'ERR_TOKEN') return page401(response);
        return json(response, httpStatusOf(refusal.code), {
          error: { code: refusal.code, message: refusal.message },
        });
      }
      if (isApi) return await api(request, response, url.pathname);
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        throw new HttpError('ERR_METHOD', `${request.method} is not allowed here`);
      }
      const asset = await readAsset(url.pathname);
      if (!asset) throw new HttpError('ERR_NOT_FOUND', `nothing at ${url.pathname}`);
      // The lab's report is a document of its own with its styles inline, and no scripts.
      const csp = url.pathname === '/lab-report.html' ? { 'content-security-policy': REPORT_CSP } : {};
      response.writeHead(200, { ...SECURITY_HEADERS, ...csp, 'content-type': asset.type });
      response.end(request.method === 'HEAD' ? undefined : asset.body);
    } catch (error) {
      // The catalog's status for the code (400 for bad parameters); 500 for anything else.
      const status = error instanceof DaytimeError ? httpStatusOf(error.code) : 500;
      const code = error instanceof DaytimeError ? error.code : 'ERR_INTERNAL';
      const message = error instanceof Error ? error.message : String(error);
      if (!response.headersSent) json(response, status, { error: { code, message } });
      else response.end();
    }
  });
  server.listen(options.port ?? 0, host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw error;
    }),
  ]);
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(host, port);
  return {
    url: `http://${formatHostPort(host, port)}/?token=${token}`,
    host,
    port,
    token,
    async close() {
      stopRun?.abort();
      if (run) await run.done;
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => {});
    },
  };
}
