import Foundation
import Persistence

/// Checks an API key's secret against the stored hash and says which key it is. A revoked,
/// expired or unknown key is refused like a wrong secret; the reason is for logs only.
struct APIKeyVerifier: Sendable {
    enum Rejection: Error, Equatable, CustomStringConvertible {
        case malformed
        case unknown
        case secretMismatch
        case revokedOrExpired

        var description: String {
            switch self {
            case .malformed: "malformed API key"
            case .unknown: "no such API key"
            case .secretMismatch: "API key secret does not match"
            case .revokedOrExpired: "API key revoked or expired"
            }
        }
    }

    let pool: PGPool
    let store = APIKeyStore()

    /// The key's principal, or why it is refused. Database failures are thrown.
    func verify(_ credential: String) async throws -> Result<Principal, Rejection> {
        guard let secret = APIKeySecret.parse(credential) else { return .failure(.malformed) }
        return try await pool.withTransaction { tx -> Result<Principal, Rejection> in
            guard let stored = try await store.credential(publicId: secret.publicId, in: tx) else { return .failure(.unknown) }
            guard secret.matches(stored.secretHash) else { return .failure(.secretMismatch) }
            guard stored.usable else { return .failure(.revokedOrExpired) }
            if APIKeyUsage.shouldRecord(lastUsedAt: stored.lastUsedAt, now: stored.now) {
                try await store.recordUse(stored.id, in: tx)
            }
            // Scopes this build no longer knows grant nothing.
            let scopes = Set(stored.scopes.compactMap(APIKeyScope.init(rawValue:)))
            return .success(Principal(apiKey: stored.id, organizationId: stored.organizationId, scopes: scopes))
        }
    }
}
