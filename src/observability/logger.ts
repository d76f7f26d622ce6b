import type { Logger } from 'pino';

// pino, or anything with the same four methods.
export type ServerLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
