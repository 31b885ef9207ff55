import Hummingbird
import Logging

/// Identifies the caller of every request by its `Authorization: Bearer <credential>` header and
/// puts the `Principal` in the context: an API key when the credential starts with `cvk_`, an
/// access token (JWT) otherwise. A request without a credential, or with one that is refused,
/// goes on without a principal (public routes do not need one; `TokenAuthenticator` then
/// refuses it on the others), so that the rate limit that follows knows who is calling. The
/// credential itself is never logged.
struct CallerAuthenticator: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let verifier: TokenVerifier
    let apiKeys: APIKeyVerifier

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let credential = TokenAuthenticator.bearerToken(request.headers[.authorization]) else {
            return try await next(request, context)
        }
        var context = context
        if APIKeySecret.isAPIKey(credential) {
            switch try await apiKeys.verify(credential) {
            case .success(let principal):
                context.principal = principal
                context.logger[metadataKey: "apiKeyId"] = "\(principal.apiKey?.id.uuidString.lowercased() ?? "")"
            case .failure(let rejection):
                context.credentialRefused = true
                context.logger.info("API key refused", metadata: ["reason": "\(rejection)"])
            }
        } else {
            do {
                let principal = try await verifier.verify(credential)
                context.principal = principal
                context.logger[metadataKey: "accountId"] = "\(principal.accountId)"
            } catch {
                context.credentialRefused = true
                context.logger.info("access token refused", metadata: ["reason": "\(error)"])
            }
        }
        return try await next(request, context)
    }
}

/// Guards the routes that need a caller: a request `CallerAuthenticator` identified goes on;
/// otherwise 401 with `WWW-Authenticate`, `gateway.invalid_token` when a credential was refused
/// (the same answer for a bad token and for an unknown, revoked or expired API key) and
/// `gateway.token_required` when there was none.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.principal != nil else {
            throw context.credentialRefused ? Problem.invalidToken : Problem.tokenRequired
        }
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer …` header (the scheme is case-insensitive); nil when
    /// there is no such header or it carries another scheme.
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
