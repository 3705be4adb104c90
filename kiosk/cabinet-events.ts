/**
 * The cabinet's own inputs as hub events: the service door (DoorChanged on every debounced
 * change) and the tamper switch (TamperDetected when it becomes active). Written to the outbox,
 * so they reach the hub once the link is up, in order with everything else. The hub decides
 * what they mean (a door opened during a technician's visit is expected; outside one it is not).
 */
import type { Gpio } from '../hal/gpio/index.js';
import type { KioskLogger } from './log.js';
import type { Outbox } from './state/outbox.js';

export interface CabinetEventsDeps {
  gpio: Pick<Gpio, 'on' | 'off' | 'readInputs'>;
  outbox: Pick<Outbox, 'append'>;
  log: KioskLogger;
}

/**
 * Starts forwarding (gpio started); a door already open or a tamper switch already active at
 * start is reported at once, since no edge will tell. Returns the function that stops it.
 */
export async function forwardCabinetEvents(deps: CabinetEventsDeps): Promise<() => void> {
  const { gpio, outbox, log } = deps;
  const onDoor = (state: 'open' | 'closed') => {
    log.info({ door: state }, `service door ${state}`);
    outbox.append('DoorChanged', { open: state === 'open' });
  };
  const onTamper = (active: boolean) => {
    if (!active) {
      log.info('tamper switch back to normal');
      return;
    }
    log.warn({ input: 'tamper' }, 'tamper switch active');
    outbox.append('TamperDetected', { input: 'tamper' });
  };
  gpio.on('door', onDoor);
  gpio.on('tamper', onTamper);
  try {
    const now = await gpio.readInputs();
    if (now.door === 'open') onDoor('open');
    if (now.tamper) onTamper(true);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'reading the door and tamper inputs failed');
  }
  return () => {
    gpio.off('door', onDoor);
    gpio.off('tamper', onTamper);
  };
}
