import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ApiClient, TokenStore } from '../lib/api-client.js';

export const ApiContext = createContext<ApiClient | undefined>(undefined);

export function useApi(): ApiClient {
  const api = useContext(ApiContext);
  if (!api) throw new Error('ApiContext missing');
  return api;
}

/** The session token in localStorage under `key` (survives reloads; cleared on logout or 401). */
export function localTokenStore(key: string): TokenStore {
  return {
    get: () => {
      try {
        return localStorage.getItem(key);
      } catch {
        return null;
      }
    },
    set: (token) => {
      try {
        if (token === null) localStorage.removeItem(key);
        else localStorage.setItem(key, token);
      } catch {}
      dispatchEvent(new Event('dk:session'));
    },
  };
}
