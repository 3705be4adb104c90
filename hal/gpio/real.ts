/**
 * Real GPIO driver on the kernel's sysfs GPIO interface through `onoff`. Lines are resolved
 * by chip label + offset (see line-resolver.ts); onoff is loaded lazily unless a Gpio class
 * is injected (tests inject a fake one).
 */
import { EventEmitter } from 'node:events';
import { KeyedQueue } from '../../common/keyed-queue.js';
import { Debouncer } from './debounce.js';
import { DEFAULT_GPIO_SYSFS_ROOT, listGpioChips, resolveAmong } from './line-resolver.js';
import { protectFromLevel, relayLevel } from './polarity.js';
import {
  DEFAULT_DEBOUNCE_MS,
  type Gpio,
  GpioError,
  type GpioEvents,
  type GpioInputs,
  type GpioLineRef,
  type GpioOptions,
} from './types.js';

/** The part of onoff's `Gpio` this driver uses. */
export interface OnoffLine {
  read(): Promise<0 | 1>;
  write(value: 0 | 1): Promise<void>;
  writeSync(value: 0 | 1): void;
  watch(callback: (err: Error | null | undefined, value: 0 | 1) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export type OnoffLineClass = new (
  gpio: number,
  direction: 'in' | 'out' | 'high' | 'low',
  edge?: 'none' | 'rising' | 'falling' | 'both',
) => OnoffLine;

/** Where "best effort on process exit" hooks in (defaults to `process`). */
export interface ExitHook {
  on(event: 'exit', listener: () => void): unknown;
  off(event: 'exit', listener: () => void): unknown;
}

export interface RealGpioDeps {
  options: GpioOptions;
  /** onoff's Gpio class, or a stand-in; default: `(await import('onoff')).Gpio`. */
  GpioClass?: OnoffLineClass;
  /** Default `/sys/class/gpio`. */
  sysfsRoot?: string;
  /** Default `process`. */
  exitHook?: ExitHook;
}

interface Claimed {
  relays: Map<number, { line: OnoffLine; where: string }>;
  door: OnoffLine;
  tamper: OnoffLine;
  debouncers: Debouncer[];
}

export class RealGpio extends EventEmitter<GpioEvents> implements Gpio {
  private claimed: Claimed | undefined;
  private readonly queue = new KeyedQueue<number>();
  private readonly onExit = () => this.safeSync();

  constructor(private readonly deps: RealGpioDeps) {
    super();
  }

  async start(): Promise<void> {
    if (this.claimed) return;
    const { options } = this.deps;
    const root = this.deps.sysfsRoot ?? DEFAULT_GPIO_SYSFS_ROOT;
    const chips = await listGpioChips(root);
    const num = (ref: GpioLineRef) => resolveAmong(ref, chips, root);
    const relayNums = options.relays.map((r) => ({ slot: r.slot, num: num(r), ref: r }));
    const doorNum = num(options.door);
    const tamperNum = num(options.tamper);
    const GpioClass = this.deps.GpioClass ?? (await loadOnoff());

    const owned: OnoffLine[] = [];
    const claim = (n: number, dir: 'in' | 'high' | 'low', edge?: 'both') => {
      try {
        const line = edge ? new GpioClass(n, dir, edge) : new GpioClass(n, dir);
        owned.push(line);
        return line;
      } catch (err) {
        throw gpioErr(`claiming gpio ${n}`, err);
      }
    };
    try {
      const safe = relayLevel(true, options);
      const relays = new Map<number, { line: OnoffLine; where: string }>();
      for (const r of relayNums) {
        const where = `slot ${r.slot} relay (${r.ref.chip} line ${r.ref.offset}, gpio ${r.num})`;
        // 'high'/'low' configures the line as an output already at the safe level.
        relays.set(r.slot, { line: claim(r.num, safe ? 'high' : 'low'), where });
      }
      const door = claim(doorNum, 'in', 'both');
      const tamper = claim(tamperNum, 'in', 'both');
      const claimed: Claimed = { relays, door, tamper, debouncers: [] };
      for (const [slot] of relays) await this.writeVerified(claimed, slot, safe);
      claimed.debouncers = [
        await this.watchInput(door, 'door', (lvl) =>
          this.emit('door', lvl === options.door.openLevel ? 'open' : 'closed'),
        ),
        await this.watchInput(tamper, 'tamper', (lvl) =>
          this.emit('tamper', lvl === options.tamper.activeLevel),
        ),
      ];
      this.claimed = claimed;
      (this.deps.exitHook ?? process).on('exit', this.onExit);
    } catch (err) {
      for (const line of owned) {
        try {
          line.unwatchAll();
          line.unexport();
        } catch {}
      }
      throw err;
    }
  }

  async stop(): Promise<void> {
    const claimed = this.claimed;
    if (!claimed) return;
    this.claimed = undefined;
    (this.deps.exitHook ?? process).off('exit', this.onExit);
    for (const d of claimed.debouncers) d.stop();
    let first: unknown;
    const safe = relayLevel(true, this.deps.options);
    for (const [slot, { line }] of claimed.relays) {
      try {
        await this.queue.run(slot, () => this.writeVerifiedLine(claimed, slot, safe));
      } catch (err) {
        first ??= err;
      }
      try {
        line.unexport();
      } catch (err) {
        first ??= gpioErr(`releasing slot ${slot} relay`, err);
      }
    }
    for (const line of [claimed.door, claimed.tamper]) {
      try {
        line.unwatchAll();
        line.unexport();
      } catch (err) {
        first ??= gpioErr('releasing an input line', err);
      }
    }
    if (first) throw first;
  }

  async setWriteProtect(slot: number, on: boolean): Promise<void> {
    const claimed = this.need();
    this.relay(claimed, slot);
    await this.queue.run(slot, () =>
      this.writeVerifiedLine(claimed, slot, relayLevel(on, this.deps.options)),
    );
  }

  async getWriteProtect(slot: number): Promise<boolean> {
    const claimed = this.need();
    const { line, where } = this.relay(claimed, slot);
    const level = await readLine(line, where);
    return protectFromLevel(level, this.deps.options);
  }

  async readInputs(): Promise<GpioInputs> {
    const claimed = this.need();
    const { door, tamper } = this.deps.options;
    const [d, t] = await Promise.all([
      readLine(claimed.door, 'door input'),
      readLine(claimed.tamper, 'tamper input'),
    ]);
    return { door: d === door.openLevel ? 'open' : 'closed', tamper: t === tamper.activeLevel };
  }

  private async watchInput(
    line: OnoffLine,
    name: string,
    onChange: (level: 0 | 1) => void,
  ): Promise<Debouncer> {
    const debouncer = new Debouncer({
      ms: this.deps.options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
      read: () => readLine(line, `${name} input`),
      onChange,
      onError: (err) => this.emit('error', gpioErr(`reading the ${name} input`, err)),
    });
    debouncer.seed(await readLine(line, `${name} input`));
    line.watch((err) => {
      if (err) this.emit('error', gpioErr(`watching the ${name} input`, err));
      else debouncer.edge();
    });
    return debouncer;
  }

  private writeVerified(claimed: Claimed, slot: number, level: 0 | 1): Promise<void> {
    return this.queue.run(slot, () => this.writeVerifiedLine(claimed, slot, level));
  }

  private async writeVerifiedLine(claimed: Claimed, slot: number, level: 0 | 1): Promise<void> {
    const { line, where } = this.relay(claimed, slot);
    try {
      await line.write(level);
    } catch (err) {
      throw gpioErr(`writing ${level} to ${where}`, err);
    }
    const back = await readLine(line, where);
    if (back !== level) {
      throw new GpioError(
        'EVERIFY',
        `${where}: wrote ${level} but read back ${back}; the relay state is unknown. ` +
          'Retry, and if it persists treat the slot as faulty and check the relay board wiring.',
      );
    }
  }

  private relay(claimed: Claimed, slot: number) {
    const relay = claimed.relays.get(slot);
    if (!relay) {
      throw new GpioError(
        'ENOSLOT',
        `no write-protect relay is configured for slot ${slot} (configured: ${[...claimed.relays.keys()].join(', ')})`,
      );
    }
    return relay;
  }

  private need(): Claimed {
    if (!this.claimed) {
      throw new GpioError('ENOTSTARTED', 'GPIO is not started: call start() first');
    }
    return this.claimed;
  }

  /** Process exit: drive every relay to the safe level synchronously, ignoring failures. */
  private safeSync(): void {
    const safe = relayLevel(true, this.deps.options);
    for (const { line } of this.claimed?.relays.values() ?? []) {
      try {
        line.writeSync(safe);
      } catch {}
    }
  }
}

async function readLine(line: OnoffLine, where: string): Promise<0 | 1> {
  try {
    return (await line.read()) ? 1 : 0;
  } catch (err) {
    throw gpioErr(`reading ${where}`, err);
  }
}

function gpioErr(what: string, cause: unknown): GpioError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new GpioError(
    'EGPIO',
    `${what} failed: ${msg}. Check that the kernel exposes /sys/class/gpio and that kioskd may write to it.`,
    { cause },
  );
}

async function loadOnoff(): Promise<OnoffLineClass> {
  try {
    const mod = await import('onoff');
    return mod.Gpio as unknown as OnoffLineClass;
  } catch (err) {
    throw gpioErr('loading the onoff module', err);
  }
}
