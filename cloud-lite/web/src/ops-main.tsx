import { render } from 'preact';
import { initLanguage } from './i18n/i18n.js';
import { ApiClient } from './lib/api-client.js';
import { setHubCurrency } from './lib/format.js';
import type { Terms } from './lib/types.js';
import { OpsApp } from './ops/app.js';
import { ApiContext, announceSession, memoryTokenStore } from './ui/context.js';

// An operator account's session is the hub's HttpOnly cookie; an admin token stays in memory.
const bearer = memoryTokenStore();
const api = new ApiClient({ baseUrl: '', bearer, onSessionChange: announceSession });
const root = document.getElementById('app');
initLanguage();
if (root) {
  void Promise.all([
    api.restoreSession(),
    api.terms().catch((): Terms | undefined => undefined),
  ]).then(([user, terms]) => {
    setHubCurrency(terms?.currency);
    root.textContent = '';
    render(
      <ApiContext.Provider value={api}>
        <OpsApp bearer={bearer} staff={user?.role === 'operator' || user?.role === 'admin'} />
      </ApiContext.Provider>,
      root,
    );
  });
}
