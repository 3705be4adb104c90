import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RouteOptions,
} from 'fastify';
import type { AlertService } from '../alerts/alert-service.js';
import { type HubConfig, publicOrigin } from '../config.js';
import type { HubContentStore } from '../content/content-store.js';
import type { KioskHub } from '../hub/hub.js';
import type { Logger } from '../log.js';
import { mapSettings, tileOrigins } from '../map-config.js';
import type { HubMetrics } from '../metrics.js';
import type { UnsubscribeLinks } from '../notifications/unsubscribe.js';
import type { KioskDiagnostics } from '../registry/diagnostics.js';
import type { KioskRegistry } from '../registry/kiosk-registry.js';
import type { RemoteConfigService } from '../registry/remote-config.js';
import type { RentalDomain } from '../rental/rental-domain.js';
import type { Store } from '../store/types.js';
import type { RolloutService } from '../updates/rollouts.js';
import { installCardDataRefusal } from './card-data.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers } from './errors.js';
import { exactBodyValidators } from './exact-body.js';
import { installGuard } from './guard.js';
import { lazySerializers } from './lazy-serializers.js';
import { OpenApiDocument, registerApiDocsPages } from './openapi.js';
import { registerAlertRoutes } from './routes/alert-routes.js';
import { offerLookup } from './routes/catalog-routes.js';
import { registerContentRoutes } from './routes/content-routes.js';
import { registerDiagnosticsRoutes } from './routes/diagnostics-routes.js';
import { registerKioskRoutes } from './routes/kiosk-routes.js';
import { registerMapRoutes } from './routes/map-routes.js';
import { registerNotificationRoutes } from './routes/notification-routes.js';
import { registerOperatorRoutes } from './routes/operator-fleet-routes.js';
import { registerRemoteConfigRoutes } from './routes/remote-config-routes.js';
import { registerRentalRoutes } from './routes/rental-routes.js';
import { registerRolloutRoutes } from './routes/rollout-routes.js';
import { registerSystemRoutes } from './routes/system-routes.js';
import { type NotFoundPage, registerWeb } from './routes/web-routes.js';
import { installSameOriginCheck } from './same-origin.js';
import { addComponentSchemas } from './schemas/components.js';

/** What the HTTP edge calls: the domains' functions and the hub's state. */
export interface HttpDeps {
  config: HubConfig;
  logger: Logger;
  store: Store;
  registry: KioskRegistry;
  hub: KioskHub;
  rental: RentalDomain;
  content: HubContentStore;
  rollouts: RolloutService;
  alerts: AlertService;
  metrics: HubMetrics;
  diagnostics: KioskDiagnostics;
  remoteConfig: RemoteConfigService;
  /** The renter e-mail's signed unsubscribe links. */
  unsubscribeLinks: UnsubscribeLinks;
  publicKeyPem: string;
  /** Built web assets (scripts/build-web.ts); default <repo>/dist/web. */
  webAssetDir?: string;
  /** Called with every route as it is registered (tests: the API document's coverage). */
  onRoute?: (route: RouteOptions) => void;
  /**
   * Compile every request validator and response serializer when the app is made ready, not on
   * first use (tests).
   */
  eagerSchemas?: boolean;
}

/**
 * The hub's HTTP edge: one fastify instance with the one error handler, the same-origin
 * check, the one guard, and every route (system, kiosk enrolment, the operator's fleet API,
 * the rental API, the content origin, the web pages). It does not listen (server.ts does).
 */
export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  const app = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // Only listed proxies may set the client address and scheme (X-Forwarded-For/-Proto/-Host).
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    // JSON bodies without coercion: wrong types are 400 naming the field (exact-body.ts);
    // request validators and response serializers compiled on first use (exact-body.ts,
    // lazy-serializers.ts).
    schemaController: {
      compilersFactory: {
        buildValidator: exactBodyValidators({ eager: deps.eagerSchemas }) as never,
        buildSerializer: lazySerializers({ eager: deps.eagerSchemas }) as never,
      },
    },
    return503OnClosing: true,
    frameworkErrors,
    clientErrorHandler,
    forceCloseConnections: true,
  });
  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);
  const openApi = new OpenApiDocument();
  openApi.record(app);
  addComponentSchemas(app);
  // The web pages answer a browser's unknown path with their own "page not found" (registerWeb).
  let notFoundPage: NotFoundPage | undefined;
  installErrorHandlers(
    app,
    logger,
    () => deps.metrics.error('http'),
    (req, reply) => notFoundPage?.(req, reply),
  );
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequest(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
  installSameOriginCheck(app, { publicOrigin: publicOrigin(config) });
  installGuard(app, {
    authenticateSession: (token) => deps.rental.accounts.authenticate(token),
    authenticateKiosk: (id, secret) => deps.registry.authenticate(id, secret),
    adminToken: config.adminToken,
    metricsToken: config.metricsToken,
    onSessionsEnded: (listener) => deps.rental.accounts.onSessionsEnded(listener),
  });
  installCardDataRefusal(app);
  registerSystemRoutes(app, deps);
  registerKioskRoutes(app, {
    registry: deps.registry,
    store: deps.store,
    publicKeyPem: deps.publicKeyPem,
    publicUrl: config.publicUrl,
    enrolLimit: {
      max: config.enrolMaxFailuresPerAddress,
      windowSeconds: config.enrolWindowSeconds,
    },
  });
  registerOperatorRoutes(app, {
    store: deps.store,
    registry: deps.registry,
    hub: deps.hub,
    commandDefaultTtlSeconds: config.commandDefaultTtlSeconds,
    publicOrigin: publicOrigin(config),
  });
  await registerRentalRoutes(app, deps.rental);
  registerContentRoutes(app, { store: deps.content });
  registerRolloutRoutes(app, { rollouts: deps.rollouts, store: deps.store });
  registerAlertRoutes(app, { alerts: deps.alerts });
  registerDiagnosticsRoutes(app, {
    diagnostics: deps.diagnostics,
    maxUploadBytes: config.diagnostics.maxUploadBytes,
  });
  registerRemoteConfigRoutes(app, { remoteConfig: deps.remoteConfig });
  registerMapRoutes(app, config.map);
  const payments = deps.rental.deps.config.payments;
  registerNotificationRoutes(app, {
    store: deps.store,
    links: deps.unsubscribeLinks,
    now: deps.rental.now,
  });
  notFoundPage = await registerWeb(app, {
    assetDir: deps.webAssetDir,
    kioskOffer: offerLookup(deps.rental),
    signedIn: async (token) => (await deps.rental.accounts.authenticate(token)) !== undefined,
    imgOrigins: tileOrigins(mapSettings(config.map)),
    ...(payments.provider === 'stripe' ? { stripeJsUrl: payments.stripe.jsUrl } : {}),
  });
  registerApiDocsPages(app, openApi);
  return app;
}
