import HTTPTypes
import Hummingbird

/// Every request's context: Hummingbird's core storage plus what the gateway learns on the way in.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The correlation id of everything this request causes: the client's `X-Request-Id` when
    /// it is sane, a new one otherwise. Echoed in the response.
    var requestId = ""
    /// Set by `TokenAuthenticator` for the routes that require a token.
    var principal: Principal?
    /// The peer's IP address (for sign-in throttling); a proxy's address when behind one.
    var peerAddress: String?

    init(source: Source) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Request bodies are small JSON documents.
    var maxUploadSize: Int { JSONBody.maximumBytes }

    /// The verified caller; routes behind `TokenAuthenticator` always have one.
    func requirePrincipal() throws(Problem) -> Principal {
        guard let principal else { throw Problem.tokenRequired }
        return principal
    }
}

extension HTTPField.Name {
    static let requestId = Self("X-Request-Id")!
}
