import t from 'tap';
import { KeyedQueue } from '../../common/keyed-queue.js';

/** A promise with its resolve/reject handles. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

t.test('tasks of one key run one at a time, in order; other keys run alongside', async (t) => {
  const q = new KeyedQueue<string>();
  const log: string[] = [];
  const a1 = deferred();
  const b1 = deferred();
  const first = q.run('a', async () => {
    log.push('a1 start');
    await a1.promise;
    log.push('a1 end');
    return 1;
  });
  const second = q.run('a', async () => {
    log.push('a2 start');
    return 2;
  });
  const other = q.run('b', async () => {
    log.push('b1 start');
    await b1.promise;
    return 3;
  });
  await new Promise((r) => setImmediate(r));
  t.same(log, ['a1 start', 'b1 start'], 'a2 waits for a1; b1 does not');
  a1.resolve();
  t.equal(await first, 1);
  t.equal(await second, 2);
  t.same(log, ['a1 start', 'b1 start', 'a1 end', 'a2 start']);
  b1.resolve();
  t.equal(await other, 3);
});

t.test('a rejected task rejects its caller and does not stop the next one', async (t) => {
  const q = new KeyedQueue<number>();
  const failing = q.run(1, async () => {
    throw new Error('boom');
  });
  const next = q.run(1, async () => 'ran');
  await t.rejects(failing, { message: 'boom' });
  t.equal(await next, 'ran');
});

t.test('idle() resolves once every queued task settled, failures included', async (t) => {
  const q = new KeyedQueue<string>();
  const gate = deferred();
  let done = false;
  void q
    .run('x', async () => {
      await gate.promise;
      throw new Error('late failure');
    })
    .catch(() => {});
  void q.run('x', async () => {
    done = true;
  });
  const idle = q.idle();
  gate.resolve();
  await idle;
  t.ok(done, 'the last task ran before idle() resolved');
});
