/// An error with a stable, documented code (`registration.capacity_full`,
/// `payment.signature_invalid`, …) that the gateway maps to an HTTP status and that
/// dead-letter headers repeat.
public struct ConveneError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var details: [String: String]?
    /// Whether trying again later may succeed. Business rule violations are not retryable;
    /// an unreachable dependency is.
    public var retryable: Bool

    public init(code: String, message: String, details: [String: String]? = nil, retryable: Bool = false) {
        self.code = code
        self.message = message
        self.details = details
        self.retryable = retryable
    }

    public var description: String { "\(code): \(message)" }

    enum CodingKeys: String, CodingKey { case code, message, details, retryable }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = try c.decode(String.self, forKey: .code)
        message = try c.decode(String.self, forKey: .message)
        details = try c.decodeIfPresent([String: String].self, forKey: .details)
        retryable = try c.decodeIfPresent(Bool.self, forKey: .retryable) ?? false
    }
}

extension ConveneError {
    public static func timeout(_ message: String) -> ConveneError {
        ConveneError(code: "convene.timeout", message: message, retryable: true)
    }
    public static func unavailable(_ message: String) -> ConveneError {
        ConveneError(code: "convene.unavailable", message: message, retryable: true)
    }
}

/// The answer to a request sent with `reply_to`: `{"ok": true, "data": …}` or
/// `{"ok": false, "error": {"code", "message", "details"}}`.
public struct Reply<Payload: Codable & Sendable>: Codable, Sendable {
    public var ok: Bool
    public var data: Payload?
    public var error: ConveneError?

    public static func success(_ data: Payload) -> Reply { Reply(ok: true, data: data, error: nil) }
    public static func failure(_ error: ConveneError) -> Reply { Reply(ok: false, data: nil, error: error) }

    /// The payload, or the error the service answered with.
    public func get() throws -> Payload {
        if ok, let data { return data }
        throw error ?? ConveneError(code: "convene.invalid_reply", message: "reply has neither data nor error")
    }
}
