import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Testing
import TestSupport

extension EndToEnd {
/// Accounts and sign-in through the running gateway, over the test stack's database.
@Suite("Accounts, sign-in and Idempotency-Key, end to end", .serialized)
struct AccountTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    static func email() -> String { "user-\(UUID().uuidString.prefix(8).lowercased())@example.org" }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    func signUp(_ email: String, password: String = "correct horse battery") async throws -> HTTPResponse {
        try await stack.call(.post, "/v1/accounts", body: Self.json([
            "email": email, "password": password, "name": "张伟", "affiliation": "清华大学", "locale": "zh-CN",
        ]))
    }

    func login(_ email: String, password: String = "correct horse battery") async throws -> HTTPResponse {
        try await stack.call(.post, "/v1/auth/login", body: Self.json(["email": email, "password": password]))
    }

    @Test("a participant signs up, signs in, reads their account, and the password is never echoed")
    func signUpAndSignIn() async throws {
        let stack = try stack
        let email = Self.email()
        let created = try await signUp(email)
        #expect(created.status == 201)
        let account = try created.decode(AccountView.self)
        #expect(account.email == email && account.name == "张伟" && account.affiliation == "清华大学")
        #expect(!String(decoding: created.body, as: UTF8.self).contains("correct horse"))

        let again = try await signUp(email.uppercased())
        #expect(again.status == 409, "the same address in other case is the same account")
        #expect(again.problem?.code == "gateway.account_exists")

        let signedIn = try await login(email.uppercased())
        #expect(signedIn.status == 200)
        let tokens = try signedIn.decode(TokenPair.self)
        #expect(tokens.tokenType == "Bearer" && tokens.refreshToken.hasPrefix("crt_"))
        #expect(tokens.roles == ["participant"] && tokens.organizationId == nil)
        #expect(tokens.expiresIn == 900)

        let me = try await stack.call(.get, "/v1/me", token: tokens.accessToken)
        #expect(me.status == 200)
        #expect(try me.decode(AccountView.self).id == account.id)
    }

    @Test("sign-up reports every invalid field at once and stores nothing")
    func signUpValidation() async throws {
        let stack = try stack
        let bad = try await stack.call(.post, "/v1/accounts", body: Self.json([
            "email": "not-an-address", "password": "short", "name": " ", "phone": "call me", "locale": "fr",
        ]))
        #expect(bad.status == 422)
        #expect(bad.problem?.code == "gateway.invalid_fields")
        let fields = try #require(bad.problem?.errors).map(\.field).sorted()
        #expect(fields == ["email", "locale", "name", "password", "phone"])

        let extra = try await stack.call(.post, "/v1/accounts", body: Self.json([
            "email": Self.email(), "password": "long enough password", "name": "A", "roles": ["system_admin"],
        ]))
        #expect(extra.status == 422, "no mass assignment: undocumented fields are refused")
        #expect(extra.problem?.code == "gateway.unknown_field")

        let long = try await stack.call(.post, "/v1/accounts", body: Self.json([
            "email": Self.email(), "password": String(repeating: "密", count: 25), "name": "A",
        ]))
        #expect(long.status == 422, "75 bytes: bcrypt would silently ignore the rest")
        #expect(long.problem?.errors?.first?.code == "password_too_long")
    }

    @Test("a wrong password and an unknown address get the same 401; five failures lock the account with 429")
    func throttling() async throws {
        let email = Self.email()
        #expect(try await signUp(email).status == 201)
        let unknown = try await login(Self.email())
        let wrong = try await login(email, password: "wrong password 1")
        #expect(unknown.status == 401 && wrong.status == 401)
        #expect(unknown.problem?.code == "gateway.invalid_credentials" && wrong.problem == unknown.problem)

        for attempt in 2...5 {
            let failed = try await login(email, password: "wrong password \(attempt)")
            #expect(failed.status == 401)
        }
        let locked = try await login(email)
        #expect(locked.status == 429, "locked even with the right password")
        #expect(locked.problem?.code == "gateway.too_many_attempts")
        let retryAfter = try #require(locked.header(named: "Retry-After").flatMap(Int.init))
        #expect((1...900).contains(retryAfter))
    }

    @Test("a refresh token is used once: its replay revokes the sign-in, and sign-out ends it")
    func refreshRotation() async throws {
        let stack = try stack
        let email = Self.email()
        #expect(try await signUp(email).status == 201)
        let first = try await login(email).decode(TokenPair.self)

        let refreshed = try await stack.call(.post, "/v1/auth/refresh", body: Self.json(["refreshToken": first.refreshToken]))
        #expect(refreshed.status == 200)
        let second = try refreshed.decode(TokenPair.self)
        #expect(second.refreshToken != first.refreshToken)
        #expect(try await stack.call(.get, "/v1/me", token: second.accessToken).status == 200)

        let replayed = try await stack.call(.post, "/v1/auth/refresh", body: Self.json(["refreshToken": first.refreshToken]))
        #expect(replayed.status == 401)
        #expect(replayed.problem?.code == "gateway.invalid_refresh_token")
        let afterTheft = try await stack.call(.post, "/v1/auth/refresh", body: Self.json(["refreshToken": second.refreshToken]))
        #expect(afterTheft.status == 401, "the whole sign-in is revoked once a used token comes back")

        let other = try await login(email).decode(TokenPair.self)
        let out = try await stack.call(.post, "/v1/auth/logout", body: Self.json(["refreshToken": other.refreshToken]))
        #expect(out.status == 204)
        let afterLogout = try await stack.call(.post, "/v1/auth/refresh", body: Self.json(["refreshToken": other.refreshToken]))
        #expect(afterLogout.status == 401)
    }

    @Test("changing the password needs the current one and ends every sign-in")
    func passwordChange() async throws {
        let stack = try stack
        let email = Self.email()
        #expect(try await signUp(email).status == 201)
        let session = try await login(email).decode(TokenPair.self)

        let wrong = try await stack.call(.put, "/v1/me/password", token: session.accessToken,
                                         body: Self.json(["currentPassword": "not it at all", "newPassword": "a new long password"]))
        #expect(wrong.status == 403)
        #expect(wrong.problem?.code == "gateway.wrong_password")

        let changed = try await stack.call(.put, "/v1/me/password", token: session.accessToken,
                                           body: Self.json(["currentPassword": "correct horse battery", "newPassword": "a new long password"]))
        #expect(changed.status == 204)
        let refresh = try await stack.call(.post, "/v1/auth/refresh", body: Self.json(["refreshToken": session.refreshToken]))
        #expect(refresh.status == 401)
        #expect(try await login(email).status == 401)
        #expect(try await login(email, password: "a new long password").status == 200)
    }

    @Test("a POST with an Idempotency-Key is answered once: a retry replays the answer, another body with the key is 422")
    func idempotencyKey() async throws {
        let stack = try stack
        let key = UUID().uuidString
        let email = Self.email()
        let body = Self.json(["email": email, "password": "correct horse battery", "name": "Idem Potent"])
        let first = try await stack.call(.post, "/v1/accounts", body: body, headers: [("Idempotency-Key", key)])
        #expect(first.status == 201)
        #expect(first.header(named: "Idempotent-Replayed") == nil)

        let retry = try await stack.call(.post, "/v1/accounts", body: body, headers: [("Idempotency-Key", key)])
        #expect(retry.status == 201, "replayed, not a 409 for an existing account")
        #expect(retry.header(named: "Idempotent-Replayed") == "true")
        #expect(retry.body == first.body)
        #expect(retry.header(named: "Location") == first.header(named: "Location"))

        let other = try await stack.call(.post, "/v1/accounts", body: Self.json(["email": Self.email(), "password": "correct horse battery", "name": "X"]),
                                         headers: [("Idempotency-Key", key)])
        #expect(other.status == 422)
        #expect(other.problem?.code == "gateway.idempotency_key_reused")

        let without = try await stack.call(.post, "/v1/accounts", body: body)
        #expect(without.status == 409, "without the key the request runs again")

        // Behind a token the key is the caller's own: another account's identical key is not replayed to it.
        let tokens = try await login(email).decode(TokenPair.self)
        let otherEmail = Self.email()
        #expect(try await signUp(otherEmail).status == 201)
        let otherTokens = try await login(otherEmail).decode(TokenPair.self)
        let shared = UUID().uuidString
        for session in [tokens, otherTokens] {
            let marked = try await stack.call(.post, "/v1/me/inbox/read", token: session.accessToken, body: "{}",
                                              headers: [("Idempotency-Key", shared)])
            #expect(marked.status == 200)
            #expect(marked.header(named: "Idempotent-Replayed") == nil)
        }
        let replayedMark = try await stack.call(.post, "/v1/me/inbox/read", token: otherTokens.accessToken, body: "{}",
                                                headers: [("Idempotency-Key", shared)])
        #expect(replayedMark.header(named: "Idempotent-Replayed") == "true")
        // A service's refusal is the answer too: replayed, not asked again.
        let unknownConference = "/v1/conferences/\(UUID().uuidString.lowercased())/registrations"
        let refusalKey = UUID().uuidString
        let refusalBody = Self.json(["category": "regular", "answers": [:]])
        let refused = try await stack.call(.post, unknownConference, token: tokens.accessToken, body: refusalBody,
                                           headers: [("Idempotency-Key", refusalKey)])
        #expect(refused.status == 404)
        #expect(refused.header(named: "Idempotent-Replayed") == nil)
        let refusedAgain = try await stack.call(.post, unknownConference, token: tokens.accessToken, body: refusalBody,
                                                headers: [("Idempotency-Key", refusalKey)])
        #expect(refusedAgain.status == 404 && refusedAgain.header(named: "Idempotent-Replayed") == "true")
        #expect(refusedAgain.body == refused.body)

        let badKey = try await stack.call(.post, "/v1/me/inbox/read", token: tokens.accessToken, body: "{}",
                                          headers: [("Idempotency-Key", "has spaces")])
        #expect(badKey.status == 400)
        #expect(badKey.problem?.code == "gateway.invalid_idempotency_key")
    }
}
}
