import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Persistence
import Testing
import TestSupport

extension EndToEnd {
/// API keys for other systems, through the running gateway: an organization's administrator
/// creates, lists and revokes them; a key calls the organizer routes its scopes allow, in its own
/// organization only, and nothing for signed-in accounts.
@Suite("API keys, end to end", .serialized)
struct APIKeyTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    struct Created: Decodable {
        var id: String
        var name: String
        var scopes: [String]
        var prefix: String
        var createdBy: String
        var expiresAt: Date?
        var secret: String
    }

    struct Listed: Codable, Sendable {
        var id: String
        var scopes: [String]
        var prefix: String
        var createdBy: String
        var lastUsedAt: Date?
        var revokedAt: Date?
    }

    /// A new organization (created by a system admin, as in production) and a token of its administrator.
    func organization() async throws -> (id: String, adminId: String, admin: String) {
        let stack = try stack
        let id = "org-" + UUID().uuidString.prefix(8).lowercased()
        let root = try await stack.token(account: UUID().uuidString.lowercased(), organization: id, roles: [.systemAdmin])
        let created = try await stack.call(.post, "/v1/organizations", token: root, body: AccountTests.json(["id": id, "name": "API 测试"]))
        #expect(created.status == 201, "\(created.bodyString)")
        let adminId = UUID().uuidString.lowercased()
        return (id, adminId, try await stack.token(account: adminId, organization: id, roles: [.user, .orgAdmin]))
    }

    func createKey(_ organization: String, token: String, scopes: [String], expiresAt: Date? = nil) async throws -> Created {
        var body: [String: Any] = ["name": "CRM export", "scopes": scopes]
        if let expiresAt { body["expiresAt"] = ISO8601.format(expiresAt) }
        let response = try await stack.call(.post, "/v1/organizations/\(organization)/api-keys", token: token, body: AccountTests.json(body))
        #expect(response.status == 201, "\(response.bodyString)")
        return try response.decode(Created.self)
    }

    @Test("an administrator creates a key whose secret is answered once; the list shows its prefix and last use, never the secret")
    func createAndList() async throws {
        let stack = try stack
        let org = try await organization()
        let key = try await createKey(org.id, token: org.admin, scopes: ["registrations:read", "conferences:read", "conferences:read"])
        #expect(key.secret.hasPrefix(key.prefix + "_") && key.prefix.hasPrefix("cvk_"))
        #expect(key.secret.utf8.count == APIKeySecret.length)
        #expect(key.scopes == ["conferences:read", "registrations:read"], "sorted, without repeats")
        #expect(key.createdBy == org.adminId)

        let listed = try await stack.call(.get, "/v1/organizations/\(org.id)/api-keys", token: org.admin)
        #expect(listed.status == 200)
        #expect(!listed.bodyString.contains(key.secret) && !listed.bodyString.contains("secret") && !listed.bodyString.contains("hash"))
        let items = try listed.decode(ItemList<Listed>.self).items
        #expect(items.map(\.id) == [key.id] && items[0].prefix == key.prefix && items[0].lastUsedAt == nil)

        // A use is recorded.
        #expect(try await stack.call(.get, "/v1/organizations/\(org.id)/conferences", token: key.secret).status == 200)
        let used = try await stack.call(.get, "/v1/organizations/\(org.id)/api-keys", token: org.admin).decode(ItemList<Listed>.self)
        #expect(used.items.first?.lastUsedAt != nil)

        // The secret is kept as a hash only: another key's list never shows it either, and a retry
        // with an Idempotency-Key creates another key rather than replaying (and storing) the secret.
        let headers = [(name: "Idempotency-Key", value: UUID().uuidString)]
        let body = AccountTests.json(["name": "twice", "scopes": ["payments:read"]])
        let first = try await stack.call(.post, "/v1/organizations/\(org.id)/api-keys", token: org.admin, body: body, headers: headers)
        let second = try await stack.call(.post, "/v1/organizations/\(org.id)/api-keys", token: org.admin, body: body, headers: headers)
        #expect(first.status == 201 && second.status == 201 && second.header(named: "Idempotent-Replayed") == nil)
        #expect(try first.decode(Created.self).secret != second.decode(Created.self).secret)
    }

    @Test("a key reads within its scopes, gets 403 insufficient_scope outside them and account_required on account and administration routes")
    func scopes() async throws {
        let stack = try stack
        let org = try await organization()
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), organization: org.id, roles: [.user, .meetingAdmin])
        let base = "/v1/organizations/\(org.id)"
        let conference = try await stack.call(.post, "\(base)/conferences", token: organizer,
                                              body: AccountTests.json(ConferenceTests.details(title: "API key conference")))
        #expect(conference.status == 201)
        let conferenceId = try conference.decode(ConferenceAnswer.self).id
        let key = try await createKey(org.id, token: org.admin, scopes: ["conferences:read", "registrations:read"])

        let read = try await stack.call(.get, "\(base)/conferences/\(conferenceId)", token: key.secret)
        #expect(read.status == 200, "\(read.bodyString)")
        #expect(try read.decode(ConferenceAnswer.self).details.title == "API key conference")
        #expect(read.header(named: "RateLimit-Limit") != nil && read.header(named: "RateLimit-Remaining") != nil)
        let registrations = try await stack.call(.get, "\(base)/conferences/\(conferenceId)/registrations", token: key.secret)
        #expect(registrations.status == 200, "\(registrations.bodyString)")

        for (method, path, body) in [
            (HTTPMethod.post, "\(base)/conferences", AccountTests.json(ConferenceTests.details())),
            (.post, "\(base)/conferences/\(conferenceId)/publish", "{}"),
            (.post, "\(base)/registrations/\(UUID().uuidString.lowercased())/review", #"{"decision":"approve"}"#),
            (.get, "\(base)/registrations/\(UUID().uuidString.lowercased())/order", nil),
            (.post, "\(base)/payments/bank-transfers", #"{"reference":"X","amount":{"amountMinor":1,"currency":"CNY"}}"#),
        ] {
            let refused = try await stack.call(method, path, token: key.secret, body: body)
            #expect(refused.status == 403 && refused.problem?.code == "gateway.insufficient_scope", "\(method) \(path): \(refused.bodyString)")
        }
        #expect(try await stack.call(.get, "\(base)/conferences/\(conferenceId)", token: key.secret).status == 200,
                "nothing outside the scopes happened to the conference")

        for (method, path, body) in [
            (HTTPMethod.get, "/v1/me", nil as String?), (.get, "/v1/me/inbox", nil), (.get, "/v1/me/registrations", nil),
            (.put, "/v1/me/password", #"{"currentPassword":"a","newPassword":"b"}"#),
            (.get, "\(base)/api-keys", nil), (.post, "\(base)/api-keys", #"{"name":"more","scopes":["payments:write"]}"#),
            (.delete, "\(base)/api-keys/\(key.id)", nil), (.get, "\(base)/members", nil), (.get, "\(base)/webhooks", nil),
            (.post, "\(base)/role-requests", #"{"role":"org_admin"}"#), (.get, base, nil),
            (.post, "/v1/conferences/\(conferenceId)/registrations", #"{"category":"regular","answers":{}}"#),
        ] {
            let refused = try await stack.call(method, path, token: key.secret, body: body)
            #expect(refused.status == 403 && refused.problem?.code == "gateway.account_required", "\(method) \(path): \(refused.bodyString)")
        }
        // The key is untouched by its own attempt to revoke itself.
        #expect(try await stack.call(.get, "\(base)/conferences", token: key.secret).status == 200)
    }

    @Test("a key acts only in its own organization: another organization's routes and resources answer 404")
    func ownOrganizationOnly() async throws {
        let stack = try stack
        let mine = try await organization()
        let other = try await organization()
        let otherOrganizer = try await stack.token(account: UUID().uuidString.lowercased(), organization: other.id, roles: [.user, .meetingAdmin])
        let theirs = try await stack.call(.post, "/v1/organizations/\(other.id)/conferences", token: otherOrganizer,
                                          body: AccountTests.json(ConferenceTests.details()))
        let theirId = try theirs.decode(ConferenceAnswer.self).id
        let key = try await createKey(mine.id, token: mine.admin, scopes: APIKeyScope.names)

        let viaTheirPath = try await stack.call(.get, "/v1/organizations/\(other.id)/conferences/\(theirId)", token: key.secret)
        #expect(viaTheirPath.status == 404 && viaTheirPath.problem?.code == "gateway.not_found")
        let viaMyPath = try await stack.call(.get, "/v1/organizations/\(mine.id)/conferences/\(theirId)", token: key.secret)
        #expect(viaMyPath.status == 404, "another organization's conference is not found in mine: \(viaMyPath.bodyString)")
        let list = try await stack.call(.get, "/v1/organizations/\(other.id)/conferences", token: key.secret)
        #expect(list.status == 404)
    }

    @Test("only an administrator of the organization manages its keys; bad fields are refused with per-field errors")
    func management() async throws {
        let stack = try stack
        let org = try await organization()
        let path = "/v1/organizations/\(org.id)/api-keys"
        let body = AccountTests.json(["name": "CRM", "scopes": ["conferences:read"]])
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), organization: org.id, roles: [.user, .meetingAdmin])
        let notAdmin = try await stack.call(.post, path, token: organizer, body: body)
        #expect(notAdmin.status == 403 && notAdmin.problem?.code == "gateway.forbidden")
        #expect(try await stack.call(.get, path, token: organizer).status == 403)
        let stranger = try await stack.token(account: UUID().uuidString.lowercased(), organization: "org-elsewhere", roles: [.user, .orgAdmin])
        #expect(try await stack.call(.post, path, token: stranger, body: body).status == 404)
        #expect(try await stack.call(.post, path, body: body).status == 401)

        let invalid = try await stack.call(.post, path, token: org.admin, body: AccountTests.json([
            "name": "", "scopes": ["conferences:read", "conferences:delete"], "expiresAt": "2020-01-01T00:00:00Z"]))
        #expect(invalid.status == 422 && invalid.problem?.code == "gateway.invalid_fields")
        #expect(invalid.problem?.errors?.map(\.field) == ["name", "scopes", "expiresAt"])
        #expect(invalid.problem?.errors?.first { $0.field == "scopes" }?.code == "unknown_scope")
        let unknownField = try await stack.call(.post, path, token: org.admin, body: AccountTests.json([
            "name": "CRM", "scopes": ["conferences:read"], "organizationId": "org-elsewhere"]))
        #expect(unknownField.status == 422 && unknownField.problem?.code == "gateway.unknown_field")
        let listed = try await stack.call(.get, path, token: org.admin).decode(ItemList<Listed>.self)
        #expect(listed.items.isEmpty, "nothing was created by the refused requests")

        let missing = try await stack.call(.delete, "\(path)/\(UUID().uuidString.lowercased())", token: org.admin)
        #expect(missing.status == 404)
        let unknownOrganization = "org-" + UUID().uuidString.prefix(8).lowercased()
        let systemAdmin = try await stack.token(account: UUID().uuidString.lowercased(), organization: nil, roles: [.systemAdmin])
        #expect(try await stack.call(.post, "/v1/organizations/\(unknownOrganization)/api-keys", token: systemAdmin, body: body).status == 404)
    }

    @Test("what a key does is recorded as the key's, never as a person's: a review by a key names apikey:<id> as the reviewer")
    func actor() async throws {
        let stack = try stack
        let org = try await organization()
        let flow = RegistrationFlowTests()
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), organization: org.id, roles: [.user, .meetingAdmin])
        let conference = try await flow.conference(organizer: organizer, organization: org.id, settings: [
            "form": RegistrationFlowTests.form, "categories": [RegistrationFlowTests.free("regular")], "reviewRequired": true,
            "waitlistEnabled": false, "paymentMethods": [],
        ])
        let pending = try flow.view(try await flow.submit(try await flow.participant("k"), to: conference))
        #expect(pending.status == "pending_review")
        let key = try await createKey(org.id, token: org.admin, scopes: ["registrations:read", "registrations:review"])
        let review = "/v1/organizations/\(org.id)/registrations/\(pending.id)/review"
        let approved = try await stack.call(.post, review, token: key.secret, body: AccountTests.json(["decision": "approve"]))
        #expect(try flow.view(approved).status == "confirmed")

        let pool = PGPool(.init(url: try TestStack.environment("REGISTRATION_DATABASE_URL"), schema: "registration", size: 1),
                          logger: TestStack.logger)
        let id = try #require(UUID(uuidString: pending.id))
        let reviewer = try await pool.withTransaction { tx in
            try await tx.query("SELECT review->>'by' AS reviewer FROM registrations WHERE id = $1", [id]).first?["reviewer"]
        }
        await pool.close()
        #expect(reviewer == "apikey:" + key.id)
    }

    @Test("a revoked or expired key is refused at once with the same 401 as an unknown key or a bad token; revoking twice is fine")
    func revocation() async throws {
        let stack = try stack
        let org = try await organization()
        let base = "/v1/organizations/\(org.id)"
        let key = try await createKey(org.id, token: org.admin, scopes: ["conferences:read"])
        // Long enough for the calls before it to finish on a loaded machine; waited out below.
        let expiry = Date().addingTimeInterval(15)
        let soon = try await createKey(org.id, token: org.admin, scopes: ["conferences:read"], expiresAt: expiry)
        #expect(try await stack.call(.get, "\(base)/conferences", token: key.secret).status == 200)
        #expect(try await stack.call(.get, "\(base)/conferences", token: soon.secret).status == 200)

        #expect(try await stack.call(.delete, "\(base)/api-keys/\(key.id)", token: org.admin).status == 204)
        let revoked = try await stack.call(.get, "\(base)/conferences", token: key.secret)
        #expect(revoked.status == 401 && revoked.problem?.code == "gateway.invalid_token")
        #expect(revoked.header(named: "WWW-Authenticate")?.contains("invalid_token") == true)
        #expect(try await stack.call(.delete, "\(base)/api-keys/\(key.id)", token: org.admin).status == 204)
        let listed = try await stack.call(.get, "\(base)/api-keys", token: org.admin).decode(ItemList<Listed>.self)
        #expect(listed.items.first { $0.id == key.id }?.revokedAt != nil)

        // Same answer for a key that never existed, a right id with a wrong secret, and a bad JWT.
        let unknown = try await stack.call(.get, "\(base)/conferences", token: APIKeySecret.generate().value)
        let wrongSecret = try await stack.call(.get, "\(base)/conferences",
                                               token: soon.prefix + "_" + String(repeating: "A", count: APIKeySecret.secretLength))
        let badToken = try await stack.call(.get, "\(base)/conferences", token: "not.a.token")
        for answer in [unknown, wrongSecret, badToken] {
            #expect(answer.status == 401 && answer.problem == revoked.problem, "\(answer.bodyString)")
        }

        try await Task.sleep(for: .seconds(max(0, expiry.timeIntervalSinceNow) + 1))
        let expired = try await stack.call(.get, "\(base)/conferences", token: soon.secret)
        #expect(expired.status == 401 && expired.problem == revoked.problem)
    }
}
}
