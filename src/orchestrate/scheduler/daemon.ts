import { WeirError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { OrchestrationStore } from '../../core/orchestration-store.js';
import type { RunRecord, StateStore } from '../../core/state-store.js';
import type { PipelineSpec } from '../pipeline/load-pipelines.js';
import { newRunId } from '../run.js';
import { pollSensor, sensorSource, type SensorFiring } from '../sensors/evaluate.js';
import { findSlaMisses, type SlaMiss } from './sla.js';
import { dueTicks } from './ticks.js';

/**
 * The scheduler daemon. Exactly one daemon acts at a time: each loop it takes or renews the
 * `scheduler` lease (atomic in the store); a daemon that dies stops renewing and another takes
 * over once the lease expires. Each tick is claimed with its unique key (pipeline, scheduled
 * time) before its run starts, so no tick fires twice even if two daemons overlap. Runs whose
 * process died (their heartbeat went stale) are resumed: their succeeded steps are kept and the
 * rest run again under their retry policy. Under the same lease it evaluates the pipelines'
 * sensors (each firing claimed by its unique key with the new cursor, so it triggers one run) and
 * checks their SLAs (each miss claimed by its key, so it alerts once).
 */
export const SCHEDULER_LEASE = 'scheduler';

export interface DaemonOptions {
  readonly store: OrchestrationStore;
  readonly pipelines: readonly PipelineSpec[];
  /** Unique per daemon process. */
  readonly owner: string;
  readonly logger: Logger;
  /** Runs a pipeline for a tick; resolves when the run ends. */
  readonly launch: (spec: PipelineSpec, scheduledAt: string, runId: string) => Promise<unknown>;
  /** Resumes a run whose process died. */
  readonly resume: (run: RunRecord, spec: PipelineSpec) => Promise<unknown>;
  /** Reads a run (to resume it). */
  readonly getRun: (runId: string) => Promise<RunRecord | undefined>;
  readonly leaseTtlMs?: number;
  readonly pollMs?: number;
  /** A run whose heartbeat is older than this is dead (default 3 x lease TTL... at least 5 s). */
  readonly staleMs?: number;
  readonly now?: () => Date;
  /** Runs a pipeline for a sensor firing; without it sensors are not evaluated. */
  readonly launchSensor?: (spec: PipelineSpec, firing: SensorFiring) => Promise<unknown>;
  /** Where sensors look: the project root and run history (asset sensors, SLAs). */
  readonly root?: string;
  readonly state?: Pick<StateStore, 'nodeHistory' | 'listRuns' | 'getRun'>;
  /** Sends an SLA-miss alert; without it SLAs are not checked. */
  readonly alertSla?: (spec: PipelineSpec, miss: SlaMiss) => Promise<void>;
  /** How often SLAs are checked (default 10 s). */
  readonly slaCheckMs?: number;
}

export class SchedulerDaemon {
  readonly #o: DaemonOptions;
  readonly #since: Date;
  readonly #inflight = new Map<string, Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  #looping = false;
  #stopped = false;
  #leader = false;
  readonly #sensorEvaluatedAt = new Map<string, number>();
  #slaCheckedAt: number | undefined;

  constructor(options: DaemonOptions) {
    this.#o = options;
    this.#since = this.#now();
  }

  #now(): Date {
    return this.#o.now ? this.#o.now() : new Date();
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Runs in flight, by run id. */
  get running(): ReadonlyMap<string, Promise<unknown>> {
    return this.#inflight;
  }

  start(): void {
    const loop = (): void => {
      if (this.#stopped) return;
      this.tickOnce()
        .catch((err: unknown) => this.#o.logger.error('scheduler loop failed', { error: errorMessage(err) }))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, this.#o.pollMs ?? 1000);
        });
    };
    loop();
  }

  /** Stops scheduling; waits for the runs in flight; gives the lease up. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.allSettled([...this.#inflight.values()]);
    await this.#o.store.releaseLease(SCHEDULER_LEASE, this.#o.owner);
  }

  /** One scheduling pass (exposed for tests with an injected clock). */
  async tickOnce(): Promise<void> {
    if (this.#looping) return;
    this.#looping = true;
    try {
      const { store, owner } = this.#o;
      const ttl = this.#o.leaseTtlMs ?? 15_000;
      const now = this.#now();
      this.#leader = await store.acquireLease(SCHEDULER_LEASE, owner, ttl, now);
      if (!this.#leader) return;
      await this.#resumeDead(now);
      for (const spec of this.#o.pipelines) {
        if (!spec.schedule) continue;
        const lastText = await store.lastTick(spec.name);
        const due = dueTicks(spec.schedule, now, lastText ? new Date(lastText) : undefined, this.#since);
        for (const at of due) {
          const scheduledAt = at.toISOString();
          const runId = newRunId(now);
          const claimed = await store.claimTick({
            pipeline: spec.name,
            scheduledAt,
            firedAt: now.toISOString(),
            owner,
            runId,
          });
          if (!claimed) continue;
          this.#o.logger.info('tick fired', {
            pipeline: spec.name,
            scheduled_at: scheduledAt,
            run_id: runId,
          });
          this.#track(runId, this.#o.launch(spec, scheduledAt, runId));
        }
      }
      await this.#pollSensors(now);
      await this.#checkSlas(now);
    } finally {
      this.#looping = false;
    }
  }

  async #pollSensors(now: Date): Promise<void> {
    const { launchSensor, state, root } = this.#o;
    if (!launchSensor || !state || root === undefined) return;
    for (const spec of this.#o.pipelines) {
      for (const def of spec.sensors) {
        const source = sensorSource(spec.name, def.name);
        const last = this.#sensorEvaluatedAt.get(source);
        if (last !== undefined && now.getTime() - last < def.intervalMs) continue;
        this.#sensorEvaluatedAt.set(source, now.getTime());
        try {
          const firing = await pollSensor(
            this.#o.store,
            def,
            spec.name,
            { root, state, logger: this.#o.logger },
            this.#o.owner,
            now,
          );
          if (!firing) continue;
          this.#o.logger.info('sensor fired', {
            pipeline: spec.name,
            sensor: def.name,
            key: firing.key,
            run_id: firing.runId,
          });
          this.#track(firing.runId, launchSensor(spec, firing));
        } catch (err) {
          this.#o.logger.error('sensor evaluation failed', {
            pipeline: spec.name,
            sensor: def.name,
            code: err instanceof WeirError ? err.code : undefined,
            error: errorMessage(err),
          });
        }
      }
    }
  }

  async #checkSlas(now: Date): Promise<void> {
    const { alertSla, state, store } = this.#o;
    if (!alertSla || !state) return;
    const every = this.#o.slaCheckMs ?? 10_000;
    if (this.#slaCheckedAt !== undefined && now.getTime() - this.#slaCheckedAt < every) return;
    this.#slaCheckedAt = now.getTime();
    for (const spec of this.#o.pipelines) {
      if (!spec.sla) continue;
      try {
        for (const miss of await findSlaMisses(spec, { state, store, notBefore: this.#since }, now)) {
          const claimed = await store.claimFiring({
            source: `sla:${spec.name}`,
            key: miss.key,
            firedAt: now.toISOString(),
            owner: this.#o.owner,
            runId: miss.runId,
            data: { kind: miss.kind, sla: miss.sla },
          });
          if (!claimed) continue;
          this.#o.logger.warn('SLA missed', { pipeline: spec.name, key: miss.key, sla: miss.sla });
          await alertSla(spec, miss);
        }
      } catch (err) {
        this.#o.logger.error('SLA check failed', { pipeline: spec.name, error: errorMessage(err) });
      }
    }
  }

  #track(runId: string, p: Promise<unknown>): void {
    const tracked = p
      .catch((err: unknown) =>
        this.#o.logger.error('run failed to start', { run_id: runId, error: errorMessage(err) }),
      )
      .finally(() => this.#inflight.delete(runId));
    this.#inflight.set(runId, tracked);
  }

  async #resumeDead(now: Date): Promise<void> {
    const { store } = this.#o;
    const staleMs = this.#o.staleMs ?? Math.max(5000, 2 * (this.#o.leaseTtlMs ?? 15_000));
    const cutoff = new Date(now.getTime() - staleMs).toISOString();
    for (const hb of await store.listRunHeartbeats()) {
      if (hb.heartbeatAt > cutoff || this.#inflight.has(hb.runId)) continue;
      const run = await this.#o.getRun(hb.runId);
      const pipelineName = typeof run?.args['pipeline'] === 'string' ? run.args['pipeline'] : undefined;
      const spec = this.#o.pipelines.find((p) => p.name === pipelineName);
      if (!run || !spec || run.status !== 'running') {
        await store.releaseRunSlot(hb.runId);
        continue;
      }
      // Take the run over first (fresh heartbeat) so no other daemon resumes it too.
      await store.heartbeat(hb.runId, now.toISOString());
      this.#o.logger.info('resuming run of a dead process', { run_id: run.runId, pipeline: spec.name });
      this.#track(run.runId, this.#o.resume(run, spec));
    }
  }
}
