/**
 * Trusting the hub's TLS certificate when it comes from a private CA (`hub.caFile`): the
 * WebSocket to the hub and the downloads from its content origin both accept certificates
 * from Node's built-in list or from that CA.
 */
import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';

/** Node's built-in CAs plus `caPem`. */
export function trustedCas(caPem: string): string[] {
  return [...rootCertificates, caPem];
}

/** A fetch whose TLS connections trust Node's CAs plus `caPem` (undici, as Node's own fetch). */
export function fetchTrusting(caPem: string): typeof fetch {
  const dispatcher = new Agent({ connect: { ca: trustedCas(caPem) } });
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(
      input as never,
      { ...(init as object), dispatcher } as never,
    )) as unknown as typeof fetch;
}
