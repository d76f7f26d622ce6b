import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { ctime, daytimeLine, iso, rfc2822 } from '../../src/protocol/daytime.ts';

// Made by GNU date (see make-daytime-fixtures.sh), an implementation independent of ours and of Node's ICU.
interface Fixture {
  tz: string;
  epoch: number;
  ctime: string;
  iso: string;
  rfc2822: string;
}
const fixtures: Fixture[] = JSON.parse(
  readFileSync(new URL('../fixtures/daytime-fixtures.json', import.meta.url), 'utf8'),
);
const zones = [...new Set(fixtures.map((f) => f.tz))];
const savedTz = process.env.TZ;
after(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

for (const tz of zones) {
  describe(`daytime formats in TZ=${tz} match GNU date`, () => {
    for (const f of fixtures.filter((x) => x.tz === tz)) {
      test(`${f.epoch} is "${f.ctime}"`, () => {
        // Node re-reads TZ whenever process.env.TZ is assigned, so each case sets it again.
        process.env.TZ = tz;
        const date = new Date(f.epoch * 1000);
        assert.equal(ctime(date), f.ctime);
        assert.equal(iso(date), f.iso);
        assert.equal(rfc2822(date), f.rfc2822);
      });
    }
  });
}

test('the fixtures cover single-digit days, DST changes, a non-UTC zone and years after 2038', () => {
  assert.ok(fixtures.some((f) => /^\w{3} \w{3} {2}\d /.test(f.ctime)));
  assert.ok(fixtures.some((f) => f.tz !== 'UTC'));
  assert.ok(fixtures.some((f) => Number(f.ctime.slice(-4)) > 2038));
  // A DST change: the same zone shows two different offsets among the fixtures.
  const offsets = new Set(fixtures.filter((f) => f.tz === 'Europe/Berlin').map((f) => f.iso.slice(-6)));
  assert.ok(offsets.size >= 2);
});

test('a daytime line is the formatted time followed by CRLF, 26 bytes in ctime format', () => {
  process.env.TZ = 'UTC';
  const line = daytimeLine(new Date(Date.UTC(2026, 10, 4, 9, 5, 0)));
  assert.equal(line, 'Wed Nov  4 09:05:00 2026\r\n');
  assert.equal(Buffer.byteLength(line), 26);
  assert.ok(daytimeLine(new Date(0), 'iso').endsWith('+00:00\r\n'));
  assert.ok(daytimeLine(new Date(0), 'rfc2822').endsWith('+0000\r\n'));
});
