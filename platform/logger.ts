import { pino, type ChildLoggerOptions, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout stays free for `--json` output).
 * Level from HALFLIFE_LOG_LEVEL; child loggers carry component, model and workflow ids.
 */
export function createLogger(component: string, level = process.env.HALFLIFE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}

/**
 * A child logger for one subsystem of a process, or for one part of a subsystem when `log`
 * already names one. Pino writes a repeated binding key twice rather than replacing it (a
 * line with two `subsystem` keys, of which a JSON reader keeps only the last), so a nested
 * part is named under `part`.
 */
export function subsystemLog(log: Logger, name: string, options?: ChildLoggerOptions): Logger {
  return log.child('subsystem' in log.bindings() ? { part: name } : { subsystem: name }, options);
}
