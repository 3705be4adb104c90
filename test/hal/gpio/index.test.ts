import t from 'tap';
import { createGpio, GpioError, SimGpio } from '../../../hal/gpio/index.js';
import { fakeGpioSysfs, PI5_CHIPS } from './fixtures/fake-sysfs.js';

t.test('driver: sim gives a SimGpio', async (t) => {
  t.type(await createGpio({ driver: 'sim', slots: [1] }), SimGpio);
});

t.test('driver: real loads the driver, which resolves lines from the sysfs root', async (t) => {
  const sysfsRoot = await fakeGpioSysfs(t, PI5_CHIPS);
  const chip = 'pinctrl-bcm2711';
  const gpio = await createGpio({
    driver: 'real',
    sysfsRoot,
    relays: [{ slot: 1, chip, offset: 5 }],
    door: { chip, offset: 6, openLevel: 1 },
    tamper: { chip, offset: 7, activeLevel: 1 },
  });
  const err = await gpio.start().catch((e) => e);
  t.type(err, GpioError);
  t.equal(err.code, 'ENOCHIP', 'a Pi 4 configuration on a Pi 5 names the missing chip');
});
