import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../lib/api-client.js';

/**
 * Follows a resource live: loads it, then reads its SSE stream (`event: <key>`, and others
 * through `merge`), and falls
 * back to polling every `pollMs` when the stream cannot be opened or breaks, until
 * `isDone(value)`. Stops on unmount.
 */
export function useFollow<T>(opts: {
  api: ApiClient;
  load: () => Promise<T>;
  streamPath: string;
  key: string;
  isDone: (v: T) => boolean;
  pollMs?: number;
  /**
   * Another event of the stream (e.g. only what changed): the new value from the last one, or
   * undefined to ignore it. Absent: only `event: <key>` counts.
   */
  merge?: (last: T, event: string, data: unknown) => T | undefined;
}): { value: T | undefined; error: unknown; live: boolean } {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [live, setLive] = useState(false);
  const { api, load, streamPath, key, isDone } = opts;
  const pollMs = opts.pollMs ?? 2000;

  useEffect(() => {
    const abort = new AbortController();
    let stopped = false;
    let last: T | undefined;
    const take = (v: T) => {
      last = v;
      setValue(v);
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    (async () => {
      try {
        take(await load());
        setError(undefined);
      } catch (err) {
        setError(err);
      }
      while (!stopped && !(last && isDone(last))) {
        try {
          setLive(true);
          await api.stream(
            streamPath,
            (event, data) => {
              const v = (data as Record<string, unknown>)?.[key] ?? data;
              if (event === key && v && typeof v === 'object') take(v as T);
              else if (opts.merge && last !== undefined) {
                const next = opts.merge(last, event, data);
                if (next !== undefined) take(next);
              }
            },
            abort.signal,
          );
        } catch {
          // the stream is optional; polling below keeps the page current
        } finally {
          setLive(false);
        }
        if (stopped || (last && isDone(last))) break;
        await sleep(pollMs);
        if (stopped) break;
        try {
          take(await load());
          setError(undefined);
        } catch (err) {
          setError(err);
        }
      }
    })();
    return () => {
      stopped = true;
      abort.abort();
    };
  }, [streamPath]);
  return { value, error, live };
}
