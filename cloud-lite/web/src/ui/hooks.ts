import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `fn` on mount and when `deps` change; stale answers are dropped. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const run = useRef(0);
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
    load();
    return () => {
      run.current++;
    };
  }, [load]);
  return { ...state, reload: load };
}
