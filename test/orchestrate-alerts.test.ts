import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/core/logger.js';
import { alertsFor, type RunAlertInput } from '../src/observe/alerts/notify.js';
import { runCli } from './helpers/cli.js';
import { BASE_PROJECT, writeTree } from './orchestrate-helpers.js';

const FAILED: RunAlertInput = {
  pipeline: 'customer_analytics',
  runId: '20240101T060000Z-abc123',
  status: 'failed',
  partition: '2024-01-01',
  exhausted: ['model.shop.fct_orders'],
  failures: [
    {
      step: 'model.shop.fct_orders',
      where: 'models/fct_orders.sql:3',
      error: '[WEIR-E001] column "x" not found',
    },
  ],
};

async function httpReceiver(
  failFirst: number,
): Promise<{ url: string; bodies: unknown[]; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  let calls = 0;
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      calls++;
      if (calls <= failFirst) {
        res.statusCode = 503;
        res.end();
        return;
      }
      bodies.push(JSON.parse(text));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('alerts', () => {
  it('posts a Slack-compatible message, retrying a receiver that fails first; the text says what, where, the error and how to retry', async () => {
    const rx = await httpReceiver(1);
    try {
      await alertsFor([{ kind: 'slack', url: { $env: 'HOOK' } }], { HOOK: rx.url }, silentLogger)(FAILED);
      expect(rx.bodies).toHaveLength(2); // failure + retry_exhausted
      const text = (rx.bodies[0] as { text: string }).text;
      expect(text).toContain('customer_analytics');
      expect(text).toContain('models/fct_orders.sql:3');
      expect(text).toContain('column "x" not found');
      expect(text).toContain('weir runs retry 20240101T060000Z-abc123');
      expect((rx.bodies[1] as { text: string }).text).toContain('Retries exhausted');
    } finally {
      await rx.close();
    }
  });

  it('posts a generic JSON webhook only for the events it listens to', async () => {
    const rx = await httpReceiver(0);
    try {
      const send = alertsFor([{ kind: 'webhook', url: rx.url, on: ['success'] }], {}, silentLogger);
      await send(FAILED);
      expect(rx.bodies).toHaveLength(0);
      await send({ ...FAILED, status: 'success', failures: [], exhausted: [] });
      expect(rx.bodies).toEqual([
        expect.objectContaining({
          kind: 'success',
          pipeline: 'customer_analytics',
          run_id: FAILED.runId,
          partition: '2024-01-01',
        }),
      ]);
    } finally {
      await rx.close();
    }
  });

  it('sends email over SMTP to a real local server', async () => {
    const mails: string[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, callback) {
        let text = '';
        stream.on('data', (d: Buffer) => (text += d.toString()));
        stream.on('end', () => {
          mails.push(text);
          callback();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.server.address() as AddressInfo).port;
    try {
      await alertsFor(
        [
          {
            kind: 'email',
            to: ['oncall@example.com'],
            smtp: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
            on: ['failure'],
          },
        ],
        {},
        silentLogger,
      )(FAILED);
      expect(mails).toHaveLength(1);
      expect(mails[0]).toContain('Subject: [weir] Failed: pipeline customer_analytics partition 2024-01-01');
      expect(mails[0]).toContain('weir runs retry 20240101T060000Z-abc123');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a receiver that stays down is logged, never thrown', async () => {
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (msg: string) => errors.push(msg), child: () => logger };
    await alertsFor([{ kind: 'webhook', url: 'http://127.0.0.1:1/nothing' }], {}, logger)(FAILED);
    expect(errors).toContain('alert delivery failed');
  });

  it('weir pipeline run: a step that uses up its retries sends a failure and a retry_exhausted alert', async () => {
    const rx = await httpReceiver(0);
    const dir = await writeTree({
      ...BASE_PROJECT,
      'pipelines/flaky.ts': `
import { env, pipeline, webhook } from 'weir';
export default pipeline('flaky')
  .select('orders')
  .retries({ attempts: 2, delay: '10ms' })
  .step('boom', () => { throw new Error('partner API down'); }, { inputs: ['orders'] })
  .withObservability({ alerts: [webhook(env('HOOK'))] });
`,
    });
    try {
      const res = await runCli(['pipeline', 'run', 'flaky'], { cwd: dir, env: { HOOK: rx.url } });
      expect(res.code, res.stderr).toBe(1);
      const bodies = rx.bodies as Array<Record<string, unknown>>;
      expect(bodies.map((b) => b['kind'])).toEqual(['failure', 'retry_exhausted']);
      expect(bodies[1]?.['steps']).toEqual(['step.flaky.boom']);
      expect(String(bodies[0]?.['text'])).toContain('partner API down');
      expect(String(bodies[1]?.['text'])).toContain(`weir runs retry ${String(bodies[1]?.['run_id'])}`);
    } finally {
      await rx.close();
    }
  });
});
