import Hummingbird
import Logging

/// Authenticates a request by its `Authorization: Bearer <token>` header and puts the `Principal`
/// in the context; a missing or invalid token ends the request with 401 and `WWW-Authenticate`.
/// The token itself is never logged.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let verifier: TokenVerifier

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = Self.bearerToken(request.headers[.authorization]) else { throw Problem.tokenRequired }
        let principal: Principal
        do {
            principal = try await verifier.verify(token)
        } catch {
            context.logger.info("access token refused", metadata: ["reason": "\(error)"])
            throw Problem.invalidToken
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "accountId"] = "\(principal.accountId)"
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
