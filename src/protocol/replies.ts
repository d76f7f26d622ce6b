import { type DaytimeFormat, daytimeLine } from './daytime.ts';
import { encodeTime } from './time.ts';

export const SERVICES = ['daytime', 'time'] as const;
export type ServiceName = (typeof SERVICES)[number];

// Replies change once a second, so they are formatted and encoded once a second, not once per
// connection or datagram.
export class ReplyClock {
  readonly #format: DaytimeFormat;
  #second = Number.NaN;
  #daytime: Buffer = Buffer.alloc(0);
  #time: Buffer = Buffer.alloc(0);

  constructor(format: DaytimeFormat) {
    this.#format = format;
  }

  reply(service: ServiceName, now = Date.now()): Buffer {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#daytime = Buffer.from(daytimeLine(new Date(second * 1000), this.#format), 'latin1');
      this.#time = encodeTime(second * 1000);
    }
    return service === 'daytime' ? this.#daytime : this.#time;
  }
}
