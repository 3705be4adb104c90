/**
 * Simulated GPIO: raw line levels in memory, the same polarity and debounce logic as the
 * real driver, and test hooks (input bounce, relay faults, a record of relay states).
 * Self-contained: every instance has its own lines.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from '../../common/keyed-queue.js';
import { Debouncer } from './debounce.js';
import { protectFromLevel, relayLevel } from './polarity.js';
import {
  DEFAULT_DEBOUNCE_MS,
  type Gpio,
  GpioError,
  type GpioEvents,
  type GpioInputs,
  type GpioOptions,
} from './types.js';

export interface SimGpioOptions
  extends Pick<GpioOptions, 'relayActiveLow' | 'protectWhen' | 'debounceMs'> {
  /** Slots that have a write-protect relay. */
  slots: number[];
  /** Raw level meaning "door open" (default 1). */
  doorOpenLevel?: 0 | 1;
  /** Raw level meaning "tampered" (default 1). */
  tamperActiveLevel?: 0 | 1;
  /** Initial raw input levels (default: door closed, no tamper). */
  initial?: { door?: 0 | 1; tamper?: 0 | 1 };
}

/** Relay fault: `write` = the write fails (EGPIO); `stuck` = the line never changes (EVERIFY). */
export type SimRelayFault = 'write' | 'stuck';

export interface SimRelayRecord {
  slot: number;
  level: 0 | 1;
  protect: boolean;
}

export type SimInputName = 'door' | 'tamper';

export class SimGpio extends EventEmitter<GpioEvents> implements Gpio {
  /** Every relay level actually applied, in order (start and stop included). */
  readonly relayLog: SimRelayRecord[] = [];
  private readonly levels = new Map<number, 0 | 1>();
  private readonly faults = new Map<number, SimRelayFault>();
  private readonly inputs: Record<SimInputName, 0 | 1>;
  private readonly queue = new KeyedQueue<number>();
  private debouncers: Record<SimInputName, Debouncer> | undefined;

  constructor(private readonly options: SimGpioOptions) {
    super();
    const closed = (options.doorOpenLevel ?? 1) ? 0 : 1;
    const calm = (options.tamperActiveLevel ?? 1) ? 0 : 1;
    this.inputs = {
      door: options.initial?.door ?? closed,
      tamper: options.initial?.tamper ?? calm,
    };
    // Power-on level of an unclaimed line: low.
    for (const slot of options.slots) this.levels.set(slot, 0);
  }

  get started(): boolean {
    return this.debouncers !== undefined;
  }

  async start(): Promise<void> {
    if (this.debouncers) return;
    const safe = relayLevel(true, this.options);
    for (const slot of this.options.slots) await this.queue.run(slot, () => this.apply(slot, safe));
    const make = (name: SimInputName, emit: (level: 0 | 1) => void) => {
      const d = new Debouncer({
        ms: this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
        read: async () => this.inputs[name],
        onChange: emit,
        onError: () => {},
      });
      d.seed(this.inputs[name]);
      return d;
    };
    this.debouncers = {
      door: make('door', (l) => this.emit('door', this.doorState(l))),
      tamper: make('tamper', (l) =>
        this.emit('tamper', l === (this.options.tamperActiveLevel ?? 1)),
      ),
    };
  }

  async stop(): Promise<void> {
    const debouncers = this.debouncers;
    if (!debouncers) return;
    this.debouncers = undefined;
    debouncers.door.stop();
    debouncers.tamper.stop();
    const safe = relayLevel(true, this.options);
    let first: unknown;
    for (const slot of this.options.slots) {
      try {
        await this.queue.run(slot, () => this.apply(slot, safe));
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }

  async setWriteProtect(slot: number, on: boolean): Promise<void> {
    this.need();
    this.checkSlot(slot);
    await this.queue.run(slot, () => this.apply(slot, relayLevel(on, this.options)));
  }

  async getWriteProtect(slot: number): Promise<boolean> {
    this.need();
    return protectFromLevel(this.checkSlot(slot), this.options);
  }

  async readInputs(): Promise<GpioInputs> {
    this.need();
    return {
      door: this.doorState(this.inputs.door),
      tamper: this.inputs.tamper === (this.options.tamperActiveLevel ?? 1),
    };
  }

  // ---- test hooks ----

  /**
   * Sets an input's raw level. With `bounces` > 0 the line first toggles that many times,
   * `bounceMs` apart (default 1 ms), like a mechanical contact, then settles at `level`.
   * Resolves once the line has settled (the debounced event comes `debounceMs` later).
   */
  async setInput(
    name: SimInputName,
    level: 0 | 1,
    opts: { bounces?: number; bounceMs?: number } = {},
  ): Promise<void> {
    const bounces = opts.bounces ?? 0;
    // Start on the opposite level so the sequence ends on `level` after an odd toggle count.
    for (let i = 0; i < bounces; i++) {
      this.rawInput(name, ((bounces - i) % 2 === 1 ? 1 - level : level) as 0 | 1);
      await sleep(opts.bounceMs ?? 1);
    }
    this.rawInput(name, level);
  }

  /** Makes a relay fail from now on (`null` repairs it). */
  setRelayFault(slot: number, fault: SimRelayFault | null): void {
    if (fault) this.faults.set(slot, fault);
    else this.faults.delete(slot);
  }

  /** Current raw level of each relay line. */
  relayLevels(): Map<number, 0 | 1> {
    return new Map(this.levels);
  }

  private rawInput(name: SimInputName, level: 0 | 1): void {
    if (this.inputs[name] === level) return;
    this.inputs[name] = level;
    this.debouncers?.[name].edge();
  }

  private async apply(slot: number, level: 0 | 1): Promise<void> {
    const fault = this.faults.get(slot);
    const where = `slot ${slot} relay (simulated)`;
    if (fault === 'write') {
      throw new GpioError('EGPIO', `writing ${level} to ${where} failed: injected fault`);
    }
    if (fault !== 'stuck') {
      this.levels.set(slot, level);
      this.relayLog.push({ slot, level, protect: protectFromLevel(level, this.options) });
    }
    const back = this.levels.get(slot);
    if (back !== level) {
      throw new GpioError(
        'EVERIFY',
        `${where}: wrote ${level} but read back ${back}; the relay state is unknown. ` +
          'Retry, and if it persists treat the slot as faulty.',
      );
    }
  }

  private doorState(level: 0 | 1): 'open' | 'closed' {
    return level === (this.options.doorOpenLevel ?? 1) ? 'open' : 'closed';
  }

  private checkSlot(slot: number): 0 | 1 {
    const level = this.levels.get(slot);
    if (level === undefined) {
      throw new GpioError(
        'ENOSLOT',
        `no write-protect relay is configured for slot ${slot} (configured: ${this.options.slots.join(', ')})`,
      );
    }
    return level;
  }

  private need(): void {
    if (!this.debouncers) {
      throw new GpioError('ENOTSTARTED', 'GPIO is not started: call start() first');
    }
  }
}
