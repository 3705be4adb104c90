import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import {
  KioskUnreachable,
  type KioskUnreachableDeps,
} from '../../../cloud-lite/rental/orders/kiosk-unreachable.js';

/** A sweep held open for several timer periods must not pile up sweeps behind it. */
class HeldSweep extends KioskUnreachable {
  calls = 0;
  release!: () => void;
  private readonly gate = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  override async sweep(): Promise<void> {
    this.calls++;
    await this.gate;
  }
}

t.test('a slow sweep is not queued behind itself', async (t) => {
  const warnings: unknown[] = [];
  const deps = {
    config: { kioskUnreachableAfterSeconds: 0.5 }, // a tick every 250 ms
    logger: { warn: (o: unknown) => warnings.push(o) },
  } as unknown as KioskUnreachableDeps;
  const k = new HeldSweep(deps);
  k.start();
  t.teardown(() => k.stop());
  // Four or five ticks pass while the first sweep is held.
  await sleep(1300);
  t.equal(k.calls, 1, 'no second sweep runs while the first one is held');
  k.release();
  await k.stop();
  t.equal(k.calls, 1, 'the ticks that fell during the held sweep were dropped, not queued');
  t.same(warnings, []);
});
