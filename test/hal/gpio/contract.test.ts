/**
 * The GPIO contract, run against the simulator, against the real driver over a fake onoff
 * and a fake sysfs tree, and against real hardware when HAL_GPIO_CHIP names a chip label:
 *   HAL_GPIO_CHIP=pinctrl-bcm2711 HAL_GPIO_RELAYS=17,27 HAL_GPIO_DOOR=22 HAL_GPIO_TAMPER=23 \
 *   [HAL_GPIO_ACTIVE_LOW=1] npx tap test/hal/gpio/contract.test.ts
 * (relays are slots 1..n in the order given; the door and tamper levels are only read).
 */
import t from 'tap';
import { createGpio } from '../../../hal/gpio/index.js';
import { RealGpio } from '../../../hal/gpio/real.js';
import { gpioContract } from './fixtures/contract.js';
import { FakeLineBank } from './fixtures/fake-onoff.js';
import { fakeGpioSysfs, PI4_CHIPS } from './fixtures/fake-sysfs.js';

t.test('simulator', async (t) => {
  gpioContract(t, async () => {
    const slots = [1, 2, 3];
    return { gpio: await createGpio({ driver: 'sim', slots, debounceMs: 5 }), slots };
  });
});

t.test('real driver over a fake onoff and a fake sysfs', async (t) => {
  gpioContract(t, async (t) => {
    const bank = new FakeLineBank();
    const sysfsRoot = await fakeGpioSysfs(t, PI4_CHIPS);
    const chip = 'pinctrl-bcm2711';
    const gpio = new RealGpio({
      options: {
        relays: [1, 2, 3].map((slot) => ({ slot, chip, offset: 4 + slot })),
        door: { chip, offset: 20, openLevel: 1 },
        tamper: { chip, offset: 21, activeLevel: 0 },
        relayActiveLow: true,
        debounceMs: 5,
      },
      GpioClass: bank.GpioClass,
      sysfsRoot,
      exitHook: { on() {}, off() {} },
    });
    return { gpio, slots: [1, 2, 3] };
  });
});

const chip = process.env['HAL_GPIO_CHIP'];
t.test(
  'real hardware (HAL_GPIO_CHIP)',
  { skip: chip ? false : 'HAL_GPIO_CHIP not set' },
  async (t) => {
    const env = (name: string) => {
      const v = process.env[name];
      if (!v) throw new Error(`${name} must be set when HAL_GPIO_CHIP is`);
      return v;
    };
    const offsets = env('HAL_GPIO_RELAYS').split(',').map(Number);
    const slots = offsets.map((_, i) => i + 1);
    gpioContract(t, async () => ({
      gpio: await createGpio({
        driver: 'real',
        relays: offsets.map((offset, i) => ({ slot: i + 1, chip: chip!, offset })),
        door: { chip: chip!, offset: Number(env('HAL_GPIO_DOOR')), openLevel: 1 },
        tamper: { chip: chip!, offset: Number(env('HAL_GPIO_TAMPER')), activeLevel: 1 },
        relayActiveLow: process.env['HAL_GPIO_ACTIVE_LOW'] === '1',
      }),
      slots,
    }));
  },
);
