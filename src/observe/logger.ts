import type { LogFields, LogLevel, Logger } from '../core/logger.js';

/**
 * Loggers that write structured events to a sink: JSON lines (one object per line, every line
 * carrying the bound fields such as run_id) or plain text. The CLI owns the sink.
 */
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  readonly format: LogFormat;
  readonly level: LogLevel;
  readonly write: (line: string) => void;
  readonly fields?: LogFields;
  readonly now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields: LogFields): void => {
    if (ORDER[level] < ORDER[options.level]) return;
    if (options.format === 'json') {
      options.write(JSON.stringify({ ts: now().toISOString(), level, msg, ...fields }, jsonSafe) + '\n');
      return;
    }
    const extra = Object.entries(fields)
      .filter(([k]) => k !== 'run_id')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, jsonSafe)}`)
      .join(' ');
    options.write(`${now().toISOString()} ${level.padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}\n`);
  };
  const make = (bound: LogFields): Logger => ({
    debug: (msg, fields) => emit('debug', msg, { ...bound, ...fields }),
    info: (msg, fields) => emit('info', msg, { ...bound, ...fields }),
    warn: (msg, fields) => emit('warn', msg, { ...bound, ...fields }),
    error: (msg, fields) => emit('error', msg, { ...bound, ...fields }),
    child: (fields) => make({ ...bound, ...fields }),
  });
  return make(options.fields ?? {});
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
