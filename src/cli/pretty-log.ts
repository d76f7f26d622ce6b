import { styleText } from 'node:util';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

interface LogRecord {
  level: number;
  time: number;
  msg?: string;
  err?: { message: string };
  service?: string;
  transport?: string;
}

// Turns one pino JSON line into "HH:MM:SS INFO  message" for people at a terminal. A line about one
// service says which ("time: Got a connection from ..."), as the JSON's `service` field does: with
// --time-port both services log the same sentence.
export function prettyLogLine(json: string, stream: NodeJS.WriteStream = process.stdout): string {
  const record = JSON.parse(json) as LogRecord;
  const time = new Date(record.time).toTimeString().slice(0, 8);
  const level = (LEVELS[record.level] ?? String(record.level)).padEnd(5);
  const colour = record.level >= 50 ? 'red' : record.level >= 40 ? 'yellow' : 'dim';
  const text = record.msg ?? record.err?.message ?? '';
  const service = record.service && `${record.service}${record.transport === 'udp' ? '/udp' : ''}`;
  const message = service && !text.startsWith(record.service ?? '') ? `${service}: ${text}` : text;
  return `${styleText('dim', time, { stream })} ${styleText(colour, level, { stream })} ${message}\n`;
}

// A pino destination that prints pretty lines; pino only needs write().
export function prettyDestination(stream: NodeJS.WriteStream = process.stdout): {
  write(line: string): void;
} {
  return { write: (line) => stream.write(prettyLogLine(line, stream)) };
}
