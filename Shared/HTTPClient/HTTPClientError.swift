/// Why an HTTP exchange failed. A received response never throws by itself, whatever its status:
/// `HTTPResponse.ensureSuccess()` throws `.httpStatus` for callers that want that.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is empty, has spaces or control characters, or libcurl cannot parse it.
    case invalidURL
    /// A header or the method would corrupt the request (CR/LF injection, bad token).
    case invalidRequest(String)
    /// The scheme is not among the allowed protocols (default `http,https`), also for a redirect.
    case protocolNotAllowed(String)
    /// `Configuration.addressFilter` refused to connect to this IP address.
    case addressRefused(String)
    /// The host could not be resolved or refused / dropped the connection attempt.
    case connectFailed(String)
    /// The connect timeout or the total timeout expired.
    case timedOut
    /// The response body is larger than the configured maximum.
    case responseTooLarge(limit: Int)
    /// A non-2xx status, from `HTTPResponse.ensureSuccess()`.
    case httpStatus(Int)
    /// Any other libcurl failure (`code` is the `CURLcode`).
    case transport(code: Int, message: String)

    /// Worth retrying: the request was not processed, or the failure is usually temporary
    /// (connect refused or timed out, a reset connection, 5xx / 408 / 429).
    public var isTransient: Bool {
        switch self {
        case .connectFailed, .timedOut:
            true
        case .httpStatus(let status):
            status >= 500 || status == 408 || status == 429
        case .transport(let code, _):
            CurlCode.transientTransportCodes.contains(code)
        case .invalidURL, .invalidRequest, .protocolNotAllowed, .addressRefused, .responseTooLarge:
            false
        }
    }

    /// True when the request certainly never reached the server, so even a non-idempotent
    /// request may be sent again.
    public var requestWasNotSent: Bool {
        switch self {
        case .connectFailed, .invalidURL, .invalidRequest, .protocolNotAllowed, .addressRefused: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .invalidURL: "invalid URL"
        case .invalidRequest(let reason): "invalid request: \(reason)"
        case .protocolNotAllowed(let message): "protocol not allowed: \(message)"
        case .addressRefused(let address): "connection to \(address) refused by the address filter"
        case .connectFailed(let message): "connect failed: \(message)"
        case .timedOut: "timed out"
        case .responseTooLarge(let limit): "response body larger than \(limit) bytes"
        case .httpStatus(let status): "HTTP status \(status)"
        case .transport(let code, let message): "transport error \(code): \(message)"
        }
    }
}

/// `CURLcode` values the error mapping needs, as plain integers.
enum CurlCode {
    static let unsupportedProtocol = 1
    static let urlMalformat = 3
    static let couldntResolveProxy = 5
    static let couldntResolveHost = 6
    static let couldntConnect = 7
    static let http2 = 16
    static let partialFile = 18
    static let writeError = 23
    static let operationTimedOut = 28
    static let abortedByCallback = 42
    static let gotNothing = 52
    static let sendError = 55
    static let recvError = 56
    static let filesizeExceeded = 63
    static let useSSLFailed = 64
    static let loginDenied = 67
    static let http2Stream = 92

    /// The connection broke mid-exchange: typical of a kept-alive connection the server had
    /// just closed, or a server restarting.
    static let transientTransportCodes: Set<Int> = [http2, partialFile, gotNothing, sendError, recvError, http2Stream]
}
