import Foundation
import Persistence

/// An organization's API keys; secrets only as their SHA-256.
struct APIKeyStore: Sendable {
    /// What the API shows of a key: never its secret nor its hash.
    struct Key: Codable, Sendable, Equatable {
        var id: String
        var name: String
        var scopes: [String]
        /// `cvk_<public id>`: the start of the secret, to recognise a key.
        var prefix: String
        var createdAt: Date
        var createdBy: String
        var lastUsedAt: Date?
        var expiresAt: Date?
        var revokedAt: Date?
    }

    /// A key found by its public id, to authenticate a request.
    struct Credential: Sendable {
        var id: UUID
        var organizationId: String
        var secretHash: [UInt8]
        var scopes: [String]
        /// Revoked, or past its expiry (by the database's clock).
        var usable: Bool
        var lastUsedAt: Date?
        var now: Date
    }

    static let columns = """
        id, name, array_to_string(scopes, ' ') AS scopes, public_id, created_at, created_by, last_used_at, expires_at, revoked_at
        """

    /// Stores a new key; nil when its public id is taken already (then generate another).
    func create(id: UUID, organizationId: String, secret: APIKeySecret, name: String, scopes: [APIKeyScope],
                createdBy: String, expiresAt: Date?, in tx: Transaction) async throws -> Key? {
        try await tx.query("""
            INSERT INTO api_keys (id, organization_id, public_id, secret_hash, name, scopes, created_by, expires_at)
            VALUES ($1, $2, $3, $4, $5, string_to_array($6, ' '), $7, $8) ON CONFLICT (public_id) DO NOTHING
            RETURNING \(Self.columns)
            """, [id, organizationId, secret.publicId, secret.hash, name, scopes.map(\.rawValue).joined(separator: " "),
                  createdBy, expiresAt]).first.map(Self.key)
    }

    /// The organization's keys, revoked and expired ones included, oldest first.
    func keys(organizationId: String, in tx: Transaction) async throws -> [Key] {
        try await tx.query("SELECT \(Self.columns) FROM api_keys WHERE organization_id = $1 ORDER BY created_at, id",
                           [organizationId]).rows.map(Self.key)
    }

    /// Revokes a key of the organization; false when it has no such key. Revoking twice is fine.
    func revoke(_ id: UUID, organizationId: String, by actor: String, in tx: Transaction) async throws -> Bool {
        let found = try await tx.query("SELECT 1 FROM api_keys WHERE id = $1 AND organization_id = $2 FOR UPDATE",
                                       [id, organizationId]).first != nil
        guard found else { return false }
        try await tx.query("UPDATE api_keys SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL",
                           [id, actor])
        return true
    }

    func credential(publicId: String, in tx: Transaction) async throws -> Credential? {
        try await tx.query("""
            SELECT id, organization_id, secret_hash, array_to_string(scopes, ' ') AS scopes, last_used_at, now() AS now,
                   revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AS usable
            FROM api_keys WHERE public_id = $1
            """, [publicId]).first.map { row in
            Credential(id: try row.uuid("id"), organizationId: try row.string("organization_id"),
                       secretHash: try row.bytes("secret_hash"), scopes: Self.scopes(row["scopes"]), usable: try row.bool("usable"),
                       lastUsedAt: row.isNull("last_used_at") ? nil : try row.date("last_used_at"), now: try row.date("now"))
        }
    }

    func recordUse(_ id: UUID, in tx: Transaction) async throws {
        try await tx.query("UPDATE api_keys SET last_used_at = now() WHERE id = $1", [id])
    }

    private static func scopes(_ text: String?) -> [String] {
        (text ?? "").split(separator: " ").map(String.init)
    }

    private static func key(_ row: PGRow) throws -> Key {
        Key(id: try row.uuid("id").uuidString.lowercased(), name: try row.string("name"), scopes: scopes(row["scopes"]),
            prefix: APIKeySecret.marker + (try row.string("public_id")), createdAt: try row.date("created_at"),
            createdBy: try row.string("created_by"),
            lastUsedAt: row.isNull("last_used_at") ? nil : try row.date("last_used_at"),
            expiresAt: row.isNull("expires_at") ? nil : try row.date("expires_at"),
            revokedAt: row.isNull("revoked_at") ? nil : try row.date("revoked_at"))
    }
}
