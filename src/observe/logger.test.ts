import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('writes JSON lines carrying bound fields such as the run id', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', level: 'info', write: (l) => lines.push(l) }).child({
      run_id: 'r1',
    });
    log.debug('hidden');
    log.info('node finished', { node: 'model.a', rows: 3n });
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(parsed).toMatchObject({
      level: 'info',
      msg: 'node finished',
      run_id: 'r1',
      node: 'model.a',
      rows: '3',
    });
  });

  it('writes plain text lines with fields', () => {
    const lines: string[] = [];
    const log = createLogger({
      format: 'text',
      level: 'debug',
      write: (l) => lines.push(l),
      now: () => new Date(0),
    });
    log.warn('careful', { x: 1 });
    expect(lines[0]).toBe('1970-01-01T00:00:00.000Z warn  careful x=1\n');
  });
});
