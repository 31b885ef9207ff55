import Foundation
import Hummingbird
import Logging
import Persistence

/// An organization's API keys, for other systems: created, listed and revoked by an
/// administrator of the organization (or a system admin), never by a key. The secret is answered
/// once, when the key is created; the gateway keeps only its SHA-256.
struct APIKeyRoutes {
    let pool: PGPool
    let logger: Logger
    let store = APIKeyStore()
    let organizations = OrganizationStore()

    struct CreateBody: JSONRequestBody {
        var name: String
        var scopes: [String]
        var expiresAt: Date?
        enum CodingKeys: String, CodingKey, CaseIterable { case name, scopes, expiresAt }
        typealias Fields = CodingKeys
    }

    /// The answer to creation: the key and, this once, its secret.
    struct Created: Codable, Sendable {
        var id: String
        var name: String
        var scopes: [String]
        var prefix: String
        var createdAt: Date
        var createdBy: String
        var expiresAt: Date?
        /// `cvk_…`: shown only here.
        var secret: String

        init(_ key: APIKeyStore.Key, secret: String) {
            id = key.id
            name = key.name
            scopes = key.scopes
            prefix = key.prefix
            createdAt = key.createdAt
            createdBy = key.createdBy
            expiresAt = key.expiresAt
            self.secret = secret
        }
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // POST /v1/organizations/{org}/api-keys {name, scopes, expiresAt?} → 201 with the secret
        routes.post("organizations/:org/api-keys") { request, context -> Response in
            let organizationId = try context.administeredOrganization()
            let principal = try context.requirePrincipal()
            let body = try await JSONBody.decode(CreateBody.self, from: request)
            let violations = APIKeyRules.violations(name: body.name, scopes: body.scopes, expiresAt: body.expiresAt, now: Date())
            guard violations.isEmpty, let scopes = try? APIKeyRules.parseScopes(body.scopes) else {
                throw Problem.invalidFields(violations)
            }
            let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
            let (key, secret) = try await pool.withTransaction { tx -> (APIKeyStore.Key, APIKeySecret) in
                guard try await organizations.organization(organizationId, in: tx) != nil else {
                    throw Problem.notFound("no such organization")
                }
                // 48 random bits of public id: a collision is rare, and then another is drawn.
                for _ in 0..<5 {
                    let secret = APIKeySecret.generate()
                    if let key = try await store.create(id: UUID(), organizationId: organizationId, secret: secret, name: name,
                                                        scopes: scopes.sorted(), createdBy: principal.accountId,
                                                        expiresAt: body.expiresAt, in: tx) {
                        return (key, secret)
                    }
                }
                throw Problem.internalError
            }
            logger.info("API key created", metadata: [
                "organizationId": "\(organizationId)", "apiKeyId": "\(key.id)", "prefix": "\(key.prefix)",
                "scopes": "\(key.scopes.joined(separator: " "))", "by": "\(principal.accountId)",
            ])
            return try JSONResponse.make(Created(key, secret: secret.value), status: .created, headers: [
                .location: "/v1/organizations/\(organizationId.pathEscaped)/api-keys/\(key.id)"])
        }
        // GET /v1/organizations/{org}/api-keys → {"items": [APIKey]} (never a secret nor its hash)
        routes.get("organizations/:org/api-keys") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let keys = try await pool.withTransaction { tx -> [APIKeyStore.Key] in
                guard try await organizations.organization(organizationId, in: tx) != nil else {
                    throw Problem.notFound("no such organization")
                }
                return try await store.keys(organizationId: organizationId, in: tx)
            }
            return try JSONResponse.make(ItemList(items: keys))
        }
        // DELETE /v1/organizations/{org}/api-keys/{id} → 204; the key is refused from the next request on
        routes.delete("organizations/:org/api-keys/:id") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let principal = try context.requirePrincipal()
            let id = try context.resourceId("id", kind: "API key")
            let found = try await pool.withTransaction { tx in
                try await store.revoke(UUID(uuidString: id)!, organizationId: organizationId, by: principal.accountId, in: tx)
            }
            guard found else { throw Problem.notFound("no such API key") }
            logger.info("API key revoked", metadata: ["organizationId": "\(organizationId)", "apiKeyId": "\(id)",
                                                      "by": "\(principal.accountId)"])
            return JSONResponse.noContent()
        }
    }
}
