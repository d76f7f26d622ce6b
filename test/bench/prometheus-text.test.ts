// The exposition parser of the harness and the tests (bench/lib/prometheus-text.ts), against what
// prom-client (the library /metrics is served by) writes, and the format's corners.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parseSamples, sampleValue } from '../../bench/lib/prometheus-text.ts';

test("prom-client's exposition: every sample with its labels and value, comments passed over", async () => {
  const registry = new Registry();
  const served = new Counter({
    name: 'daytime_served_total',
    help: 'Replies sent.',
    labelNames: ['service', 'transport'],
    registers: [registry],
  });
  served.inc({ service: 'daytime', transport: 'tcp' }, 3);
  served.inc({ service: 'time', transport: 'udp' });
  const up = new Gauge({
    name: 'daytime_worker_up',
    help: 'Up.',
    labelNames: ['worker'],
    registers: [registry],
  });
  up.set({ worker: '1' }, 1);
  up.set({ worker: '2' }, 0);
  const odd = new Gauge({
    name: 'odd',
    help: 'Label values that need escapes.',
    labelNames: ['v'],
    registers: [registry],
  });
  odd.set({ v: 'a "quoted", back\\slash,\nnew line, {braces} 1' }, -2.5);
  const delay = new Histogram({
    name: 'delay_seconds',
    help: 'Delay.',
    buckets: [0.1, 1],
    registers: [registry],
  });
  delay.observe(0.5);
  const text = await registry.metrics();
  assert.match(text, /^# HELP /m);

  const samples = parseSamples(text);
  assert.equal(sampleValue(samples, 'daytime_served_total', { service: 'daytime', transport: 'tcp' }), 3);
  assert.equal(sampleValue(text, 'daytime_served_total', { transport: 'udp', service: 'time' }), 1);
  assert.equal(sampleValue(text, 'daytime_served_total'), undefined, 'no bare sample of a labelled metric');
  assert.equal(
    sampleValue(text, 'daytime_served_total', { service: 'daytime' }),
    undefined,
    'labels exactly',
  );
  assert.equal(sampleValue(text, 'daytime_worker_up', { worker: '2' }), 0);
  assert.equal(sampleValue(text, 'odd', { v: 'a "quoted", back\\slash,\nnew line, {braces} 1' }), -2.5);
  assert.equal(sampleValue(text, 'delay_seconds_bucket', { le: '+Inf' }), 1);
  assert.equal(sampleValue(text, 'delay_seconds_bucket', { le: '0.1' }), 0);
  assert.equal(sampleValue(text, 'delay_seconds_sum'), 0.5);
  assert.equal(sampleValue(text, 'no_such_metric'), undefined);
  const series = samples.filter((s) => s.name === 'daytime_served_total').map((s) => s.series);
  assert.deepEqual(series, [
    'daytime_served_total{service="daytime",transport="tcp"}',
    'daytime_served_total{service="time",transport="udp"}',
  ]);
  // Every line that is not a comment or blank is a sample.
  assert.equal(samples.length, text.split('\n').filter((l) => l && !l.startsWith('#')).length);
});

test('the corners of the format: special values, timestamps, empty labels, lines that are not samples', () => {
  const samples = parseSamples(
    [
      '# TYPE a gauge',
      'a +Inf',
      'b{} -Inf 1700000000000',
      'c{x="1",} NaN',
      'd 1e3',
      '',
      '# a comment',
      'e{x="unterminated} 1',
      'f',
      'g notanumber',
      'h{x=1} 2',
    ].join('\n'),
  );
  assert.deepEqual(
    samples.map((s) => [s.name, s.labels, s.value]),
    [
      ['a', {}, Number.POSITIVE_INFINITY],
      ['b', {}, Number.NEGATIVE_INFINITY],
      ['c', { x: '1' }, Number.NaN],
      ['d', {}, 1000],
    ],
  );
});
