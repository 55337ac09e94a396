import { createRequire } from 'node:module';
import type * as Nodemailer from 'nodemailer';
import pRetry from 'p-retry';
import { WeirError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

/**
 * Alert notifiers: Slack-compatible webhooks, generic JSON webhooks and email over SMTP. Each
 * delivery is retried (3 tries, backoff from 200 ms); a delivery that still fails is logged, never
 * thrown: an alert must not fail the run it reports on.
 */
export const ALERT_KINDS = ['failure', 'success', 'retry_exhausted', 'sla_miss'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export type SecretValue = string | { readonly $env: string };

export type AlertTargetSpec =
  | { readonly kind: 'slack'; readonly url: SecretValue; readonly on?: readonly AlertKind[] }
  | { readonly kind: 'webhook'; readonly url: SecretValue; readonly on?: readonly AlertKind[] }
  | {
      readonly kind: 'email';
      readonly to: readonly string[];
      readonly from?: string;
      readonly smtp: SecretValue;
      readonly on?: readonly AlertKind[];
    };

export interface RunAlertInput {
  readonly pipeline: string;
  readonly runId: string;
  readonly status: 'success' | 'failed' | 'cancelled';
  readonly partition?: string | undefined;
  readonly exhausted: readonly string[];
  readonly failures: ReadonlyArray<{ readonly step: string; readonly where: string; readonly error: string }>;
  /** For SLA misses: what was late. */
  readonly sla?: string;
}

export interface Alert {
  readonly kind: AlertKind;
  readonly title: string;
  readonly text: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export const ALERT_SECRET_MISSING = 'WEIR-O060';
export const ALERT_DELIVERY_FAILED = 'WEIR-O061';

/** The alerts a run produces: failure / success, plus retry_exhausted when retries ran out. */
export function alertsOf(input: RunAlertInput): Alert[] {
  const where = `pipeline ${input.pipeline}${input.partition ? ` partition ${input.partition}` : ''}`;
  const retry = `weir runs retry ${input.runId}`;
  const out: Alert[] = [];
  const base = {
    pipeline: input.pipeline,
    run_id: input.runId,
    status: input.status,
    partition: input.partition ?? null,
  };
  if (input.sla) {
    out.push({
      kind: 'sla_miss',
      title: `SLA missed: ${where}`,
      text: `SLA missed: ${where} had not succeeded by ${input.sla} (run ${input.runId}, ${input.status}). See \`weir runs show ${input.runId}\`.`,
      payload: { ...base, kind: 'sla_miss', sla: input.sla },
    });
    return out;
  }
  if (input.status === 'success') {
    out.push({
      kind: 'success',
      title: `Succeeded: ${where}`,
      text: `Succeeded: ${where} (run ${input.runId}).`,
      payload: { ...base, kind: 'success' },
    });
    return out;
  }
  const lines = input.failures.map((f) => `- ${f.step} at ${f.where}: ${f.error.split('\n')[0]}`);
  out.push({
    kind: 'failure',
    title: `Failed: ${where}`,
    text: `Failed: ${where} (run ${input.runId}, ${input.status}).\n${lines.join('\n')}\nRetry the failed steps with \`${retry}\`; details: \`weir logs ${input.runId}\`.`,
    payload: { ...base, kind: 'failure', failures: input.failures, retry_command: retry },
  });
  if (input.exhausted.length) {
    out.push({
      kind: 'retry_exhausted',
      title: `Retries exhausted: ${where}`,
      text: `Retries exhausted in ${where} (run ${input.runId}): ${input.exhausted.join(', ')}.\nFix the cause, then \`${retry}\`.`,
      payload: { ...base, kind: 'retry_exhausted', steps: input.exhausted, retry_command: retry },
    });
  }
  return out;
}

export interface SlaAlertInput {
  readonly pipeline: string;
  readonly kind: 'deadline' | 'max_duration';
  /** What the SLA said: `09:00 Europe/Berlin on 2024-03-31`, `max duration 30m (...)`. */
  readonly sla: string;
  /** The late run, or the day's latest run; null when none ran. */
  readonly runId: string | null;
  readonly status: string | null;
}

/** The alert for one SLA miss (deadline passed without success, or a run running too long). */
export function slaMissAlert(input: SlaAlertInput): Alert {
  const where = `pipeline ${input.pipeline}`;
  const what =
    input.kind === 'deadline'
      ? `${where} had not succeeded by ${input.sla}`
      : `${where} run ${input.runId ?? '?'} exceeded its ${input.sla}`;
  const run = input.runId
    ? ` Latest run ${input.runId} is ${input.status ?? 'unknown'}: see \`weir runs show ${input.runId}\`.`
    : ' No run of it started that day: check that `weir serve` is running, or start one with `weir pipeline run ' +
      input.pipeline +
      '`.';
  return {
    kind: 'sla_miss',
    title: `SLA missed: ${where}`,
    text: `SLA missed: ${what}.${run}`,
    payload: {
      kind: 'sla_miss',
      pipeline: input.pipeline,
      sla_kind: input.kind,
      sla: input.sla,
      run_id: input.runId,
      status: input.status,
    },
  };
}

function reveal(value: SecretValue, env: Readonly<Record<string, string | undefined>>): string {
  if (typeof value === 'string') return value;
  const v = env[value.$env];
  if (!v) {
    throw new WeirError(
      ALERT_SECRET_MISSING,
      `alert target needs the environment variable ${value.$env}, which is not set`,
      {
        hint: `export ${value.$env}=... before running Weir`,
      },
    );
  }
  return v;
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

/** Sends one alert to one target, with retries. */
export async function deliver(
  target: AlertTargetSpec,
  alert: Alert,
  env: Readonly<Record<string, string | undefined>>,
  retries = 2,
): Promise<void> {
  const send = async (): Promise<void> => {
    switch (target.kind) {
      case 'slack':
        return postJson(reveal(target.url, env), { text: alert.text });
      case 'webhook':
        return postJson(reveal(target.url, env), { ...alert.payload, title: alert.title, text: alert.text });
      case 'email': {
        const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof Nodemailer;
        const transport = nodemailer.createTransport(reveal(target.smtp, env));
        try {
          await transport.sendMail({
            from: target.from ?? 'weir@localhost',
            to: [...target.to],
            subject: `[weir] ${alert.title}`,
            text: alert.text,
          });
        } finally {
          transport.close();
        }
      }
    }
  };
  await pRetry(send, { retries, minTimeout: 200, factor: 2, randomize: false });
}

/** Delivers one alert to every target listening for its kind; failures are logged. */
export async function sendAlert(
  targets: readonly AlertTargetSpec[],
  alert: Alert,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<void> {
  for (const target of targets) {
    const on = target.on ?? ['failure', 'retry_exhausted', 'sla_miss'];
    if (!on.includes(alert.kind)) continue;
    try {
      await deliver(target, alert, env);
    } catch (err) {
      logger.error('alert delivery failed', {
        code: ALERT_DELIVERY_FAILED,
        target: target.kind,
        alert: alert.kind,
        error: errorMessage(err),
      });
    }
  }
}

/** A function delivering a run's alerts to every target that listens for them. */
export function alertsFor(
  targets: readonly AlertTargetSpec[],
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): (input: RunAlertInput) => Promise<void> {
  return async (input) => {
    for (const alert of alertsOf(input)) await sendAlert(targets, alert, env, logger);
  };
}
