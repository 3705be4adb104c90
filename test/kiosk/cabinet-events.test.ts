import t from 'tap';
import { SimGpio } from '../../hal/gpio/index.js';
import { forwardCabinetEvents } from '../../kiosk/cabinet-events.js';
import { silentLogger } from '../../kiosk/log.js';
import { kit } from './fixtures/kit.js';

const sim = (initial?: { door?: 0 | 1; tamper?: 0 | 1 }) =>
  new SimGpio({ slots: [1], debounceMs: 5, ...(initial ? { initial } : {}) });

const sent = (k: ReturnType<typeof kit>) =>
  k.outbox.peek(100).map((e) => [e.type, e.data] as [string, unknown]);

const until = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
};

t.test('door changes and tamper become events in the outbox', async (t) => {
  const k = kit(t);
  const gpio = sim();
  await gpio.start();
  t.teardown(() => gpio.stop());
  const stop = await forwardCabinetEvents({ gpio, outbox: k.outbox, log: silentLogger() });
  t.same(sent(k), [], 'a closed door and a calm tamper switch at start: nothing to say');

  await gpio.setInput('door', 1, { bounces: 3 });
  await until(() => sent(k).length === 1);
  await gpio.setInput('door', 0);
  await until(() => sent(k).length === 2);
  await gpio.setInput('tamper', 1);
  await until(() => sent(k).length === 3);
  await gpio.setInput('tamper', 0);
  await new Promise((r) => setTimeout(r, 50));
  t.same(sent(k), [
    ['DoorChanged', { open: true }],
    ['DoorChanged', { open: false }],
    ['TamperDetected', { input: 'tamper' }],
  ]);

  stop();
  await gpio.setInput('door', 1);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(sent(k).length, 3, 'nothing after stop');
});

t.test('a door open and a tamper switch active at start are reported at once', async (t) => {
  const k = kit(t);
  const gpio = sim({ door: 1, tamper: 1 });
  await gpio.start();
  t.teardown(() => gpio.stop());
  await forwardCabinetEvents({ gpio, outbox: k.outbox, log: silentLogger() });
  t.same(sent(k), [
    ['DoorChanged', { open: true }],
    ['TamperDetected', { input: 'tamper' }],
  ]);
});
