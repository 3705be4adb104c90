import type { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RentalNotifier } from '../rental/notifier.js';

/**
 * Streams `event: <name>` with the record's view whenever it changes, until it is terminal or
 * the client goes away. `load` re-reads the record (undefined: gone).
 */
export async function streamChanges<T extends { state: string }>(
  req: FastifyRequest,
  reply: FastifyReply,
  opts: {
    notifier: RentalNotifier;
    name: 'order' | 'reservation';
    id: string;
    load: () => Promise<T | undefined>;
    terminal: readonly string[];
  },
): Promise<void> {
  const first = await opts.load();
  if (!first) return;
  const raw = openEventStream(reply);
  let closed = false;
  let chain = Promise.resolve();
  const send = (view: T) => {
    if (closed) return;
    raw.write(`event: ${opts.name}\ndata: ${JSON.stringify({ [opts.name]: view })}\n\n`);
    if (opts.terminal.includes(view.state)) finish();
  };
  const onChange = (changed: string) => {
    if (changed !== opts.id || closed) return;
    chain = chain.then(async () => {
      const v = await opts.load().catch(() => undefined);
      if (v) send(v);
    });
  };
  const keepAlive = setInterval(() => !closed && raw.write(': keep-alive\n\n'), 15_000);
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    opts.notifier.off(opts.name, onChange);
    raw.end();
  };
  opts.notifier.on(opts.name, onChange);
  req.raw.on('close', finish);
  send(first);
}

/**
 * Streams `event: <name>` with `data: {"<name>": <load()>}` at once and again after every
 * `change` the emitter emits (coalesced: one re-read at a time), until the client goes away.
 */
export async function streamSnapshots<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  opts: {
    emitter: Pick<EventEmitter, 'on' | 'off'>;
    change: string;
    name: string;
    load: () => Promise<T>;
  },
): Promise<void> {
  const first = await opts.load();
  const raw = openEventStream(reply);
  let closed = false;
  let pending = false;
  let chain = Promise.resolve();
  const send = (v: T) => {
    if (!closed) raw.write(`event: ${opts.name}\ndata: ${JSON.stringify({ [opts.name]: v })}\n\n`);
  };
  const onChange = () => {
    if (closed || pending) return;
    pending = true;
    chain = chain.then(async () => {
      pending = false;
      const v = await opts.load().catch(() => undefined);
      if (v !== undefined) send(v);
    });
  };
  const keepAlive = setInterval(() => !closed && raw.write(': keep-alive\n\n'), 15_000);
  req.raw.on('close', () => {
    closed = true;
    clearInterval(keepAlive);
    opts.emitter.off(opts.change, onChange);
  });
  opts.emitter.on(opts.change, onChange);
  send(first);
}

/** Takes the reply over and writes the event-stream head (no buffering by proxies). */
function openEventStream(reply: FastifyReply) {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  return raw;
}
