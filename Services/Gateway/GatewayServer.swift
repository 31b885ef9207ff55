import Hummingbird
import Logging
import Messaging
import Persistence

/// The gateway's HTTP API: `/health` and the payment providers' callbacks for anyone, unlimited;
/// everything else rate-limited per caller, and everything under `/v1` but sign-up, sign-in and
/// the published conferences for a valid access token or API key.
/// Every answer carries `X-Request-Id`; every error is `application/problem+json`.
func makeGatewayRouter(settings: GatewaySettings, rpc: RPCClient, verifier: TokenVerifier,
                       identity: IdentityService, idempotency: IdempotencyMiddleware,
                       rateLimits: RateLimits) -> Router<GatewayRequestContext> {
    let router = Router(context: GatewayRequestContext.self)
    // Router middleware comes first: it wraps the routes added after it, and unknown paths too.
    router.add(middleware: ProblemMiddleware())
    let service = ServiceClient(rpc: rpc, timeout: settings.requestTimeout)
    // Load balancers and payment providers retry on their own schedule: never limited, and they
    // carry no credential.
    HealthRoute(rpc: rpc, timeout: settings.healthTimeout).register(on: router)
    let payments = PaymentRoutes(service: service)
    payments.registerPublic(on: router)
    let platforms = PlatformRoutes(service: service)
    platforms.registerPublic(on: router)
    // Every other route: who is calling (if anyone), then that caller's request rate.
    router.add(middleware: CallerAuthenticator(verifier: verifier, apiKeys: APIKeyVerifier(pool: identity.pool)))
    router.add(middleware: RateLimitMiddleware(limits: rateLimits))

    let auth = AuthRoutes(identity: identity)
    auth.registerPublic(on: router, idempotency: idempotency)
    let conferences = ConferenceRoutes(service: service)
    conferences.registerPublic(on: router)
    let registrations = RegistrationRoutes(service: service, pool: identity.pool)
    registrations.registerPublic(on: router)
    // The receipt link in payment emails (its token is the credential; limited like any anonymous caller).
    let finance = FinanceRoutes(service: service)
    finance.registerPublic(on: router)
    // The answer link of meeting invitation mails (its token is the credential).
    let attendees = AttendeeRoutes(service: service, pool: identity.pool)
    attendees.registerPublic(on: router)
    // Everything else under /v1 needs a caller; any POST may carry an Idempotency-Key…
    let v1 = router.group("v1").add(middleware: TokenAuthenticator()).add(middleware: idempotency)
    auth.register(on: v1)
    OrganizationRoutes(pool: identity.pool, logger: identity.logger).register(on: v1)
    conferences.register(on: v1)
    registrations.register(on: v1)
    payments.register(on: v1)
    finance.register(on: v1)
    attendees.register(on: v1)
    InboxRoutes(service: service).register(on: v1)
    PreferenceRoutes(service: service).register(on: v1)
    WebhookRoutes(service: service).register(on: v1)
    RobotRoutes(service: service).register(on: v1)
    platforms.register(on: v1)
    RuleRoutes(service: service).register(on: v1)
    let vault = settings.blobDirectory.map { UploadVault(blobs: BlobStore(directory: $0), secrets: settings.uploadSecrets) }
    UploadRoutes(service: service, pool: identity.pool, vault: vault, maxFileBytes: settings.uploadMaxBytes,
                 logger: identity.logger).register(on: v1)
    MeetingRoutes(service: service, pool: identity.pool, vault: vault).register(on: v1)
    RoomRoutes(service: service).register(on: v1)
    // …except where the answer holds a secret that must not be kept in the idempotency store.
    let secrets = router.group("v1").add(middleware: TokenAuthenticator())
    APIKeyRoutes(pool: identity.pool, logger: identity.logger).register(on: secrets)
    return router
}

func makeGatewayServer(settings: GatewaySettings, rpc: RPCClient, pool: PGPool, logger: Logger) -> some ApplicationProtocol {
    var identity = IdentityService(
        pool: pool, hasher: PasswordHasher(cost: settings.passwordHashCost),
        issuer: TokenIssuer(settings: settings.token, lifetime: settings.accessTokenLifetime),
        sessions: SessionStore(lifetime: Double(settings.refreshTokenLifetime.components.seconds)), logger: logger)
    identity.throttle.perAccount.failures = settings.loginAccountLimit
    identity.throttle.perAddress.failures = settings.loginAddressLimit
    // An upload's body may be as large as the upload limit allows (and its multipart framing).
    let idempotency = IdempotencyMiddleware(pool: pool, store: IdempotencyStore(),
                                            maximumBodyBytes: PaymentRoutes.maximumStatementBytes,
                                            largeBodies: [UploadRoutes.path: settings.uploadMaxBytes + MultipartUpload.overheadBytes])
    if settings.blobDirectory == nil {
        logger.warning("BLOB_DIR is not set: uploads are refused")
    } else if settings.uploadSecrets == nil {
        logger.warning("UPLOAD_ENCRYPTION_KEY is not set: identity documents are refused")
    }
    let rateLimits = RateLimits(callersPerMinute: settings.rateLimitPerMinute,
                                anonymousPerMinute: settings.anonymousRateLimitPerMinute)
    let router = makeGatewayRouter(settings: settings, rpc: rpc, verifier: TokenVerifier(settings: settings.token),
                                   identity: identity, idempotency: idempotency, rateLimits: rateLimits)
    var logger = logger
    logger[metadataKey: "component"] = "http"
    return Application(router: router,
                       configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "convene"),
                       logger: logger)
}
