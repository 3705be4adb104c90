/**
 * The keypad contract, run against the simulator and against the real driver reading a FIFO
 * fed with real `input_event` bytes (this machine has no /dev/uinput to make a virtual input
 * device). On a FIFO the exclusive grab is impossible: EVIOCGRAB answers ENOTTY, and the
 * driver must say so (grabbed: false) and read on. Against a real keypad:
 *   HAL_KEYPAD=/dev/input/by-id/usb-...-event-kbd npx tap test/hal/keypad/contract.test.ts
 * (the suite then asks a person to type; it is meant for a bench, not CI).
 */
import t from 'tap';
import { createKeypad } from '../../../hal/keypad/index.js';
import { keypadContract } from './fixtures/contract.js';
import { EventFifo } from './fixtures/fifo.js';

t.test('simulator', async (t) => {
  keypadContract(t, async () => {
    const keypad = await createKeypad({ driver: 'sim' });
    return {
      keypad,
      type: async (keys) => {
        for (const k of keys) keypad.press(k);
      },
      hold: async (key) => keypad.press(key),
      unplug: async () => keypad.unplug(),
      replug: async () => keypad.replug(),
      grab: { grabbed: true },
    };
  });
});

t.test('real driver on a FIFO of input_event records (no grab: ENOTTY)', async (t) => {
  keypadContract(t, async (t) => {
    const fifo = new EventFifo(t);
    const keypad = await createKeypad({ driver: 'real', path: fifo.path, reconnectMs: 50 });
    return {
      keypad,
      type: async (keys) => fifo.type(keys),
      hold: async (key, repeats) => fifo.hold(key, repeats),
      unplug: async () => fifo.close(),
      replug: async () => fifo.open(),
      grab: { grabbed: false, note: /ENOTTY/ },
    };
  });
});

const device = process.env['HAL_KEYPAD'];
t.test('real keypad (HAL_KEYPAD)', { skip: device ? false : 'HAL_KEYPAD not set' }, async (t) => {
  const keypad = await createKeypad({ driver: 'real', path: device! });
  await keypad.start();
  t.teardown(() => keypad.stop());
  t.ok(keypad.status().connected, `opened ${device}`);
  t.ok(keypad.status().grabbed, `grabbed exclusively (${keypad.status().note ?? ''})`);
  t.comment('type 1 2 3 Enter on the keypad');
  const keys: string[] = [];
  await new Promise<void>((resolve) =>
    keypad.on('key', (p) => {
      keys.push(p.key);
      if (p.key === 'enter') resolve();
    }),
  );
  t.same(keys, ['1', '2', '3', 'enter']);
});
