import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `fn` on mount and when `deps` change; stale answers are dropped. `initial`: an answer
 * the page already has (preloaded into its HTML): shown at once, and `fn` first runs on a
 * change of `deps` or a reload.
 */
export function useAsync<T>(
  fn: () => Promise<T>,
  deps: unknown[],
  initial?: { data?: T; error?: unknown },
): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>(
    () => ({ data: initial?.data, error: initial?.error, loading: !initial }),
  );
  const run = useRef(0);
  const skip = useRef(!!initial);
  const load = useCallback(() => {
    const id = ++run.current;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    fn().then(
      (data) => {
        if (id === run.current) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (id === run.current) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
  }, deps);
  useEffect(() => {
    if (skip.current) skip.current = false;
    else load();
    return () => {
      run.current++;
    };
  }, [load]);
  return { ...state, reload: load };
}
