import { destination, pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs to stderr, so stdout carries only the plain lines scripts wait
 * for. Callers log ids and sizes, never tokens or message contents.
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid } }, destination({ dest: 2, sync: true }));
}
