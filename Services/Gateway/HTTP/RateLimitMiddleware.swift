import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The request rate of each caller: a signed-in account or an API key by its id, anyone else by
/// the client address. Over the limit a request answers 429 `gateway.rate_limited` with
/// `Retry-After`; every answer it lets through carries `RateLimit-Limit`, `RateLimit-Remaining`
/// and `RateLimit-Reset` (seconds until the window ends). Counted in this process: with several
/// gateway instances behind a load balancer, each one admits its own limit.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let limits: RateLimits

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let decision: RateLimiter.Decision?
        if let principal = context.principal {
            decision = limits.admitCaller(principal.callerKey)
        } else {
            decision = limits.admitAnonymous("address:" + (context.peerAddress ?? "unknown"))
        }
        guard let decision else { return try await next(request, context) }
        guard decision.admitted else {
            context.logger.info("rate limited", metadata: ["caller": "\(context.principal?.callerKey ?? "anonymous")"])
            var problem = Problem.rateLimited(decision)
            problem.headers.append(contentsOf: Self.headers(decision))
            throw problem
        }
        do {
            var response = try await next(request, context)
            response.headers.append(contentsOf: Self.headers(decision))
            return response
        } catch var problem as Problem {
            problem.headers.append(contentsOf: Self.headers(decision))
            throw problem
        } catch let error as ConveneError where Problem.status(forCode: error.code).code < 500 {
            var problem = Problem(error)
            problem.headers.append(contentsOf: Self.headers(decision))
            throw problem
        }
    }

    static func headers(_ decision: RateLimiter.Decision) -> HTTPFields {
        [.rateLimitLimit: String(decision.limit), .rateLimitRemaining: String(max(0, decision.remaining)),
         .rateLimitReset: String(decision.resetAfter)]
    }
}

/// The gateway's two rate limits, shared by every request of this process: one for identified
/// callers (accounts and API keys) and a lower one for anonymous client addresses. Either may be off.
final class RateLimits: Sendable {
    private let callers: Mutex<RateLimiter>
    private let anonymous: Mutex<RateLimiter>
    private let callersLimited: Bool
    private let anonymousLimited: Bool
    private let now: @Sendable () -> Date

    init(callersPerMinute: Int, anonymousPerMinute: Int, capacity: Int = 100_000,
         now: @escaping @Sendable () -> Date = { Date() }) {
        callersLimited = callersPerMinute > 0
        anonymousLimited = anonymousPerMinute > 0
        callers = Mutex(RateLimiter(rule: .init(limit: max(1, callersPerMinute), window: 60), capacity: capacity))
        anonymous = Mutex(RateLimiter(rule: .init(limit: max(1, anonymousPerMinute), window: 60), capacity: capacity))
        self.now = now
    }

    /// nil when identified callers are not limited.
    func admitCaller(_ key: String) -> RateLimiter.Decision? {
        guard callersLimited else { return nil }
        let now = now()
        return callers.withLock { $0.admit(key, now: now) }
    }

    /// nil when anonymous callers are not limited.
    func admitAnonymous(_ key: String) -> RateLimiter.Decision? {
        guard anonymousLimited else { return nil }
        let now = now()
        return anonymous.withLock { $0.admit(key, now: now) }
    }
}

extension HTTPField.Name {
    static let rateLimitLimit = Self("RateLimit-Limit")!
    static let rateLimitRemaining = Self("RateLimit-Remaining")!
    static let rateLimitReset = Self("RateLimit-Reset")!
}
