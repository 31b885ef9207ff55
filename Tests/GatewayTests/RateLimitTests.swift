import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Testing
import TestSupport

extension EndToEnd {
/// The request rate limit of a gateway of its own (the shared stack's limits are too high to
/// reach): a few requests per minute per caller, then 429 with `Retry-After`.
@Suite("Request rate limits, end to end")
struct RateLimitTests {
    @Test("each caller gets its requests per minute, then 429 rate_limited with Retry-After; health and provider callbacks are never limited")
    func limits() async throws {
        let stack = try await GatewayStack.start(gatewayOnly: true, gatewayEnvironment: [
            "RATE_LIMIT_PER_MINUTE": "3", "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "2", "RPC_TIMEOUT": "1s", "HEALTH_TIMEOUT": "300ms",
        ])
        do {
            try await check(stack)
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    private func check(_ stack: GatewayStack) async throws {
        // A signed-in caller: three requests (the gateway's own 404: no account behind the token), then refused.
        let token = try await stack.token(account: "rate-" + UUID().uuidString.prefix(8).lowercased())
        for remaining in [2, 1, 0] {
            let answer = try await stack.call(.get, "/v1/me", token: token)
            #expect(answer.status == 404, "\(answer.bodyString)")
            #expect(answer.header(named: "RateLimit-Limit") == "3")
            #expect(answer.header(named: "RateLimit-Remaining") == String(remaining))
            #expect(Int(answer.header(named: "RateLimit-Reset") ?? "").map { (1...60).contains($0) } == true)
        }
        let limited = try await stack.call(.get, "/v1/me", token: token)
        #expect(limited.status == 429)
        #expect(limited.header(named: "Content-Type") == "application/problem+json")
        #expect(limited.problem?.code == "gateway.rate_limited")
        let retryAfter = try #require(Int(limited.header(named: "Retry-After") ?? ""), "Retry-After is whole seconds")
        #expect((1...60).contains(retryAfter))
        #expect(limited.header(named: "RateLimit-Remaining") == "0")
        #expect(limited.header(named: "X-Request-Id") != nil)

        // Another caller is counted apart.
        let other = try await stack.token(account: "rate-" + UUID().uuidString.prefix(8).lowercased())
        #expect(try await stack.call(.get, "/v1/me", token: other).status == 404)

        // Without a credential: the client address, with its lower limit. A refused credential
        // counts as none, so a made-up token does not escape the address's limit.
        let login = AccountTests.json(["email": "nobody-\(UUID())@example.org", "password": "wrong password"])
        for _ in 0..<2 {
            let refused = try await stack.call(.post, "/v1/auth/login", body: login)
            #expect(refused.status == 401 && refused.header(named: "RateLimit-Limit") == "2")
        }
        let anonymous = try await stack.call(.post, "/v1/auth/login", body: login)
        #expect(anonymous.status == 429 && anonymous.problem?.code == "gateway.rate_limited")
        #expect(anonymous.header(named: "Retry-After") != nil)
        let madeUp = try await stack.call(.get, "/v1/me", token: "made.up.token")
        #expect(madeUp.status == 429)

        // Load balancers and payment providers are never refused for their rate.
        for _ in 0..<3 {
            let health = try await stack.call(.get, "/health")
            #expect(health.status != 429 && health.header(named: "RateLimit-Limit") == nil)
            let callback = try await stack.call(.post, "/v1/payments/callbacks/stripe", body: "{}")
            #expect(callback.status != 429 && callback.header(named: "RateLimit-Limit") == nil)
        }
    }
}
}
