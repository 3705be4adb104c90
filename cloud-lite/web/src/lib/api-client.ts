import { ApiError } from './errors.js';
import { SseParser } from './sse-parser.js';
import type {
  Card,
  ContentBody,
  ContentPackage,
  Diagnostics,
  DiskTypeBody,
  ExtensionQuote,
  KioskOffer,
  KioskRemoteConfig,
  KioskSession,
  MapSettings,
  Me,
  Money,
  NearbyKiosk,
  NotificationSettings,
  NotificationSettingsBody,
  OpsCommand,
  OpsDiskType,
  OpsEvent,
  OpsKiosk,
  OpsOrder,
  Order,
  PaymentsConfig,
  RemoteConfigScope,
  Rental,
  RentalSettings,
  RentalSettingsBody,
  RentBody,
  Reservation,
  Rollout,
  RolloutView,
  SandboxCard,
  SettingKey,
  Terms,
  UpdateHistoryEntry,
  User,
} from './types.js';

/** A bearer token kept in memory only (the operator page's admin token); never in storage. */
export interface TokenStore {
  get(): string | null;
  set(token: string | null): void;
}

export interface ApiClientDeps {
  /** '' for same-origin pages. */
  baseUrl: string;
  /**
   * The admin token the operator page may use instead of an account (memory only). Account
   * sessions live in the hub's HttpOnly `dk_session` cookie: the page never holds that token.
   */
  bearer?: TokenStore;
  fetch?: typeof fetch;
  /** Called when the session starts or ends (login, confirmed registration, logout, a 401). */
  onSessionChange?: (signedIn: boolean) => void;
  /** The session as the hub saw it when it rendered the page (preload), until /api/me says. */
  signedIn?: boolean;
}

/** The body of POST /api/orders and /api/reservations (`saveCard`: save the card once this payment is authorised). */
export type RentRequest = RentBody;

/**
 * Typed calls to the cloud-lite HTTP API. Every failure rejects with ApiError: the server's
 * `{error:{code,message}}` (plus extra fields as `details`), or ENETWORK when the request
 * did not get an answer. No call retries by itself; the payment calls take an idempotency
 * key so that the caller may retry safely.
 */
export class ApiClient {
  private session = false;
  private payments?: Promise<PaymentsConfig>;

  constructor(private readonly deps: ApiClientDeps) {
    this.session = deps.signedIn ?? false;
  }

  /** Whether this page has a session (the cookie, as last seen) or an admin token. */
  get signedIn(): boolean {
    return this.session || !!this.deps.bearer?.get();
  }

  private setSession(on: boolean): void {
    if (on === this.session) return;
    this.session = on;
    this.deps.onSessionChange?.(on);
  }

  /** At page load: asks the hub whether the session cookie is valid; the user, or null. */
  async restoreSession(): Promise<User | null> {
    try {
      const me = await this.me();
      this.setSession(true);
      return me.user;
    } catch {
      this.setSession(false);
      return null;
    }
  }

  /** Request headers: JSON, and the admin token when the operator page uses one. */
  private headers(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    const bearer = this.deps.bearer?.get();
    if (bearer) h.authorization = `Bearer ${bearer}`;
    return h;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const h = this.headers({ accept: 'application/json', ...headers });
    if (body !== undefined) h['content-type'] = 'application/json';
    const doFetch = this.deps.fetch ?? globalThis.fetch.bind(globalThis);
    let res: Response;
    try {
      res = await doFetch(this.deps.baseUrl + path, {
        method,
        headers: h,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, 'ENETWORK', `no answer from the service: ${(err as Error).message}`);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json as { error?: Record<string, unknown> } | undefined)?.error;
      const code = typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`;
      const message = typeof e?.message === 'string' ? e.message : `HTTP ${res.status}`;
      const { code: _c, message: _m, ...rest } = e ?? {};
      const top = { ...(json as Record<string, unknown>) };
      delete top.error;
      if (res.status === 401) {
        this.deps.bearer?.set(null);
        this.setSession(false);
      }
      throw new ApiError(res.status, code, message, { ...top, ...rest });
    }
    return json as T;
  }

  // Accounts

  /**
   * Asks for an account: the hub answers the same whether the login is new or taken and
   * sends a link to the e-mail or phone (`confirmRegistration` finishes it).
   */
  /** Asks for an account; the link (and every later e-mail) comes in `language`. */
  async register(b: {
    email?: string;
    phone?: string;
    password: string;
    name?: string;
    language?: 'en' | 'zh-CN';
  }) {
    await this.request<{ status: string }>('POST', '/api/auth/register', b);
  }

  /** Opens the link's registration: creates the account and starts the session (cookie). */
  async confirmRegistration(token: string): Promise<User> {
    const out = await this.request<{ user: User }>('POST', '/api/auth/register/confirm', {
      token,
    });
    this.setSession(true);
    return out.user;
  }

  async login(login: string, password: string): Promise<User> {
    const out = await this.request<{ user: User }>('POST', '/api/auth/login', {
      login,
      password,
    });
    this.setSession(true);
    return out.user;
  }

  /** Ends the session on the hub (the cookie) and forgets an admin token. */
  async logout(): Promise<void> {
    try {
      if (this.session) await this.request('POST', '/api/auth/logout');
    } finally {
      this.deps.bearer?.set(null);
      this.setSession(false);
    }
  }

  me(): Promise<Me> {
    return this.request('GET', '/api/me');
  }

  async topUpDeposit(amountMinor: number, card: Card, saveCard = false): Promise<Money> {
    return (
      await this.request<{ deposit: Money }>('POST', '/api/me/deposit', {
        amountMinor,
        card,
        ...(saveCard ? { saveCard } : {}),
      })
    ).deposit;
  }

  /** The payment provider and what its card form needs (read once per page). */
  paymentsConfig(): Promise<PaymentsConfig> {
    this.payments ??= this.request<PaymentsConfig>('GET', '/api/payments/config').catch((err) => {
      this.payments = undefined;
      throw err;
    });
    return this.payments;
  }

  /**
   * The sandbox provider's card form: the card goes to its endpoint (the provider's side, not
   * a rental route), which answers the payment-method id the page then pays with.
   */
  async sandboxPaymentMethod(url: string, card: SandboxCard): Promise<string> {
    return (await this.request<{ id: string }>('POST', url, card)).id;
  }

  async refundDeposit(): Promise<Money> {
    return (await this.request<{ deposit: Money }>('POST', '/api/me/deposit/refund', {})).deposit;
  }

  // Kiosks and catalog

  content(): Promise<ContentPackage[]> {
    return this.request('GET', '/api/content');
  }

  nearbyKiosks(near?: { lat: number; lng: number }, limit = 50): Promise<NearbyKiosk[]> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (near) q.set('near', `${near.lat},${near.lng}`);
    return this.request('GET', `/api/kiosks?${q}`);
  }

  /** The hub's rental terms (currency, deposit, late fee, lost-disk charge, windows); public. */
  terms(): Promise<Terms> {
    return this.request('GET', '/api/terms');
  }

  /** The map page's tile source, attribution, coordinate system and directions link. */
  mapSettings(): Promise<MapSettings> {
    return this.request('GET', '/api/map');
  }

  /** What a kiosk offers, before login (its QR page): name, address, online, types, terms. */
  kioskOffer(kioskId: string): Promise<KioskOffer> {
    return this.request('GET', `/api/kiosks/${encodeURIComponent(kioskId)}/offer`);
  }

  /** The 1st instruction: who I am at which kiosk, and what I may rent there. */
  kioskSession(kioskId: string): Promise<KioskSession> {
    return this.request('POST', `/api/kiosks/${encodeURIComponent(kioskId)}/session`, {});
  }

  // Orders, reservations, rentals

  async createOrder(req: RentRequest, idempotencyKey: string): Promise<Order> {
    return (
      await this.request<{ order: Order }>('POST', '/api/orders', req, {
        'idempotency-key': idempotencyKey,
      })
    ).order;
  }

  async order(id: string): Promise<Order> {
    return (await this.request<{ order: Order }>('GET', `/api/orders/${encodeURIComponent(id)}`))
      .order;
  }

  /** "I didn't get my disk": flags the order for an operator; moves no money. */
  async reportNotReceived(id: string): Promise<Order> {
    return (
      await this.request<{ order: Order }>(
        'POST',
        `/api/orders/${encodeURIComponent(id)}/not-received`,
        {},
      )
    ).order;
  }

  myOrders(): Promise<Order[]> {
    return this.request<unknown>('GET', '/api/me/orders').then((x) => listOf<Order>(x, 'orders'));
  }

  async createReservation(req: RentRequest, idempotencyKey: string): Promise<Reservation> {
    return (
      await this.request<{ reservation: Reservation }>('POST', '/api/reservations', req, {
        'idempotency-key': idempotencyKey,
      })
    ).reservation;
  }

  async reservation(id: string): Promise<Reservation> {
    return (
      await this.request<{ reservation: Reservation }>(
        'GET',
        `/api/reservations/${encodeURIComponent(id)}`,
      )
    ).reservation;
  }

  async cancelReservation(id: string): Promise<Reservation> {
    return (
      await this.request<{ reservation: Reservation }>(
        'POST',
        `/api/reservations/${encodeURIComponent(id)}/cancel`,
        {},
      )
    ).reservation;
  }

  pickup(id: string): Promise<{ reservation: Reservation; order: Order }> {
    return this.request('POST', `/api/reservations/${encodeURIComponent(id)}/pickup`, {});
  }

  myReservations(): Promise<Reservation[]> {
    return this.request<unknown>('GET', '/api/me/reservations').then((x) =>
      listOf<Reservation>(x, 'reservations'),
    );
  }

  /** My e-mail settings: their language and which kinds I get (receipts always go). */
  myNotifications(): Promise<NotificationSettings> {
    return this.request('GET', '/api/me/notifications');
  }

  /** Changes my e-mail settings (only the keys sent); answers them all. */
  setMyNotifications(b: NotificationSettingsBody): Promise<NotificationSettings> {
    return this.request('POST', '/api/me/notifications', b);
  }

  myRentals(): Promise<Rental[]> {
    return this.request<unknown>('GET', '/api/me/rentals').then((x) =>
      listOf<Rental>(x, 'rentals'),
    );
  }

  /** What `days` more would cost and give; nothing is charged. */
  async extensionQuote(id: string, days: number): Promise<ExtensionQuote> {
    return (
      await this.request<{ quote: ExtensionQuote }>(
        'GET',
        `/api/rentals/${encodeURIComponent(id)}/extension-quote?days=${days}`,
      )
    ).quote;
  }

  /** Extends at the quoted amount (QUOTE_CHANGED if the price moved); the key makes a retry safe. */
  async extendRental(
    id: string,
    days: number,
    quotedAmountMinor: number,
    idempotencyKey: string,
  ): Promise<Rental> {
    return (
      await this.request<{ rental: Rental }>(
        'POST',
        `/api/rentals/${encodeURIComponent(id)}/extend`,
        { days, quotedAmountMinor },
        { 'idempotency-key': idempotencyKey },
      )
    ).rental;
  }

  /**
   * Follows a Server-Sent Events stream over fetch (authenticated by the session cookie, or
   * the admin token's header; never a token in the URL) and calls `onMessage` with each
   * message's parsed JSON data. Resolves when the server ends the stream; rejects ApiError on
   * a refused request or a broken stream. Aborting `signal` ends it quietly.
   */
  async stream(
    path: string,
    onMessage: (event: string, data: unknown) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const headers = this.headers({ accept: 'text/event-stream' });
    const doFetch = this.deps.fetch ?? globalThis.fetch.bind(globalThis);
    let res: Response;
    try {
      res = await doFetch(this.deps.baseUrl + path, {
        headers,
        credentials: 'same-origin',
        signal: signal ?? null,
      });
    } catch (err) {
      if (signal?.aborted) return;
      throw new ApiError(0, 'ENETWORK', `no answer from the service: ${(err as Error).message}`);
    }
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      let e: { code?: string; message?: string } | undefined;
      try {
        e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      } catch {}
      throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? text);
    }
    const parser = new SseParser();
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const m of parser.feed(decoder.decode(value, { stream: true }))) {
          let data: unknown = m.data;
          try {
            data = JSON.parse(m.data);
          } catch {}
          onMessage(m.event, data);
        }
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw new ApiError(0, 'ENETWORK', `the live updates stopped: ${(err as Error).message}`);
    }
  }

  // Operator

  async opsKiosks(): Promise<OpsKiosk[]> {
    return (await this.request<{ kiosks: OpsKiosk[] }>('GET', '/api/operator/kiosks')).kiosks;
  }

  async opsKiosk(id: string): Promise<OpsKiosk> {
    return (
      await this.request<{ kiosk: OpsKiosk }>(
        'GET',
        `/api/operator/kiosks/${encodeURIComponent(id)}`,
      )
    ).kiosk;
  }

  opsCreateKiosk(
    id: string,
    name?: string,
  ): Promise<{ kiosk: OpsKiosk; enrolmentToken: string; expiresAt: string }> {
    return this.request('POST', '/api/operator/kiosks', name ? { id, name } : { id });
  }

  /** The kiosk's QR sticker (its landing URL as SVG and as base64 PNG). */
  opsSticker(kioskId: string): Promise<{ url: string; svg: string; png: string }> {
    return this.request('GET', `/api/operator/kiosks/${encodeURIComponent(kioskId)}/sticker`);
  }

  /** Sets a kiosk's site: name, address and position (the renters' map and QR landing). */
  opsPutSite(site: {
    kioskId: string;
    name: string;
    address: string;
    lat: number;
    lng: number;
  }): Promise<unknown> {
    return this.request('POST', '/api/operator/kiosk-sites', site);
  }

  async opsCommand(
    kioskId: string,
    action: string,
    payload: Record<string, unknown>,
  ): Promise<OpsCommand> {
    return (
      await this.request<{ command: OpsCommand }>(
        'POST',
        `/api/operator/kiosks/${encodeURIComponent(kioskId)}/commands`,
        { action, payload },
      )
    ).command;
  }

  async opsCommands(kioskId: string): Promise<OpsCommand[]> {
    return (
      await this.request<{ commands: OpsCommand[] }>(
        'GET',
        `/api/operator/kiosks/${encodeURIComponent(kioskId)}/commands?limit=50`,
      )
    ).commands;
  }

  async opsEvents(kioskId: string): Promise<OpsEvent[]> {
    return (
      await this.request<{ events: OpsEvent[] }>(
        'GET',
        `/api/operator/kiosks/${encodeURIComponent(kioskId)}/events?limit=200`,
      )
    ).events;
  }

  /** Asks a kiosk for its diagnostics bundle or log lines (it uploads them to the hub). */
  async opsAskDiagnostics(
    kioskId: string,
    ask: { kind: 'bundle' } | { kind: 'logs'; lines: number; level: string },
  ): Promise<Diagnostics> {
    return (
      await this.request<{ diagnostics: Diagnostics }>(
        'POST',
        `/api/operator/kiosks/${encodeURIComponent(kioskId)}/diagnostics`,
        ask,
      )
    ).diagnostics;
  }

  async opsDiagnostics(kioskId: string): Promise<Diagnostics[]> {
    return (
      await this.request<{ diagnostics: Diagnostics[] }>(
        'GET',
        `/api/operator/kiosks/${encodeURIComponent(kioskId)}/diagnostics`,
      )
    ).diagnostics;
  }

  /** Where the browser downloads uploaded diagnostics (the session cookie authenticates). */
  diagnosticsDownloadUrl(id: string): string {
    return `/api/operator/diagnostics/${encodeURIComponent(id)}/download`;
  }

  /** Remote configuration: the fleet default, the settings allowed, each kiosk's state. */
  opsRemoteConfig(): Promise<{
    fleet: RemoteConfigScope | null;
    settingKeys: SettingKey[];
    kiosks: KioskRemoteConfig[];
  }> {
    return this.request('GET', '/api/operator/config');
  }

  opsKioskRemoteConfig(
    kioskId: string,
  ): Promise<{ config: KioskRemoteConfig; settingKeys: SettingKey[] }> {
    return this.request('GET', `/api/operator/kiosks/${encodeURIComponent(kioskId)}/config`);
  }

  /** Replaces the fleet-default settings; INVALID_SETTINGS names each bad field in `errors`. */
  opsSetFleetConfig(settings: Record<string, unknown>, expectedVersion: number) {
    return this.request('POST', '/api/operator/config', { settings, expectedVersion });
  }

  opsSetKioskConfig(kioskId: string, settings: Record<string, unknown>, expectedVersion: number) {
    return this.request('POST', `/api/operator/kiosks/${encodeURIComponent(kioskId)}/config`, {
      settings,
      expectedVersion,
    });
  }

  opsKioskUpdates(
    kioskId: string,
  ): Promise<{ softwareVersion: string | null; history: UpdateHistoryEntry[] }> {
    return this.request('GET', `/api/operator/kiosks/${encodeURIComponent(kioskId)}/updates`);
  }

  async opsRollouts(): Promise<Rollout[]> {
    return (await this.request<{ rollouts: Rollout[] }>('GET', '/api/operator/rollouts')).rollouts;
  }

  opsRollout(id: string): Promise<RolloutView> {
    return this.request('GET', `/api/operator/rollouts/${encodeURIComponent(id)}`);
  }

  opsRolloutAction(id: string, verb: 'halt' | 'resume' | 'cancel'): Promise<RolloutView> {
    return this.request('POST', `/api/operator/rollouts/${encodeURIComponent(id)}/${verb}`);
  }

  /** Recent orders with renter and amount charged; only `state` when given. */
  async opsOrders(state?: string): Promise<OpsOrder[]> {
    const q = state ? `?state=${encodeURIComponent(state)}` : '';
    return (await this.request<{ orders: OpsOrder[] }>('GET', `/api/operator/orders${q}`)).orders;
  }

  opsReservations(): Promise<Reservation[]> {
    return this.request<unknown>('GET', '/api/operator/reservations').then((x) =>
      listOf<Reservation>(x, 'reservations'),
    );
  }

  opsContent(): Promise<ContentPackage[]> {
    return this.request<unknown>('GET', '/api/operator/content').then((x) =>
      listOf<ContentPackage>(x, 'content'),
    );
  }

  opsAddContent(c: ContentBody): Promise<unknown> {
    return this.request('POST', '/api/operator/content', c);
  }

  async opsDiskTypes(): Promise<OpsDiskType[]> {
    return (await this.request<{ diskTypes: OpsDiskType[] }>('GET', '/api/operator/disk-types'))
      .diskTypes;
  }

  /** Adds or replaces a disk type (by id); audited by the hub. */
  opsPutDiskType(d: DiskTypeBody): Promise<unknown> {
    return this.request('POST', '/api/operator/disk-types', d);
  }

  /** The stored rental settings: deposit, late fee per day, lost-disk charge. */
  async opsRentalSettings(): Promise<RentalSettings> {
    return (
      await this.request<{ settings: RentalSettings }>('GET', '/api/operator/rental-settings')
    ).settings;
  }

  /** Changes them (for new rentals only); audited by the hub. */
  async opsPutRentalSettings(b: RentalSettingsBody): Promise<RentalSettings> {
    return (
      await this.request<{ settings: RentalSettings }>('POST', '/api/operator/rental-settings', b)
    ).settings;
  }
}

/** Lists come either bare (`[...]`) or wrapped (`{ orders: [...] }`); accept both. */
export function listOf<T>(x: unknown, key: string): T[] {
  if (Array.isArray(x)) return x as T[];
  const inner = (x as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(inner) ? (inner as T[]) : [];
}
