import t from 'tap';
import { listGpioChips, resolveGpioLine } from '../../../hal/gpio/line-resolver.js';
import { GpioError } from '../../../hal/gpio/types.js';
import { fakeGpioSysfs, PI4_CHIPS, PI5_CHIPS } from './fixtures/fake-sysfs.js';

t.test('Pi 4 (bcm2711, base 512): pin N is 512 + N', async (t) => {
  const root = await fakeGpioSysfs(t, PI4_CHIPS);
  t.equal(await resolveGpioLine({ chip: 'pinctrl-bcm2711', offset: 17 }, root), 529);
  t.equal(await resolveGpioLine({ chip: 'pinctrl-bcm2711', offset: 0 }, root), 512);
  t.equal(await resolveGpioLine({ chip: 'raspberrypi-exp-gpio', offset: 2 }, root), 572);
});

t.test('Pi 5 (rp1, base 571): pin N is 571 + N', async (t) => {
  const root = await fakeGpioSysfs(t, PI5_CHIPS);
  t.equal(await resolveGpioLine({ chip: 'pinctrl-rp1', offset: 17 }, root), 588);
  t.equal(await resolveGpioLine({ chip: 'pinctrl-rp1', offset: 53 }, root), 624);
});

t.test('older kernels (base 0) work the same way', async (t) => {
  const root = await fakeGpioSysfs(t, [{ label: 'pinctrl-bcm2835', base: 0, ngpio: 54 }]);
  t.equal(await resolveGpioLine({ chip: 'pinctrl-bcm2835', offset: 4 }, root), 4);
});

t.test('unknown label: ENOCHIP naming the label and the chips found', async (t) => {
  const root = await fakeGpioSysfs(t, PI5_CHIPS);
  const err = await resolveGpioLine({ chip: 'pinctrl-bcm2711', offset: 4 }, root).catch((e) => e);
  t.type(err, GpioError);
  t.equal(err.code, 'ENOCHIP');
  t.match(err.message, /"pinctrl-bcm2711"/);
  t.match(err.message, /pinctrl-rp1 \(gpiochip571, base 571, 54 lines\)/);
  t.match(err.message, /gpio-brcmstb@107d508500/);
});

t.test('no GPIO sysfs at all: ENOCHIP saying none were found', async (t) => {
  const root = await fakeGpioSysfs(t, []);
  const err = await resolveGpioLine({ chip: 'pinctrl-rp1', offset: 4 }, `${root}/missing`).catch(
    (e) => e,
  );
  t.equal(err.code, 'ENOCHIP');
  t.match(err.message, /chips found: none/);
});

t.test('offset >= ngpio (or negative): ENOLINE', async (t) => {
  const root = await fakeGpioSysfs(t, PI4_CHIPS);
  for (const offset of [58, 100, -1, 1.5]) {
    const err = await resolveGpioLine({ chip: 'pinctrl-bcm2711', offset }, root).catch((e) => e);
    t.equal(err.code, 'ENOLINE', `offset ${offset}`);
    t.match(err.message, /58 lines \(0\.\.57\)/);
  }
});

t.test('listGpioChips reads label, base and ngpio of every chip', async (t) => {
  const root = await fakeGpioSysfs(t, PI4_CHIPS);
  t.same(await listGpioChips(root), [
    { name: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
    { name: 'gpiochip570', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
  ]);
});
