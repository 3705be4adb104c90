// The renter app rendered on the hub: scripts/build-web.ts bundles this for Node
// (ssr/renter-ssr-<hash>.mjs, never served), and the hub's /k/<id> route
// (cloud-lite/http/routes/web-routes.ts) answers with the kiosk's offer as real markup, so a
// phone shows the offer and its rent buttons before the app's script has even arrived. The
// same components run in the browser and take the markup over (renter-main.tsx).
import { renderToString } from 'preact-render-to-string';
import { applyLanguage, type Language, requestLanguage, t } from './i18n/i18n.js';
import { ApiClient } from './lib/api-client.js';
import { setHubCurrency } from './lib/format.js';
import { type Preloaded, setPreloaded } from './lib/preload.js';
import { RenterApp } from './renter/app.js';
import { ApiContext } from './ui/context.js';
import { setServerLocation } from './ui/router.js';
import { TermsContext } from './ui/terms.js';

export { requestLanguage };

/**
 * The markup of the renter app at `url` in `lang` with the preloaded offer, and the page's
 * title. Synchronous, so the module-wide settings it makes (language, currency, address,
 * preloaded data) belong to this render alone.
 */
export function renderRenterPage(opts: { url: URL; lang: Language; preload: Preloaded }): {
  html: string;
  title: string;
} {
  applyLanguage(opts.lang);
  const terms = opts.preload.offer?.terms;
  setHubCurrency(terms?.currency);
  setServerLocation(opts.url);
  setPreloaded(opts.preload);
  try {
    // Never asked: effects (where the pages call the API) do not run on the hub.
    const api = new ApiClient({ baseUrl: '', signedIn: opts.preload.signedIn === true });
    const html = renderToString(
      <ApiContext.Provider value={api}>
        <TermsContext.Provider value={terms}>
          <RenterApp />
        </TermsContext.Provider>
      </ApiContext.Provider>,
    );
    const what = opts.preload.offer?.kiosk.name ?? t('kiosk.title', { id: opts.preload.kioskId });
    return { html, title: `${what} · ${t('app.renterTitle')}` };
  } finally {
    setServerLocation(undefined);
    setPreloaded(undefined);
  }
}
