import Logging

/// Wraps an `HTTPExecuting` client and retries transient failures (connect refused, timeouts,
/// reset connections) and transient statuses (5xx, 408, 429) according to a `RetryPolicy`.
///
/// A non-idempotent request (POST, PATCH) is retried only when it certainly never reached the
/// server (connect failures), unless `retryNonIdempotentRequests` is set, e.g. for requests
/// that carry an idempotency key. When every attempt got a transient status, the last
/// response is returned, not an error.
public struct RetryingHTTPClient: HTTPExecuting {
    public let base: any HTTPExecuting
    public let policy: RetryPolicy
    public let retryNonIdempotentRequests: Bool
    private let logger: Logger

    public init(
        _ base: any HTTPExecuting,
        policy: RetryPolicy = RetryPolicy(),
        retryNonIdempotentRequests: Bool = false,
        logger: Logger = Logger(label: "convene.http-client")
    ) {
        self.base = base
        self.policy = policy
        self.retryNonIdempotentRequests = retryNonIdempotentRequests
        self.logger = logger
    }

    /// Carries a response with a transient status out of an attempt, so `withRetry` retries it.
    private struct TransientStatus: Error {
        let response: HTTPResponse
    }

    public func execute(_ request: HTTPRequest, timeout: Duration? = nil) async throws -> HTTPResponse {
        let mayRepeat = request.method.isIdempotent || retryNonIdempotentRequests
        do {
            return try await withRetry(policy: policy) { error in
                if error is TransientStatus { return true }
                guard let error = error as? HTTPClientError, error.isTransient else { return false }
                return mayRepeat || error.requestWasNotSent
            } onRetry: { attempt, error, delay in
                let reason = (error as? TransientStatus).map { "HTTP status \($0.response.status)" } ?? "\(error)"
                logger.debug("Retrying HTTP request", metadata: [
                    "http.method": "\(request.method)",
                    "http.url": "\(LogRedaction.url(request.url))",
                    "attempt": "\(attempt.number)",
                    "error": "\(reason)",
                    "delay_ms": "\(delay.curlTimeoutMilliseconds)",
                ])
            } operation: { attempt in
                var limit = timeout
                if let remaining = attempt.remaining {
                    guard remaining > .zero else { throw HTTPClientError.timedOut }
                    limit = min(limit ?? remaining, remaining)
                }
                let response = try await base.execute(request, timeout: limit)
                if mayRepeat && HTTPClientError.httpStatus(response.status).isTransient {
                    throw TransientStatus(response: response)
                }
                return response
            }
        } catch let transient as TransientStatus {
            return transient.response
        }
    }
}
