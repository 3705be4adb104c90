/** Simulator-only behaviour: input bounce, debounced events, relay faults, the relay record. */
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { createGpio } from '../../../hal/gpio/index.js';
import type { SimGpioOptions } from '../../../hal/gpio/sim.js';

async function started(t: Test, opts: Partial<SimGpioOptions> = {}) {
  const gpio = await createGpio({ driver: 'sim', slots: [1, 2], debounceMs: 15, ...opts });
  await gpio.start();
  t.teardown(() => gpio.stop());
  return gpio;
}

t.test('a bouncing door gives exactly one debounced event per real change', async (t) => {
  const gpio = await started(t);
  const doors: string[] = [];
  gpio.on('door', (s) => doors.push(s));
  const opened = once(gpio, 'door', { signal: AbortSignal.timeout(2000) });
  await gpio.setInput('door', 1, { bounces: 6, bounceMs: 1 });
  t.same(await opened, ['open']);
  t.same(await gpio.readInputs(), { door: 'open', tamper: false });

  const closed = once(gpio, 'door', { signal: AbortSignal.timeout(2000) });
  await gpio.setInput('door', 0, { bounces: 3 });
  t.same(await closed, ['closed']);
  t.same(doors, ['open', 'closed']);
});

t.test('bounces that settle back at the old level give no event', async (t) => {
  // A long debounce time so that a slow, loaded machine still sees one burst of edges.
  const gpio = await started(t, { debounceMs: 200 });
  const events: boolean[] = [];
  gpio.on('tamper', (a) => events.push(a));
  await gpio.setInput('tamper', 1, { bounces: 4 });
  await gpio.setInput('tamper', 0); // back before the debounce time ran out
  const tampered = once(gpio, 'tamper', { signal: AbortSignal.timeout(2000) });
  await gpio.setInput('tamper', 1, { bounces: 2 });
  t.same(await tampered, [true]);
  t.same(events, [true], 'only the settled change was reported');
});

t.test('input levels follow the configured polarity', async (t) => {
  const gpio = await started(t, { doorOpenLevel: 0, tamperActiveLevel: 0 });
  t.same(await gpio.readInputs(), { door: 'closed', tamper: false });
  await gpio.setInput('door', 0);
  await gpio.setInput('tamper', 0);
  t.same(await gpio.readInputs(), { door: 'open', tamper: true });
});

t.test('relay faults: a failing write is EGPIO, a stuck relay is EVERIFY', async (t) => {
  const gpio = await started(t);
  gpio.setRelayFault(1, 'write');
  await t.rejects(gpio.setWriteProtect(1, false), { code: 'EGPIO', message: /slot 1/ });
  t.equal(await gpio.getWriteProtect(1), true, 'state unchanged');
  gpio.setRelayFault(2, 'stuck');
  await t.rejects(gpio.setWriteProtect(2, false), { code: 'EVERIFY', message: /slot 2/ });
  t.equal(await gpio.getWriteProtect(2), true);
  gpio.setRelayFault(1, null);
  gpio.setRelayFault(2, null);
  await gpio.setWriteProtect(1, false);
  t.equal(await gpio.getWriteProtect(1), false, 'repaired');
});

t.test('the relay record shows safe at start, the changes, and safe at stop', async (t) => {
  const gpio = await createGpio({ driver: 'sim', slots: [1, 2], relayActiveLow: true });
  await gpio.start();
  await gpio.setWriteProtect(2, false);
  await gpio.stop();
  t.same(gpio.relayLog, [
    { slot: 1, level: 0, protect: true },
    { slot: 2, level: 0, protect: true },
    { slot: 2, level: 1, protect: false },
    { slot: 1, level: 0, protect: true },
    { slot: 2, level: 0, protect: true },
  ]);
  t.same(
    [...gpio.relayLevels()],
    [
      [1, 0],
      [2, 0],
    ],
  );
});

t.test('instances are independent', async (t) => {
  const a = await started(t);
  const b = await started(t);
  await a.setWriteProtect(1, false);
  await a.setInput('door', 1);
  t.equal(await b.getWriteProtect(1), true);
  t.same(await b.readInputs(), { door: 'closed', tamper: false });
});
