import type { HubCredentials, KioskConfig } from '../config.js';
import type { HubLinkConfig } from './hub-link.js';
import { trustedCas } from './hub-tls.js';

/** HubLinkConfig from the validated kioskd configuration and the resolved credentials. */
export function hubLinkConfig(cfg: KioskConfig, creds: HubCredentials): HubLinkConfig {
  return {
    url: cfg.hub.url,
    ...(cfg.hub.urls ? { urls: cfg.hub.urls } : {}),
    kioskId: cfg.kioskId,
    secret: creds.secret,
    heartbeatFallbackSeconds: cfg.hub.heartbeatFallbackSeconds,
    callTimeoutMs: Math.round(cfg.hub.callTimeoutSeconds * 1000),
    eventWindow: cfg.hub.eventWindow,
    ...(creds.caPem ? { wsOptions: { ca: trustedCas(creds.caPem) } } : {}),
    backoff: {
      baseMs: cfg.hub.backoff.baseMs,
      capMs: cfg.hub.backoff.capMs,
      stableMs: Math.round(cfg.hub.backoff.stableSeconds * 1000),
    },
  };
}
