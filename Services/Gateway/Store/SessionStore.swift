import Foundation
import Persistence

/// Refresh tokens: one family per sign-in, rotated on every refresh.
struct SessionStore: Sendable {
    var lifetime: TimeInterval

    /// Stores a new token of `family` and answers the token itself (shown to the client once).
    func issue(accountId: UUID, organizationId: String?, family: UUID = UUID(), in tx: Transaction) async throws -> String {
        let token = OpaqueToken.generate(prefix: "crt_")
        try await tx.query("""
            INSERT INTO refresh_tokens (id, family_id, account_id, token_hash, organization_id, expires_at)
            VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
            """, [UUID(), family, accountId, OpaqueToken.hash(token), organizationId, Int(lifetime)])
        return token
    }

    enum Use: Sendable, Equatable {
        /// The token was current: it is now replaced by the answered one.
        case rotated(accountId: UUID, organizationId: String?, next: String)
        /// Unknown, expired or revoked.
        case invalid
        /// Already replaced once: someone holds a copy. The family is revoked.
        case reused
    }

    /// Exchanges a current refresh token for a new one of the same family.
    func rotate(_ token: String, in tx: Transaction) async throws -> Use {
        guard let row = try await tx.query("""
            SELECT id, family_id, account_id, organization_id, replaced_at, revoked_at, expires_at <= now() AS expired
            FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE
            """, [OpaqueToken.hash(token)]).first else { return .invalid }
        let family = try row.uuid("family_id")
        let expired = try row.bool("expired")
        if !row.isNull("revoked_at") || expired { return .invalid }
        if !row.isNull("replaced_at") {
            try await revokeFamily(family, in: tx)
            return .reused
        }
        try await tx.query("UPDATE refresh_tokens SET replaced_at = now() WHERE id = $1", [try row.uuid("id")])
        let accountId = try row.uuid("account_id")
        let organizationId: String? = row["organization_id"]
        let next = try await issue(accountId: accountId, organizationId: organizationId, family: family, in: tx)
        return .rotated(accountId: accountId, organizationId: organizationId, next: next)
    }

    /// Ends the sign-in the token belongs to. Unknown tokens are ignored: logging out twice is fine.
    func revoke(_ token: String, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE refresh_tokens SET revoked_at = now()
            WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL
            """, [OpaqueToken.hash(token)])
    }

    func revokeFamily(_ family: UUID, in tx: Transaction) async throws {
        try await tx.query("UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL", [family])
    }

    /// Every sign-in of the account (after a password change).
    func revokeAll(accountId: UUID, in tx: Transaction) async throws {
        try await tx.query("UPDATE refresh_tokens SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL", [accountId])
    }

    /// Forgets tokens that expired or were revoked more than a day ago.
    func prune(in tx: Transaction) async throws -> Int {
        try await tx.query("""
            DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day' OR revoked_at < now() - interval '1 day'
            """).affectedRows
    }
}
