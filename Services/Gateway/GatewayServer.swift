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
    // Everything under /v1 needs a valid access token.
    router.group("v1").add(middleware: TokenAuthenticator(verifier: verifier))
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
