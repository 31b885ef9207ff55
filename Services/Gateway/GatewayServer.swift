import Hummingbird
import Logging
import Messaging

/// The gateway's HTTP API: `/health` for anyone, everything under `/v1` for a valid access token.
/// Every answer carries `X-Request-Id`; every error is `application/problem+json`.
func makeGatewayRouter(settings: GatewaySettings, rpc: RPCClient, verifier: TokenVerifier) -> Router<GatewayRequestContext> {
    let router = Router(context: GatewayRequestContext.self)
    // Router middleware comes first: it wraps the routes added after it, and unknown paths too.
    router.add(middleware: ProblemMiddleware())
    HealthRoute(rpc: rpc, timeout: settings.healthTimeout).register(on: router)

    let service = ServiceClient(rpc: rpc, timeout: settings.requestTimeout)
    // Everything under /v1 needs a valid access token.
    let v1 = router.group("v1").add(middleware: TokenAuthenticator(verifier: verifier))
    InboxRoutes(service: service).register(on: v1)
    PreferenceRoutes(service: service).register(on: v1)
    WebhookRoutes(service: service).register(on: v1)
    RobotRoutes(service: service).register(on: v1)
    RuleRoutes(service: service).register(on: v1)
    return router
}

func makeGatewayServer(settings: GatewaySettings, rpc: RPCClient, logger: Logger) -> some ApplicationProtocol {
    let router = makeGatewayRouter(settings: settings, rpc: rpc, verifier: TokenVerifier(settings: settings.token))
    var logger = logger
    logger[metadataKey: "component"] = "http"
    return Application(router: router,
                       configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "convene"),
                       logger: logger)
}
