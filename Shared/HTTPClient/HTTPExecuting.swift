/// Anything that performs HTTP requests: `CurlHTTPClient`, `RetryingHTTPClient`, a test double.
public protocol HTTPExecuting: Sendable {
    /// Performs `request`. `timeout` replaces the client's total timeout for this request.
    /// Any received response is returned, whatever its status; failures throw `HTTPClientError`
    /// (or `CancellationError` when the task is cancelled).
    func execute(_ request: HTTPRequest, timeout: Duration?) async throws -> HTTPResponse
}

extension HTTPExecuting {
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await execute(request, timeout: nil)
    }
}
