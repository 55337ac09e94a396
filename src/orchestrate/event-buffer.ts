import type { EventRecord, StateStore } from '../core/state-store.js';

/** How long an event waits for others before its batch is written. */
const BATCH_WAIT_MS = 20;
/** A batch this large is written at once. */
const BATCH_MAX = 500;

/**
 * A run's events, written to the state store in batches: everything appended within
 * `BATCH_WAIT_MS` goes into one transaction, in order. A build of 200 models appends about 1,300
 * events; one transaction each cost more of the main thread than the rest of the bookkeeping.
 *
 * Events are the run's log, not its results: node results and run status are written at once, and
 * resuming reads only those. A process killed mid-run loses at most the events of its last
 * `BATCH_WAIT_MS`. The run flushes the buffer before it returns, and a failed write is not lost
 * quietly: the next append or `flush` rejects with it.
 */
export class EventBuffer {
  private queued: EventRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failure: { readonly error: unknown } | undefined;

  constructor(
    private readonly state: Pick<StateStore, 'appendEvents'>,
    private readonly waitMs = BATCH_WAIT_MS,
  ) {}

  /** Queues an event; it is durable once a later `flush` resolves. */
  appendEvent(event: EventRecord): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.error);
    this.queued.push(event);
    if (this.queued.length >= BATCH_MAX) this.write();
    else this.timer ??= setTimeout(() => this.write(), this.waitMs);
    return Promise.resolve();
  }

  /** Writes everything queued; rejects with the first write that failed. */
  async flush(): Promise<void> {
    this.write();
    await this.writing;
    if (this.failure) throw this.failure.error;
  }

  private write(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queued;
    if (batch.length === 0) return;
    this.queued = [];
    this.writing = this.writing.then(() =>
      this.failure
        ? undefined
        : this.state.appendEvents(batch).catch((error: unknown) => {
            this.failure = { error };
          }),
    );
  }
}
