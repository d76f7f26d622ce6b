import { type DaytimeFormat, daytimeLine } from '../protocol/daytime.ts';

// The reply changes once a second, so it is formatted and encoded once a second, not once per connection.
export class LineClock {
  readonly #format: DaytimeFormat;
  #second = Number.NaN;
  #line: Buffer = Buffer.alloc(0);

  constructor(format: DaytimeFormat) {
    this.#format = format;
  }

  line(now = Date.now()): Buffer {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#line = Buffer.from(daytimeLine(new Date(second * 1000), this.#format), 'latin1');
    }
    return this.#line;
  }
}
