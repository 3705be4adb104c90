/**
 * The keypad's typing rules: digits collect; the 8th digit submits the code (Enter is not
 * needed; Enter with fewer digits clears them); Backspace removes a digit; Clear (`.`, `*`,
 * Esc, Del) starts again; a pause of IDLE_MS forgets a half-typed code; keys typed while a
 * code is checked are ignored; a kernel buffer overflow (SYN_DROPPED) forgets the code.
 * Each outcome is emitted as `entry` for whatever shows it (a display, LEDs, the log).
 */
import { EventEmitter } from 'node:events';
import type { KeyPress, Keypad } from '../../hal/keypad/index.js';
import { PICKUP_CODE_DIGITS } from '../../protocol/index.js';
import type { KioskLogger } from '../log.js';
import type { CodeVerdict, PickupCodeCheck } from './code-check.js';

export const IDLE_MS = 30_000;

export type EntryEvent =
  | { kind: 'digits'; count: number }
  | { kind: 'checking' }
  | { kind: 'verdict'; verdict: CodeVerdict }
  | { kind: 'cleared'; why: 'clear' | 'incomplete' | 'idle' | 'dropped' };

export class KeypadEntry extends EventEmitter<{ entry: [EntryEvent] }> {
  private digits = '';
  private checking = false;
  private idle: NodeJS.Timeout | undefined;
  private readonly onKey = (k: KeyPress) => this.key(k);
  private readonly onDropped = () => this.clear('dropped');

  constructor(private readonly deps: { keypad: Keypad; check: PickupCodeCheck; log: KioskLogger }) {
    super();
  }

  start(): void {
    this.deps.keypad.on('key', this.onKey);
    this.deps.keypad.on('dropped', this.onDropped);
  }

  stop(): void {
    this.deps.keypad.off('key', this.onKey);
    this.deps.keypad.off('dropped', this.onDropped);
    clearTimeout(this.idle);
    this.digits = '';
  }

  private key(k: KeyPress): void {
    if (this.checking) return;
    if (k.key >= '0' && k.key <= '9' && k.key.length === 1) {
      this.digits += k.key;
      if (this.digits.length === PICKUP_CODE_DIGITS) return void this.submit();
      this.armIdle();
      return void this.emit('entry', { kind: 'digits', count: this.digits.length });
    }
    if (k.key === 'backspace') {
      this.digits = this.digits.slice(0, -1);
      this.armIdle();
      this.emit('entry', { kind: 'digits', count: this.digits.length });
    } else if (k.key === 'clear') this.clear('clear');
    else if (k.key === 'enter' && this.digits.length > 0) this.clear('incomplete');
  }

  private clear(why: 'clear' | 'incomplete' | 'idle' | 'dropped'): void {
    clearTimeout(this.idle);
    if (this.digits === '' && why !== 'clear') return;
    this.digits = '';
    this.emit('entry', { kind: 'cleared', why });
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.clear('idle'), IDLE_MS);
    this.idle.unref();
  }

  private async submit(): Promise<void> {
    clearTimeout(this.idle);
    const code = this.digits;
    this.digits = '';
    this.checking = true;
    this.emit('entry', { kind: 'checking' });
    try {
      const verdict = await this.deps.check.check(code);
      this.deps.log.info(
        verdict.accepted
          ? { accepted: true, slot: verdict.slot, reservationId: verdict.reservationId }
          : { accepted: false, reason: verdict.reason, lockedUntil: verdict.lockedUntil },
        'pickup code typed',
      );
      this.emit('entry', { kind: 'verdict', verdict });
    } finally {
      this.checking = false;
    }
  }
}
