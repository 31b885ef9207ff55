/// An HTTP response as received, whatever its status (only transport failures throw; use
/// `ensureSuccess()` to turn a non-2xx status into an error).
public struct HTTPResponse: Sendable {
    public var status: Int
    /// The final response's headers, in order (those of redirects and `100 Continue` are dropped).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The IP address the response came from (`CURLINFO_PRIMARY_IP`), for an SSRF check.
    public var remoteIP: String?
    /// The remote port the response came from (`CURLINFO_PRIMARY_PORT`).
    public var remotePort: Int?
    /// The URL of the final response: differs from the request's after followed redirects.
    public var effectiveURL: String?
    /// True when the transfer reused a kept-alive connection instead of opening one.
    public var reusedConnection: Bool

    public init(
        status: Int,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        remoteIP: String? = nil,
        remotePort: Int? = nil,
        effectiveURL: String? = nil,
        reusedConnection: Bool = false
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.remoteIP = remoteIP
        self.remotePort = remotePort
        self.effectiveURL = effectiveURL
        self.reusedConnection = reusedConnection
    }

    /// The first value of the header named `name`, compared case-insensitively.
    public func header(named name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// Every value of the header named `name` (e.g. `Set-Cookie`), in order.
    public func headers(named name: String) -> [String] {
        let wanted = name.lowercased()
        return headers.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    /// The body decoded as UTF-8 (invalid sequences become U+FFFD).
    public var bodyString: String { String(decoding: body, as: UTF8.self) }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// Returns `self` for a 2xx status, else throws `HTTPClientError.httpStatus(status)`.
    @discardableResult
    public func ensureSuccess() throws(HTTPClientError) -> HTTPResponse {
        guard isSuccess else { throw .httpStatus(status) }
        return self
    }
}
