/** The real GPIO driver against a fake onoff Gpio class and a fake sysfs tree. */
import { EventEmitter, once } from 'node:events';
import t, { type Test } from 'tap';
import { RealGpio } from '../../../hal/gpio/real.js';
import type { GpioOptions } from '../../../hal/gpio/types.js';
import { FakeLineBank } from './fixtures/fake-onoff.js';
import { fakeGpioSysfs, PI4_CHIPS, PI5_CHIPS } from './fixtures/fake-sysfs.js';

const BCM = 'pinctrl-bcm2711';
const RP1 = 'pinctrl-rp1';

function options(chip: string, extra: Partial<GpioOptions> = {}): GpioOptions {
  return {
    relays: [
      { slot: 1, chip, offset: 5 },
      { slot: 2, chip, offset: 6 },
    ],
    door: { chip, offset: 20, openLevel: 1 },
    tamper: { chip, offset: 21, activeLevel: 1 },
    debounceMs: 20,
    ...extra,
  };
}

async function setup(t: Test, opts: GpioOptions, chips = PI4_CHIPS) {
  const bank = new FakeLineBank();
  const exitHook = new EventEmitter();
  const sysfsRoot = await fakeGpioSysfs(t, chips);
  const gpio = new RealGpio({ options: opts, GpioClass: bank.GpioClass, sysfsRoot, exitHook });
  t.teardown(() => gpio.stop());
  return { bank, gpio, exitHook };
}

t.test('lines are claimed at chip base + offset, relays born at the safe level', async (t) => {
  const { bank, gpio } = await setup(t, options(RP1), PI5_CHIPS);
  await gpio.start();
  t.same(bank.constructed, [
    { gpio: 576, direction: 'high' },
    { gpio: 577, direction: 'high' },
    { gpio: 591, direction: 'in', edge: 'both' },
    { gpio: 592, direction: 'in', edge: 'both' },
  ]);
});

t.test('polarity: active-high relays, protect when energised', async (t) => {
  const { bank, gpio } = await setup(t, options(BCM));
  await gpio.start();
  t.equal(bank.levels.get(517), 1, 'safe = energised = high');
  await gpio.setWriteProtect(1, false);
  t.equal(bank.levels.get(517), 0);
  t.equal(bank.levels.get(518), 1, 'the other slot untouched');
});

t.test('polarity: active-low relays', async (t) => {
  const { bank, gpio } = await setup(t, options(BCM, { relayActiveLow: true }));
  await gpio.start();
  t.equal(bank.levels.get(517), 0, 'safe = energised = low');
  await gpio.setWriteProtect(1, false);
  t.equal(bank.levels.get(517), 1);
  t.equal(await gpio.getWriteProtect(1), false);
});

t.test('polarity: active-low relays that protect when released', async (t) => {
  const { bank, gpio } = await setup(
    t,
    options(BCM, { relayActiveLow: true, protectWhen: 'released' }),
  );
  await gpio.start();
  t.equal(bank.levels.get(517), 1, 'safe = released = high');
  await gpio.setWriteProtect(2, false);
  t.equal(bank.levels.get(518), 0);
});

t.test('stop() returns relays to the safe state and releases every line', async (t) => {
  const { bank, gpio } = await setup(t, options(BCM, { relayActiveLow: true }));
  await gpio.start();
  await gpio.setWriteProtect(1, false);
  await gpio.setWriteProtect(2, false);
  await gpio.stop();
  t.equal(bank.levels.get(517), 0);
  t.equal(bank.levels.get(518), 0);
  t.same([...bank.exported], [], 'all unexported');
  t.equal(bank.watchers.size, 0, 'no watchers left');
});

t.test('process exit drives relays safe synchronously; stop() unhooks', async (t) => {
  const { bank, gpio, exitHook } = await setup(t, options(BCM));
  await gpio.start();
  t.equal(exitHook.listenerCount('exit'), 1);
  await gpio.setWriteProtect(1, false);
  exitHook.emit('exit');
  t.equal(bank.levels.get(517), 1, 'safe right after the exit event, no await needed');
  await gpio.stop();
  t.equal(exitHook.listenerCount('exit'), 0);
});

t.test('a relay that does not switch is EVERIFY; a failing write is EGPIO', async (t) => {
  const { bank, gpio } = await setup(t, options(BCM));
  await gpio.start();
  bank.stuck.add(517);
  await t.rejects(gpio.setWriteProtect(1, false), { code: 'EVERIFY', message: /slot 1 relay/ });
  bank.broken.add(518);
  await t.rejects(gpio.setWriteProtect(2, false), { code: 'EGPIO', message: /EIO/ });
  // stop() tries every relay and reports the first failure.
  await t.rejects(gpio.stop(), { code: 'EGPIO', message: /slot 2/ });
  t.same([...bank.exported], [], 'every line released even so');
});

t.test('a stuck relay at start fails start() and releases what was claimed', async (t) => {
  const { bank, gpio } = await setup(t, options(BCM, { relayActiveLow: true }));
  bank.levels.set(517, 1);
  bank.stuck.add(517);
  await t.rejects(gpio.start(), { code: 'EVERIFY' });
  t.same([...bank.exported], []);
  await t.rejects(gpio.readInputs(), { code: 'ENOTSTARTED' });
});

t.test('an unknown chip fails start() before claiming anything', async (t) => {
  const { bank, gpio } = await setup(t, options(BCM), PI5_CHIPS);
  await t.rejects(gpio.start(), { code: 'ENOCHIP', message: /pinctrl-rp1/ });
  t.same(bank.constructed, []);
});

t.test('inputs: levels mapped through openLevel / activeLevel', async (t) => {
  const opts = options(BCM, {
    door: { chip: BCM, offset: 20, openLevel: 0 },
    tamper: { chip: BCM, offset: 21, activeLevel: 0 },
  });
  const { bank, gpio } = await setup(t, opts);
  bank.levels.set(532, 1);
  bank.levels.set(533, 1);
  await gpio.start();
  t.same(await gpio.readInputs(), { door: 'closed', tamper: false });
  bank.levels.set(532, 0);
  bank.levels.set(533, 0);
  t.same(await gpio.readInputs(), { door: 'open', tamper: true });
});

t.test('debounce: a bouncing edge gives one event; a bounce back gives none', async (t) => {
  const { bank, gpio } = await setup(t, options(BCM));
  await gpio.start();
  const doors: string[] = [];
  gpio.on('door', (s) => doors.push(s));
  // Glitch: toggles that settle back at the old level (closed).
  for (const level of [1, 0, 1, 0] as const) bank.setLevel(532, level);
  // Then a real opening with contact bounce.
  const opened = once(gpio, 'door', { signal: AbortSignal.timeout(2000) });
  for (const level of [1, 0, 1, 0, 1] as const) bank.setLevel(532, level);
  t.same(await opened, ['open']);
  t.same(doors, ['open'], 'the glitch produced no event');

  const tampered = once(gpio, 'tamper', { signal: AbortSignal.timeout(2000) });
  for (const level of [1, 0, 1] as const) bank.setLevel(533, level);
  t.same(await tampered, [true]);
});

t.test('no events after stop(), even for an edge still being debounced', async (t) => {
  const { bank, gpio } = await setup(t, options(BCM, { debounceMs: 10 }));
  await gpio.start();
  let events = 0;
  gpio.on('door', () => events++);
  bank.setLevel(532, 1);
  await gpio.stop();
  await new Promise((r) => setTimeout(r, 40));
  t.equal(events, 0);
});
