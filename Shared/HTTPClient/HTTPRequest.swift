/// An HTTP request: method, absolute URL, ordered headers and body bytes.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// Absolute URL, e.g. `https://api.example.com/v1/things?id=1`.
    public var url: String
    /// Sent in this order. libcurl adds `Host`, `Accept` and `User-Agent` unless set here.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: HTTPMethod = .get,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// Appends a header, keeping any earlier one with the same name.
    public mutating func addHeader(_ name: String, _ value: String) {
        headers.append((name: name, value: value))
    }

    /// Replaces every header named `name` (case-insensitive) by one with `value`.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name: name, value: value))
    }

    /// The first value of the header named `name`, compared case-insensitively.
    public func header(named name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// Sets `Authorization: Basic base64(username:password)`.
    public mutating func setBasicAuthorization(username: String, password: String) {
        setHeader("Authorization", "Basic " + Base64.encode(Array("\(username):\(password)".utf8)))
    }

    /// Refuses what would let a caller's data rewrite the request: control characters or
    /// spaces in the URL, CR / LF / NUL in a header, an empty or non-token header name or method.
    func validate() throws(HTTPClientError) {
        guard !url.isEmpty, url.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw .invalidURL
        }
        guard !method.rawValue.isEmpty, method.rawValue.utf8.allSatisfy(Self.isTokenByte) else {
            throw .invalidRequest("invalid method \"\(method.rawValue)\"")
        }
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw .invalidRequest("invalid header name \"\(name)\"")
            }
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) else {
                throw .invalidRequest("header \"\(name)\" contains CR, LF or NUL")
            }
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
