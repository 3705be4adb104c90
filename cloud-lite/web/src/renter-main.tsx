import { render } from 'preact';
import { ApiClient } from './lib/api-client.js';
import { RenterApp } from './renter/app.js';
import { ApiContext, announceSession } from './ui/context.js';

// The session is the hub's HttpOnly cookie; the page only asks whether it is valid.
const api = new ApiClient({ baseUrl: '', onSessionChange: announceSession });
const root = document.getElementById('app');
if (root) {
  void api.restoreSession().then(() => {
    root.textContent = '';
    render(
      <ApiContext.Provider value={api}>
        <RenterApp />
      </ApiContext.Provider>,
      root,
    );
  });
}
