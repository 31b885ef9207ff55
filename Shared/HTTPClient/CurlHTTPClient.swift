import Logging

/// An HTTP client on libcurl.
///
/// `maxConnections` workers each own a dedicated thread and a reused easy handle (keep-alive
/// and connection reuse), so blocking libcurl calls never run on Swift's cooperative pool.
/// The threads end when the last copy of the client is gone and its transfers are over.
public struct CurlHTTPClient: HTTPExecuting {
    public struct Configuration: Sendable {
        /// Time allowed to resolve and connect (and for the TLS handshake).
        public var connectTimeout: Duration
        /// Default total time for a request, from start to last body byte.
        public var timeout: Duration
        /// Larger responses are refused with `HTTPClientError.responseTooLarge`.
        public var maxBodySize: Int
        public var userAgent: String
        public var followRedirects: Bool
        public var maxRedirects: Int
        /// Number of workers: at most this many requests run at once.
        public var maxConnections: Int
        /// Fixed name resolutions in libcurl's `CURLOPT_RESOLVE` form `host:port:address`.
        /// libcurl keeps them for the life of each worker's handle.
        public var resolve: [String]
        /// Comma-separated schemes for `CURLOPT_PROTOCOLS_STR` and `CURLOPT_REDIR_PROTOCOLS_STR`.
        public var allowedProtocols: String
        /// Asked with the numeric IP before every connection (redirects included); returning
        /// false refuses it with `HTTPClientError.addressRefused`. For an SSRF guard. A reused
        /// kept-alive connection was checked when it was opened.
        public var addressFilter: (@Sendable (String) -> Bool)?
        /// Proxy URL (`http://proxy:3128`). nil connects directly and ignores the `http_proxy` /
        /// `https_proxy` / `all_proxy` environment variables libcurl would otherwise follow, so
        /// `addressFilter` and `HTTPResponse.remoteIP` see the real destination.
        public var proxy: String?

        public init(
            connectTimeout: Duration = .seconds(5),
            timeout: Duration = .seconds(30),
            maxBodySize: Int = 10 * 1024 * 1024,
            userAgent: String = "Convene/1.0",
            followRedirects: Bool = false,
            maxRedirects: Int = 5,
            maxConnections: Int = 4,
            resolve: [String] = [],
            allowedProtocols: String = "http,https",
            addressFilter: (@Sendable (String) -> Bool)? = nil,
            proxy: String? = nil
        ) {
            self.connectTimeout = connectTimeout
            self.timeout = timeout
            self.maxBodySize = maxBodySize
            self.userAgent = userAgent
            self.followRedirects = followRedirects
            self.maxRedirects = maxRedirects
            self.maxConnections = maxConnections
            self.resolve = resolve
            self.allowedProtocols = allowedProtocols
            self.addressFilter = addressFilter
            self.proxy = proxy
        }
    }

    public let configuration: Configuration
    private let pool: CurlWorkerPool
    private let logger: Logger

    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "convene.http-client")) {
        self.configuration = configuration
        self.logger = logger
        pool = CurlWorkerPool(size: configuration.maxConnections, name: "http")
    }

    public func execute(_ request: HTTPRequest, timeout: Duration? = nil) async throws -> HTTPResponse {
        try request.validate()
        let configuration = configuration
        let limit = timeout ?? configuration.timeout
        let started = ContinuousClock.now
        do {
            let response = try await withCancellationSignal { signal in
                try await pool.withWorker { worker in
                    try await worker.performHTTP(request, configuration: configuration, timeout: limit, cancellation: signal)
                }
            }
            logger.debug("HTTP request done", metadata: [
                "http.method": "\(request.method)",
                "http.url": "\(LogRedaction.url(request.url))",
                "http.status": "\(response.status)",
                "http.remote_ip": "\(response.remoteIP ?? "-")",
                "duration_ms": "\(started.duration(to: .now).curlTimeoutMilliseconds)",
            ])
            return response
        } catch {
            logger.debug("HTTP request failed", metadata: [
                "http.method": "\(request.method)",
                "http.url": "\(LogRedaction.url(request.url))",
                "error": "\(error)",
                "duration_ms": "\(started.duration(to: .now).curlTimeoutMilliseconds)",
            ])
            throw error
        }
    }
}
