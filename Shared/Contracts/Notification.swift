/// `notification.send`: anyone may ask the notification service to tell people something.
/// Documented in docs/messages (JSON Schema `notification.send.json`).
public struct SendNotification: MessagePayload, Equatable {
    public static let messageType = "notification.send"

    public struct Recipient: Codable, Sendable, Equatable {
        public var accountId: String?
        public var email: String?
        public var name: String?
        /// BCP 47, e.g. `zh-CN`; the template falls back to its language, then to English.
        public var locale: String?
        public init(accountId: String? = nil, email: String? = nil, name: String? = nil, locale: String? = nil) {
            self.accountId = accountId
            self.email = email
            self.name = name
            self.locale = locale
        }
    }

    /// Who asked, for deduplication: the same key never sends twice to the same recipient and
    /// channel (defaults to the message id).
    public var idempotencyKey: String?
    /// A preference category (e.g. `meeting.reminder`); recipients may opt out of it unless
    /// `transactional`.
    public var category: String
    /// Receipts, confirmations, security messages: sent whatever the preferences.
    public var transactional: Bool
    public var templateKey: String
    public var data: [String: JSONValue]
    public var recipients: [Recipient]
    /// `email` today.
    public var channels: [String]

    public init(idempotencyKey: String? = nil, category: String, transactional: Bool = false, templateKey: String,
                data: [String: JSONValue], recipients: [Recipient], channels: [String] = ["email"]) {
        self.idempotencyKey = idempotencyKey
        self.category = category
        self.transactional = transactional
        self.templateKey = templateKey
        self.data = data
        self.recipients = recipients
        self.channels = channels
    }
}

/// Emitted when a message reached its channel (the SMTP server accepted it).
public struct NotificationDelivered: MessagePayload, Equatable {
    public static let messageType = "notification.delivered"
    public var deliveryId: String
    public var channel: String
    public var recipient: String
    public var templateKey: String
    public var attempts: Int
    public init(deliveryId: String, channel: String, recipient: String, templateKey: String, attempts: Int) {
        self.deliveryId = deliveryId
        self.channel = channel
        self.recipient = recipient
        self.templateKey = templateKey
        self.attempts = attempts
    }
}

/// Emitted when a message could not be delivered for good, or was skipped (`reason`).
public struct NotificationFailed: MessagePayload, Equatable {
    public static let messageType = "notification.failed"
    public var deliveryId: String
    public var channel: String
    public var recipient: String
    public var templateKey: String
    public var reason: String
    public var permanent: Bool
    public init(deliveryId: String, channel: String, recipient: String, templateKey: String, reason: String, permanent: Bool) {
        self.deliveryId = deliveryId
        self.channel = channel
        self.recipient = recipient
        self.templateKey = templateKey
        self.reason = reason
        self.permanent = permanent
    }
}

/// Any JSON value, for free-form template data.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// As plain Swift values (String, Double, Bool, arrays, dictionaries) for template engines.
    public var plain: Any {
        switch self {
        case .null: return ""
        case .bool(let b): return b
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): return s
        case .array(let a): return a.map(\.plain)
        case .object(let o): return o.mapValues(\.plain)
        }
    }
}
