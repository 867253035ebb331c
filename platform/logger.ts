import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout stays free for `--json` output).
 * Level from HALFLIFE_LOG_LEVEL; child loggers carry component, model and workflow ids.
 */
export function createLogger(component: string, level = process.env.HALFLIFE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
