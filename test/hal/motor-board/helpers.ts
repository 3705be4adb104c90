import type { MotorBoard, MotorBoardEvents } from '../../../hal/motor-board/types.js';

/** Resolves when `cond()` is true; rejects after `ms` naming `what`. */
export async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The next `event` from `board`, or a rejection after `ms`. */
export function nextEvent<E extends keyof MotorBoardEvents>(
  board: MotorBoard,
  event: E,
  ms = 30_000,
): Promise<MotorBoardEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' event within ${ms} ms`)), ms);
    board.once(event, (...args: MotorBoardEvents[E]) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}
