import Foundation
@testable import Gateway
import Testing

@Suite("API key scopes, secrets and rules")
struct APIKeyRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("the documented scopes parse, repeats collapse, and an unknown scope is named in a per-field error")
    func scopes() throws {
        #expect(APIKeyScope.names == ["conferences:read", "conferences:write", "registrations:read", "registrations:review",
                                      "payments:read", "payments:write", "meetings:read", "meetings:write",
                                      "attendees:read", "attendees:write"])
        #expect(try APIKeyRules.parseScopes(["registrations:read", "conferences:read", "registrations:read"])
                == [.registrationsRead, .conferencesRead])
        let unknown = try #require(throws: APIKeyRules.InvalidScopes.self) {
            try APIKeyRules.parseScopes(["conferences:read", "conferences:delete"])
        }.violation
        #expect(unknown.field == "scopes" && unknown.code == "unknown_scope")
        #expect(unknown.message.contains("conferences:delete") && unknown.message.contains("payments:write"))
        let none = try #require(throws: APIKeyRules.InvalidScopes.self) { try APIKeyRules.parseScopes([]) }.violation
        #expect(none.code == "scopes_required")
        // Scope names are exact: no case folding, no wildcard.
        #expect((try? APIKeyRules.parseScopes(["Conferences:Read"])) == nil)
        #expect((try? APIKeyRules.parseScopes(["*"])) == nil)
    }

    @Test("a new key needs a name of at most 100 characters, a known scope and an expiry in the future, all reported at once")
    func violations() {
        #expect(APIKeyRules.violations(name: "Registrations export", scopes: ["registrations:read"], expiresAt: nil, now: now).isEmpty)
        #expect(APIKeyRules.violations(name: "CRM", scopes: ["payments:read"], expiresAt: now.addingTimeInterval(60), now: now).isEmpty)
        let all = APIKeyRules.violations(name: "  ", scopes: ["payments:refund"], expiresAt: now, now: now)
        #expect(all.map(\.field) == ["name", "scopes", "expiresAt"])
        #expect(all.map(\.code) == ["required", "unknown_scope", "invalid_expiry"])
        let long = APIKeyRules.violations(name: String(repeating: "k", count: 101), scopes: ["payments:read"], expiresAt: nil, now: now)
        #expect(long.map(\.code) == ["too_long"])
    }

    @Test("a generated secret is cvk_, a 12-hex-digit id and 32 random bytes in base64url, and parses back")
    func secretShape() throws {
        let secret = APIKeySecret.generate()
        #expect(secret.value.hasPrefix("cvk_" + secret.publicId + "_"))
        #expect(secret.value.utf8.count == APIKeySecret.length)
        #expect(secret.prefix == "cvk_" + secret.publicId)
        let decoded = try #require(Base64URL.decode(secret.value.dropFirst(4 + 12 + 1)))
        #expect(decoded.count == 32)
        #expect(APIKeySecret.parse(secret.value) == secret)
        #expect(APIKeySecret.generate().value != secret.value, "every key is random")
        #expect(APIKeySecret.generate().publicId != secret.publicId)
    }

    @Test("a credential of another shape is no API key secret", arguments: [
        "cvk_", "cvk_0123456789ab", "cvk_0123456789AB_" + String(repeating: "a", count: 43),
        "cvk_0123456789ab-" + String(repeating: "a", count: 43), "cvk_0123456789ab_" + String(repeating: "a", count: 42),
        "cvk_0123456789ab_" + String(repeating: "a", count: 42) + "=", "cvk_0123456789ab_" + String(repeating: "a", count: 44),
        "eyJhbGciOiJIUzI1NiJ9.e30.x", "CVK_0123456789ab_" + String(repeating: "a", count: 43),
    ])
    func malformed(credential: String) {
        #expect(APIKeySecret.parse(credential) == nil)
    }

    @Test("only the hash of the whole secret matches: another secret of the same id does not")
    func matching() {
        let secret = APIKeySecret.generate()
        #expect(secret.matches(secret.hash))
        #expect(secret.hash.count == 32)
        let other = APIKeySecret(publicId: secret.publicId, value: "cvk_\(secret.publicId)_" + String(repeating: "A", count: 43))
        #expect(!other.matches(secret.hash))
        #expect(!secret.matches(Array(secret.hash.dropLast())))
        #expect(APIKeySecret.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!APIKeySecret.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!APIKeySecret.constantTimeEqual([], [0]))
    }

    @Test("last use is written on first use and then at most once a minute")
    func usage() {
        #expect(APIKeyUsage.shouldRecord(lastUsedAt: nil, now: now))
        #expect(!APIKeyUsage.shouldRecord(lastUsedAt: now.addingTimeInterval(-59), now: now))
        #expect(APIKeyUsage.shouldRecord(lastUsedAt: now.addingTimeInterval(-60), now: now))
    }

    @Test("an API key is an actor of its own, with no role, acting only in its organization")
    func principal() throws {
        let id = UUID()
        let key = Principal(apiKey: id, organizationId: "org-1", scopes: [.registrationsRead])
        #expect(key.accountId == "apikey:" + id.uuidString.lowercased())
        #expect(key.callerKey == key.accountId)
        #expect(key.roles.isEmpty)
        let user = Principal(accountId: "a", organizationId: "org-1", roles: [.orgAdmin], email: nil, locale: nil)
        #expect(user.callerKey == "account:a")
        #expect(user.apiKey == nil)
    }
}
