import Contracts

/// Where and how to reach the broker, parsed from an `amqp://user:pass@host:port/vhost` URL.
public struct AMQPConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String
    /// Seconds; rabbitmq-c services heartbeats only inside its own calls, which our loops make
    /// at least twice per interval.
    public var heartbeat: Int
    public var connectTimeout: Duration
    /// Upper bound of the pause between reconnection attempts.
    public var maxReconnectDelay: Duration
    /// Shown in the broker's connection list.
    public var connectionName: String

    public init(url: String, heartbeat: Int = 10, connectTimeout: Duration = .seconds(5),
                maxReconnectDelay: Duration = .seconds(5), connectionName: String = "convene") throws {
        guard url.hasPrefix("amqp://") else {
            throw ConveneError(code: "config.invalid", message: "AMQP URL must start with amqp:// (got a different scheme)")
        }
        var rest = Substring(url.dropFirst("amqp://".count))
        var vhost = "/"
        if let slash = rest.firstIndex(of: "/") {
            let raw = String(rest[rest.index(after: slash)...])
            vhost = raw.isEmpty ? "/" : (raw.removingPercentEncoding ?? raw)
            rest = rest[..<slash]
        }
        var user = "guest", password = "guest"
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = String(credentials[..<colon]).removingPercentEncoding ?? ""
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncoding ?? ""
            } else {
                user = String(credentials).removingPercentEncoding ?? ""
            }
        }
        var host = String(rest), port = 5672
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let parsed = Int(rest[rest.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw ConveneError(code: "config.invalid", message: "AMQP URL has an invalid port")
            }
            port = parsed
        }
        guard !host.isEmpty else { throw ConveneError(code: "config.invalid", message: "AMQP URL has no host") }
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.virtualHost = vhost
        self.heartbeat = heartbeat
        self.connectTimeout = connectTimeout
        self.maxReconnectDelay = maxReconnectDelay
        self.connectionName = connectionName
    }

    /// The URL without its password, safe to log.
    public var redacted: String { "amqp://\(user):***@\(host):\(port)/\(virtualHost == "/" ? "%2F" : virtualHost)" }
}

extension String {
    /// Percent-decoding without Foundation's NSString bridge.
    var removingPercentEncoding: String? {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
