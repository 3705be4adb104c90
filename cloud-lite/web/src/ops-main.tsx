import { render } from 'preact';
import { ApiClient } from './lib/api-client.js';
import { OpsApp } from './ops/app.js';
import { ApiContext, announceSession, memoryTokenStore } from './ui/context.js';

// An operator account's session is the hub's HttpOnly cookie; an admin token stays in memory.
const bearer = memoryTokenStore();
const api = new ApiClient({ baseUrl: '', bearer, onSessionChange: announceSession });
const root = document.getElementById('app');
if (root) {
  void api.restoreSession().then((user) => {
    root.textContent = '';
    render(
      <ApiContext.Provider value={api}>
        <OpsApp bearer={bearer} staff={user?.role === 'operator' || user?.role === 'admin'} />
      </ApiContext.Provider>,
      root,
    );
  });
}
