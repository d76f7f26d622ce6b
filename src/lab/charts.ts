// Vega-Lite specs rendered to static SVG in Node (no browser, no canvas), for a report that works
// offline and has no JavaScript.
import type { BurstClient } from './experiments/burst.ts';
import type { CapacityRow } from './experiments/capacity.ts';

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
const CONFIG = { font: FONT, view: { stroke: null }, axis: { labelFont: FONT, titleFont: FONT } };

export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const compiled = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    ...spec,
  } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

// Connections the kernel queued for each backlog, with y = backlog + 1 for reference.
export function capacitySpec(rows: CapacityRow[]): Record<string, unknown> {
  return {
    title: 'Completed connections queued by a listener that never accepts',
    width: 420,
    height: 260,
    data: {
      values: rows.flatMap((r) => [
        { backlog: r.backlog, connections: r.connected, series: 'measured' },
        { backlog: r.backlog, connections: r.backlog + 1, series: 'backlog + 1' },
      ]),
    },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'backlog', type: 'quantitative', title: 'listen() backlog' },
          y: { field: 'connections', type: 'quantitative', title: 'connections queued' },
          color: { field: 'series', type: 'nominal', title: null },
          strokeDash: { field: 'series', type: 'nominal', legend: null },
        },
      },
    ],
  };
}

// One lane per client, one panel per backlog: from connect() to the handshake, and on to the reply.
export function timelineSpec(clients: BurstClient[], timeoutS: number): Record<string, unknown> {
  const values = clients.flatMap((c) => {
    const end = c.servedS ?? c.attemptS + timeoutS;
    const connected = c.connectedS ?? end;
    return [
      {
        backlog: `listen(${c.backlog})`,
        client: c.client,
        phase: c.connectedS === null ? 'no handshake' : 'connecting',
        from: c.attemptS,
        to: connected,
      },
      ...(c.connectedS === null
        ? []
        : [
            {
              backlog: `listen(${c.backlog})`,
              client: c.client,
              phase: c.outcome === 'served' ? 'waiting for the reply' : 'connected, never served',
              from: connected,
              to: end,
            },
          ]),
    ];
  });
  return {
    title: 'A burst of 20 clients behind a serial acceptor (one accept every 50 ms)',
    data: { values },
    facet: {
      row: {
        field: 'backlog',
        type: 'nominal',
        title: null,
        sort: ['listen(1)', 'listen(5)', 'listen(511)'],
      },
    },
    spec: {
      width: 520,
      height: 150,
      mark: { type: 'bar', height: 5 },
      encoding: {
        y: { field: 'client', type: 'ordinal', title: 'client', axis: { labels: false, ticks: false } },
        x: { field: 'from', type: 'quantitative', title: 'seconds since the burst' },
        x2: { field: 'to' },
        color: {
          field: 'phase',
          type: 'nominal',
          title: null,
          legend: { labelLimit: 400, orient: 'bottom' },
          scale: {
            domain: ['connecting', 'waiting for the reply', 'connected, never served', 'no handshake'],
            range: ['#9ecae1', '#31a354', '#de2d26', '#bdbdbd'],
          },
        },
      },
    },
  };
}

// Of a burst of 20 clients behind a serial acceptor, how many each backlog served.
export function burstServedSpec(
  rows: { backlog: number; served: number; timedOut: number }[],
): Record<string, unknown> {
  return {
    title: 'A burst of 20 clients: served, by backlog',
    width: 300,
    height: 160,
    data: {
      values: rows.flatMap((r) => [
        { backlog: `listen(${r.backlog})`, clients: r.served, outcome: 'served' },
        { backlog: `listen(${r.backlog})`, clients: 20 - r.served, outcome: 'never served' },
      ]),
    },
    mark: 'bar',
    encoding: {
      x: { field: 'backlog', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0 } },
      y: { field: 'clients', type: 'quantitative', title: 'clients', stack: true },
      color: {
        field: 'outcome',
        type: 'nominal',
        title: null,
        legend: { orient: 'bottom' },
        scale: { domain: ['served', 'never served'], range: ['#31a354', '#de2d26'] },
      },
    },
  };
}

// What a UDP socket that does not read kept of 2,000 datagrams.
export function udpSpec(udp: { kept: number; dropped: number }): Record<string, unknown> {
  return {
    title: '2,000 datagrams to a UDP socket that does not read',
    width: 300,
    height: 80,
    data: {
      values: [
        { outcome: 'kept', datagrams: udp.kept },
        { outcome: 'dropped', datagrams: udp.dropped },
      ],
    },
    mark: 'bar',
    encoding: {
      y: { field: 'outcome', type: 'nominal', title: null, sort: null },
      x: { field: 'datagrams', type: 'quantitative', title: 'datagrams' },
      color: {
        field: 'outcome',
        type: 'nominal',
        legend: null,
        scale: { domain: ['kept', 'dropped'], range: ['#31a354', '#de2d26'] },
      },
    },
  };
}
