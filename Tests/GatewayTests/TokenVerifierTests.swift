import Foundation
@testable import Gateway
import JWTKit
import Testing

@Suite("Access token verification")
struct TokenVerifierTests {
    // 64 bytes, so that the same key can also sign HS384 and HS512 tokens for the refusal tests.
    static let secret = Array("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".utf8)
    static let settings = TokenSettings(secret: secret, issuer: "convene", audience: "convene-api")
    let verifier = TokenVerifier(settings: Self.settings)
    let issuer = TokenIssuer(settings: Self.settings)

    func claims(exp: Date = Date().addingTimeInterval(600)) -> AccessClaims {
        AccessClaims(sub: "acct-1", org: "org-1", roles: ["user"], email: nil, locale: nil, iss: "convene",
                     aud: "convene-api", exp: ExpirationClaim(value: exp), iat: nil, nbf: nil)
    }

    func rejection(of token: String) async -> TokenVerifier.Rejection? {
        do throws(TokenVerifier.Rejection) {
            _ = try await verifier.verify(token)
            return nil
        } catch {
            return error
        }
    }

    /// A token with the given header and payload objects and signature bytes, put together by hand.
    static func assemble(header: String, payload: [UInt8], signature: [UInt8]) -> String {
        [Base64URL.encode(Array(header.utf8)), Base64URL.encode(payload), Base64URL.encode(signature)].joined(separator: ".")
    }

    static func payload(_ claims: AccessClaims) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return Array(try encoder.encode(claims))
    }

    @Test("a token the gateway issued is accepted and yields its claims as the principal")
    func validToken() async throws {
        let token = try await issuer.issue(accountId: "acct-42", organizationId: "org-7", roles: [.orgAdmin, .user],
                                           email: "ada@example.com", locale: "zh-CN")
        let principal = try await verifier.verify(token)
        #expect(principal == Principal(accountId: "acct-42", organizationId: "org-7", roles: [.orgAdmin, .user],
                                       email: "ada@example.com", locale: "zh-CN"))
    }

    @Test("role names the gateway does not know grant nothing and are dropped")
    func unknownRoles() async throws {
        var claims = claims()
        claims.roles = ["user", "superuser"]
        let principal = try await verifier.verify(try await issuer.issue(claims))
        #expect(principal.roles == Set([Principal.Role.user]))
    }

    @Test("an expired token is refused")
    func expired() async throws {
        let token = try await issuer.issue(accountId: "acct-1", organizationId: "org-1", roles: [.user],
                                           lifetime: .seconds(60), now: Date().addingTimeInterval(-3600))
        #expect(await rejection(of: token) == .expired)
    }

    @Test("a token without exp is refused")
    func withoutExpiry() async throws {
        struct NoExpiry: JWTPayload {
            var sub: SubjectClaim, org: String, roles: [String], iss: IssuerClaim, aud: AudienceClaim
            func verify(using algorithm: some JWTAlgorithm) async throws {}
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        let token = try await keys.sign(NoExpiry(sub: "acct-1", org: "org-1", roles: ["user"], iss: "convene", aud: "convene-api"))
        #expect(await rejection(of: token) == .malformed)
    }

    @Test("a token not valid before a later time is refused until then")
    func notBefore() async throws {
        var claims = claims()
        claims.nbf = NotBeforeClaim(value: Date().addingTimeInterval(300))
        #expect(await rejection(of: try await issuer.issue(claims)) == .notYetValid)
    }

    @Test("a token from another issuer is refused")
    func wrongIssuer() async throws {
        var settings = Self.settings
        settings.issuer = "someone-else"
        let token = try await TokenIssuer(settings: settings).issue(accountId: "acct-1", organizationId: "org-1", roles: [.user])
        #expect(await rejection(of: token) == .issuer)
    }

    @Test("a token for another audience is refused; one that also names ours is accepted")
    func wrongAudience() async throws {
        var settings = Self.settings
        settings.audience = "another-api"
        let token = try await TokenIssuer(settings: settings).issue(accountId: "acct-1", organizationId: "org-1", roles: [.user])
        #expect(await rejection(of: token) == .audience)

        var claims = claims()
        claims.aud = AudienceClaim(value: ["another-api", "convene-api"])
        _ = try await verifier.verify(try await issuer.issue(claims))
    }

    @Test("a token signed with another key is refused")
    func wrongKey() async throws {
        var settings = Self.settings
        settings.secret = Array("another key, also long enough for HS256 signing!!".utf8)
        let token = try await TokenIssuer(settings: settings).issue(accountId: "acct-1", organizationId: "org-1", roles: [.user])
        #expect(await rejection(of: token) == .signature)
    }

    @Test("a token whose payload was changed after signing is refused")
    func tampered() async throws {
        let token = try await issuer.issue(accountId: "acct-1", organizationId: "org-1", roles: [.user])
        var elevated = claims()
        elevated.roles = ["system_admin"]
        let parts = token.split(separator: ".")
        let forged = [String(parts[0]), Base64URL.encode(try Self.payload(elevated)), String(parts[2])].joined(separator: ".")
        #expect(await rejection(of: forged) == .signature)
    }

    @Test("a token with alg none is refused, with or without a signature")
    func algNone() async throws {
        let payload = try Self.payload(claims())
        let unsigned = Self.assemble(header: #"{"alg":"none","typ":"JWT"}"#, payload: payload, signature: [])
        #expect(await rejection(of: unsigned) == .algorithm("none"))

        // Signed correctly with the key, but its header asks not to be checked: still refused.
        let input = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(payload)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        let signature = try await keys.getKey().sign(Array(input.utf8))
        #expect(await rejection(of: input + "." + Base64URL.encode(signature)) == .algorithm("none"))

        let noAlg = Self.assemble(header: #"{"typ":"JWT"}"#, payload: payload, signature: [])
        #expect(await rejection(of: noAlg) == .algorithm("(none given)"))
    }

    @Test("a token signed with HS384 or HS512, even with the right key, is refused")
    func otherAlgorithms() async throws {
        for (digest, name) in [(DigestAlgorithm.sha384, "HS384"), (.sha512, "HS512")] {
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: digest)
            let token = try await keys.sign(claims())
            #expect(await rejection(of: token) == .algorithm(name))
        }
    }

    @Test("garbage, a header that is not JSON and an oversized token are refused as malformed")
    func malformed() async throws {
        #expect(await rejection(of: "") == .malformed)
        #expect(await rejection(of: "not-a-token") == .malformed)
        #expect(await rejection(of: "a.b.c") == .malformed)
        #expect(await rejection(of: "e30.e30") == .malformed)
        let valid = try await issuer.issue(accountId: "acct-1", organizationId: "org-1", roles: [.user])
        #expect(await rejection(of: valid + ".extra") == .malformed)
        #expect(await rejection(of: String(repeating: "a", count: TokenVerifier.maximumLength + 1)) == .malformed)
    }

    @Test("a token with an empty subject or organization is refused; one without an organization is accepted")
    func emptyIdentity() async throws {
        var claims = claims()
        claims.sub = ""
        #expect(await rejection(of: try await issuer.issue(claims)) == .claims("sub must be 1 to 200 characters"))
        claims = self.claims()
        claims.org = ""
        #expect(await rejection(of: try await issuer.issue(claims)) == .claims("org must be 1 to 200 characters"))
        claims.org = nil
        let principal = try await verifier.verify(try await issuer.issue(claims))
        #expect(principal.organizationId == nil, "no organization: a participant's token")
    }

    @Test("the bearer token is read from the Authorization header, whatever the scheme's case")
    func bearerHeader() {
        #expect(TokenAuthenticator.bearerToken("Bearer abc.def.ghi") == "abc.def.ghi")
        #expect(TokenAuthenticator.bearerToken("bearer   abc") == "abc")
        #expect(TokenAuthenticator.bearerToken("Basic dXNlcjpwYXNz") == nil)
        #expect(TokenAuthenticator.bearerToken("Bearer") == nil)
        #expect(TokenAuthenticator.bearerToken("Bearer   ") == nil)
        #expect(TokenAuthenticator.bearerToken(nil) == nil)
    }

    @Test("the secret must be set and at least 32 bytes; issuer and audience have defaults")
    func settingsFromEnvironment() throws {
        let base = ["GATEWAY_PORT": "0"]
        #expect(throws: (any Error).self) { try GatewaySettings(base) }
        #expect(throws: (any Error).self) { try GatewaySettings(base.merging(["GATEWAY_TOKEN_SECRET": "short"]) { $1 }) }
        let secret = String(repeating: "k", count: 32)
        let settings = try GatewaySettings(base.merging(["GATEWAY_TOKEN_SECRET": secret]) { $1 })
        #expect(settings.token.secret == Array(secret.utf8))
        #expect(settings.token.issuer == "convene")
        #expect(settings.token.audience == "convene-api")
        do {
            _ = try GatewaySettings(base.merging(["GATEWAY_TOKEN_SECRET": "short-secret-value"]) { $1 })
        } catch {
            #expect(!"\(error)".contains("short-secret-value"), "the secret does not appear in the message")
        }
    }
}
