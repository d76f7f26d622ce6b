// RFC 867 daytime: any single line of ASCII text. These formatters are pure; the server caches their
// output once per second so the per-connection path does no formatting.

export const DAYTIME_FORMATS = ['ctime', 'iso', 'rfc2822'] as const;
export type DaytimeFormat = (typeof DAYTIME_FORMATS)[number];

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

// C ctime() as Python's time.ctime() prints it: "%a %b %e %H:%M:%S %Y", local time, day padded with a
// space. JavaScript's Date.prototype.toString() is a different format, hence by hand.
export function ctime(date: Date): string {
  const day = date.getDate();
  return (
    `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${day < 10 ? ` ${day}` : day} ` +
    `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())} ${date.getFullYear()}`
  );
}

// Local UTC offset as "+hh:mm" (colon) or "+hhmm" (no colon). getTimezoneOffset() is minutes *behind* UTC.
function utcOffset(date: Date, colon: boolean): string {
  const behind = date.getTimezoneOffset();
  const ahead = Math.abs(behind);
  return `${behind > 0 ? '-' : '+'}${pad2(Math.floor(ahead / 60))}${colon ? ':' : ''}${pad2(ahead % 60)}`;
}

// RFC 3339, local time with its offset, whole seconds: what `date -Iseconds` prints.
export function iso(date: Date): string {
  return (
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}` +
    `T${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}${utcOffset(date, true)}`
  );
}

// RFC 2822 (section 3.3), local time: what `date -R` prints.
export function rfc2822(date: Date): string {
  return (
    `${DAYS[date.getDay()]}, ${pad2(date.getDate())} ${MONTHS[date.getMonth()]} ${date.getFullYear()} ` +
    `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())} ${utcOffset(date, false)}`
  );
}

const FORMATTERS: Record<DaytimeFormat, (date: Date) => string> = { ctime, iso, rfc2822 };

// The full reply for one connection or datagram: the formatted time and CRLF.
export function daytimeLine(date: Date, format: DaytimeFormat = 'ctime'): string {
  return `${FORMATTERS[format](date)}\r\n`;
}
