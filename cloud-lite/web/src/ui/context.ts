import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { ApiClient, TokenStore } from '../lib/api-client.js';

export const ApiContext = createContext<ApiClient | undefined>(undefined);

export function useApi(): ApiClient {
  const api = useContext(ApiContext);
  if (!api) throw new Error('ApiContext missing');
  return api;
}

/**
 * A token held in this page's memory only (the operator's admin token): gone on reload, never
 * written to localStorage or sessionStorage, where any script on the origin could read it.
 */
export function memoryTokenStore(): TokenStore {
  let token: string | null = null;
  return {
    get: () => token,
    set: (t) => {
      token = t;
      dispatchEvent(new Event('dk:session'));
    },
  };
}

/** Tells the pages that the session started or ended (they listen for `dk:session`). */
export const announceSession = () => dispatchEvent(new Event('dk:session'));

/**
 * Whether the page has a session, following its changes (`dk:session`); the setter is for a
 * page that knows before the event (its login form just succeeded).
 */
export function useSignedIn(api: ApiClient): [boolean, (on: boolean) => void] {
  const [signedIn, setSignedIn] = useState(api.signedIn);
  useEffect(() => {
    const update = () => setSignedIn(api.signedIn);
    update(); // a change between the first render and this effect
    addEventListener('dk:session', update);
    return () => removeEventListener('dk:session', update);
  }, [api]);
  return [signedIn, setSignedIn];
}
