/**
 * A hashing thread of a block I/O worker (block-io-worker.ts): SHA-256 of a slice of shared
 * memory the block worker read from a disk or an image, without copying it. Each request
 * carries the SharedArrayBuffer, the slice and an id; the answer is the id and the hex
 * digest. Imports only Node built-ins.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export interface HashRequest {
  id: number;
  memory: SharedArrayBuffer;
  offset: number;
  length: number;
}

export interface HashAnswer {
  id: number;
  sha256: string;
}

parentPort?.on('message', (m: HashRequest) => {
  const bytes = new Uint8Array(m.memory, m.offset, m.length);
  const answer: HashAnswer = { id: m.id, sha256: createHash('sha256').update(bytes).digest('hex') };
  parentPort?.postMessage(answer);
});
