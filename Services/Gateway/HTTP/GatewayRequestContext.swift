import HTTPTypes
import Hummingbird

/// Every request's context: Hummingbird's core storage plus what the gateway learns on the way in.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The correlation id of everything this request causes: the client's `X-Request-Id` when
    /// it is sane, a new one otherwise. Echoed in the response.
    var requestId = ""
    /// Set by `CallerAuthenticator` when the request carries a valid access token or API key.
    var principal: Principal?
    /// The request carried a credential that was refused (invalid, expired, revoked, unknown):
    /// a route that needs one answers `gateway.invalid_token` rather than `gateway.token_required`.
    var credentialRefused = false
    /// The peer's IP address (for sign-in throttling); a proxy's address when behind one.
    var peerAddress: String?

    init(source: Source) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Request bodies are small JSON documents.
    var maxUploadSize: Int { JSONBody.maximumBytes }

    /// The signed-in account calling. Routes behind `TokenAuthenticator` always have a caller; an
    /// API key is refused here (403 `gateway.account_required`): only the organizer routes that
    /// name the scope they need (`organizerOrganization(_:)`) admit one.
    func requirePrincipal() throws(Problem) -> Principal {
        guard let principal else { throw Problem.tokenRequired }
        guard principal.apiKey == nil else { throw Problem.accountRequired }
        return principal
    }

    /// The caller, an account or an API key, once a route has checked what it may do (for the
    /// actor recorded with a change: an account id or `apikey:<id>`).
    func caller() throws(Problem) -> Principal {
        guard let principal else { throw Problem.tokenRequired }
        return principal
    }
}

extension HTTPField.Name {
    static let requestId = Self("X-Request-Id")!
}
