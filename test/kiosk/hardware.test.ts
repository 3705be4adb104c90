import t from 'tap';
import { parseConfig } from '../../kiosk/config.js';
import { createHardware } from '../../kiosk/hardware.js';

const config = (gpio: Record<string, unknown>, keypad?: Record<string, unknown>) =>
  parseConfig(
    {
      kioskId: 'kiosk-1',
      dataDir: '/var/lib/disk-kiosk',
      hub: { url: 'wss://hub.example/kiosk', secretFile: 'secret', publicKeyPem: 'PEM' },
      slots: { count: 2 },
      hardware: {
        motorBoard: { driver: 'sim' },
        gpio,
        usb: { driver: 'sim', slotPorts: { 2: '1-4' } },
        drives: { driver: 'sim' },
        storage: { driver: 'sim' },
        ...(keypad ? { keypad } : {}),
      },
    },
    { env: {} },
  );

t.test('the real GPIO driver without its lines is refused naming the key', async (t) => {
  const door = { chip: 'pinctrl-bcm2711', offset: 25, openLevel: 1 };
  await t.rejects(createHardware(config({ driver: 'real', door })), {
    code: 'ECONFIG',
    keyPath: '/hardware/gpio/relays',
  });
  const relays = [{ slot: 1, chip: 'pinctrl-bcm2711', offset: 5 }];
  await t.rejects(createHardware(config({ driver: 'real', relays, door })), {
    code: 'ECONFIG',
    keyPath: '/hardware/gpio/tamper',
  });
});

t.test('simulators get the slots from the configuration; slot ports map USB power', async (t) => {
  const hw = await createHardware(config({ driver: 'sim' }));
  t.teardown(() => hw.board.stop());
  t.equal(hw.usbPortOf(1), '1-1.1', 'a simulated port by default');
  t.equal(hw.usbPortOf(2), '1-4', 'the configured port wins');
  await hw.gpio.start();
  t.teardown(() => hw.gpio.stop());
  t.equal(typeof (await hw.gpio.getWriteProtect(2)), 'boolean', 'a relay for slot 2');
  await t.rejects(hw.gpio.getWriteProtect(3), 'no relay for slot 3 of 2');
});

t.test('the keypad is optional; configured, its driver comes from the discriminant', async (t) => {
  const none = await createHardware(config({ driver: 'sim' }));
  t.teardown(() => none.board.stop());
  t.equal(none.keypad, undefined, 'no hardware.keypad: no keypad');
  const sim = await createHardware(config({ driver: 'sim' }, { driver: 'sim' }));
  t.teardown(() => sim.board.stop());
  t.equal(sim.keypad?.status().device, 'sim');
  const path = '/dev/input/by-id/usb-Acme_Keypad-event-kbd';
  const real = await createHardware(config({ driver: 'sim' }, { driver: 'real', path }));
  t.teardown(() => real.board.stop());
  t.equal(real.keypad?.status().device, path, 'the real driver, by its by-id path');
  t.equal(real.keypad?.status().connected, false, 'nothing opened before start()');
  t.throws(() => config({ driver: 'sim' }, { driver: 'real', path: 'keypad' }), {
    code: 'ECONFIG',
    keyPath: '/hardware/keypad/path',
  });
  // Any absolute path: a FIFO of input_event records stands in for the device in the e2e tests.
  const fifo = '/tmp/kioskd-e2e/keypad-fifo';
  const onFifo = await createHardware(config({ driver: 'sim' }, { driver: 'real', path: fifo }));
  t.teardown(() => onFifo.board.stop());
  t.equal(onFifo.keypad?.status().device, fifo, 'the real driver on an absolute non-/dev path');
});
