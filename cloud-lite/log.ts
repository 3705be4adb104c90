import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Structured JSON logs (pino) to stderr, or to `destination` when given (tests). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { app: 'cloud-lite' } }, destination ?? pino.destination(2));
}
