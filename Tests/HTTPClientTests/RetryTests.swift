import Foundation
import Testing
import HTTPClient

@Suite("Retrying with back-off")
struct RetryTests {
    @Test("back-off grows by the multiplier up to the cap, and jitter only shortens it")
    func backOffSchedule() {
        let policy = RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .milliseconds(350), multiplier: 2, jitter: 0.5)
        #expect(policy.delay(afterAttempt: 1, random: 1) == .milliseconds(100))
        #expect(policy.delay(afterAttempt: 2, random: 1) == .milliseconds(200))
        #expect(policy.delay(afterAttempt: 3, random: 1) == .milliseconds(350))
        #expect(policy.delay(afterAttempt: 9, random: 1) == .milliseconds(350))
        #expect(policy.delay(afterAttempt: 2, random: 0) == .milliseconds(100))
        let noJitter = RetryPolicy(initialDelay: .milliseconds(100), jitter: 0)
        #expect(noJitter.delay(afterAttempt: 1, random: 0) == .milliseconds(100))
    }

    @Test("a transient failure is attempted exactly maxAttempts times, then rethrown")
    func transientFailureUsesAllAttempts() async throws {
        let port = try TestSockets.closedPort()
        let client = CurlHTTPClient()
        let policy = RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(10), maxDelay: .milliseconds(20))
        var attempts: [Int] = []
        do {
            _ = try await withRetry(policy: policy) { attempt in
                attempts.append(attempt.number)
                return try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
            }
            Issue.record("a request to a closed port succeeded")
        } catch let error as HTTPClientError {
            #expect(error.isTransient)
        }
        #expect(attempts == [1, 2, 3])
    }

    @Test("retrying stops when the next wait would pass the overall deadline")
    func deadlineStopsRetrying() async throws {
        let port = try TestSockets.closedPort()
        let client = CurlHTTPClient()
        // A deadline far above one attempt's cost, so a loaded machine (CI builds and tests at
        // once) still fits several attempts; the bound that matters is that it stops near it.
        let policy = RetryPolicy(maxAttempts: 1000, initialDelay: .milliseconds(100), maxDelay: .milliseconds(100),
                                 jitter: 0, overallTimeout: .seconds(5))
        var attempts = 0
        let start = ContinuousClock.now
        await #expect(throws: HTTPClientError.self) {
            _ = try await withRetry(policy: policy) { attempt in
                attempts += 1
                #expect(attempt.remaining != nil)
                return try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
            }
        }
        let elapsed = secondsSince(start)
        #expect(attempts >= 2 && attempts <= 51, "made \(attempts) attempts")
        #expect(elapsed < 10, "took \(elapsed) s")
        #expect(attempts < 1000, "the deadline, not maxAttempts, ended it")
    }

    @Test("a permanent failure is not retried")
    func permanentFailureIsNotRetried() async throws {
        var attempts = 0
        await #expect(throws: HTTPClientError.protocolNotAllowed("x")) {
            _ = try await withRetry(policy: RetryPolicy(maxAttempts: 5, initialDelay: .milliseconds(1))) { _ in
                attempts += 1
                throw HTTPClientError.protocolNotAllowed("x")
            }
        }
        #expect(attempts == 1)
    }

    @Test("RetryingHTTPClient retries a 503 and returns the 200 that follows")
    func retryingClientRetriesServerErrors() async throws {
        let server = try CannedHTTPServer(responses: [
            CannedHTTPServer.response(status: "503 Service Unavailable"),
            CannedHTTPServer.response(status: "200 OK", body: "second time lucky"),
        ])
        defer { server.stop() }
        let client = RetryingHTTPClient(CurlHTTPClient(), policy: RetryPolicy(initialDelay: .milliseconds(10)))
        let response = try await client.execute(HTTPRequest(url: server.url()))
        #expect(response.status == 200)
        #expect(response.bodyString == "second time lucky")
        #expect(server.requests.count == 2)
    }

    @Test("RetryingHTTPClient returns the last transient status once attempts run out")
    func retryingClientReturnsLastStatus() async throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.response(status: "502 Bad Gateway")])
        defer { server.stop() }
        let client = RetryingHTTPClient(CurlHTTPClient(), policy: RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(5)))
        let response = try await client.execute(HTTPRequest(url: server.url()))
        #expect(response.status == 502)
        #expect(server.requests.count == 3)
    }

    @Test("RetryingHTTPClient does not repeat a POST that may have reached the server")
    func retryingClientKeepsPostsSafe() async throws {
        let server = try CannedHTTPServer(responses: [
            CannedHTTPServer.response(status: "503 Service Unavailable"),
            CannedHTTPServer.response(status: "200 OK"),
        ])
        defer { server.stop() }
        let client = RetryingHTTPClient(CurlHTTPClient(), policy: RetryPolicy(initialDelay: .milliseconds(5)))
        let response = try await client.execute(HTTPRequest(method: .post, url: server.url(), body: Array("{}".utf8)))
        #expect(response.status == 503)
        #expect(server.requests.count == 1)
    }

    @Test("RetryingHTTPClient retries a POST whose connection was refused")
    func retryingClientRetriesRefusedPosts() async throws {
        let port = try TestSockets.closedPort()
        let counting = CountingClient(base: CurlHTTPClient())
        let client = RetryingHTTPClient(counting, policy: RetryPolicy(maxAttempts: 2, initialDelay: .milliseconds(5)))
        await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPRequest(method: .post, url: "http://127.0.0.1:\(port)/", body: [1]))
        }
        #expect(counting.calls == 2)
    }
}

/// Counts the requests it passes on.
private final class CountingClient: HTTPExecuting, @unchecked Sendable {
    private let base: any HTTPExecuting
    private let lock = NSLock()
    private var count = 0

    init(base: any HTTPExecuting) { self.base = base }

    var calls: Int { lock.withLock { count } }

    func execute(_ request: HTTPRequest, timeout: Duration?) async throws -> HTTPResponse {
        lock.withLock { count += 1 }
        return try await base.execute(request, timeout: timeout)
    }
}
