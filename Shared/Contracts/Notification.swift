/// `notification.send`: anyone may ask the notification service to tell people something.
/// Documented in docs/messages (JSON Schema `notification.send.json`).
public struct SendNotification: MessagePayload, Equatable {
    public static let messageType = "notification.send"

    /// Who to tell. Email needs `email`; the in-app inbox needs `accountId`; the robot channels
    /// need `robot` (the id of a robot the organization registered).
    public struct Recipient: Codable, Sendable, Equatable {
        public var accountId: String?
        public var email: String?
        public var name: String?
        /// BCP 47, e.g. `zh-CN`; the template falls back to its language, then to English.
        public var locale: String?
        public var robot: String?
        public init(accountId: String? = nil, email: String? = nil, name: String? = nil, locale: String? = nil,
                    robot: String? = nil) {
            self.accountId = accountId
            self.email = email
            self.name = name
            self.locale = locale
            self.robot = robot
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
    /// Among `email`, `inbox`, `dingtalk`, `wecom`.
    public var channels: [String]
    /// The locale for recipients that have none.
    public var locale: String?
    /// Files for email: a calendar invitation built from `calendar`, or a blob by key.
    public var attachments: [NotificationAttachment]?

    public init(idempotencyKey: String? = nil, category: String, transactional: Bool = false, templateKey: String,
                data: [String: JSONValue], recipients: [Recipient], channels: [String] = ["email"],
                locale: String? = nil, attachments: [NotificationAttachment]? = nil) {
        self.idempotencyKey = idempotencyKey
        self.category = category
        self.transactional = transactional
        self.templateKey = templateKey
        self.data = data
        self.recipients = recipients
        self.channels = channels
        self.locale = locale
        self.attachments = attachments
    }
}

/// An email attachment: a generated calendar invitation, or a file from the blob store.
public struct NotificationAttachment: Codable, Sendable, Equatable {
    public var calendar: CalendarEvent?
    public var blobKey: String?
    public var filename: String?
    public var contentType: String?

    public static func calendar(_ event: CalendarEvent) -> Self { Self(calendar: event) }
    public static func blob(_ key: String, filename: String, contentType: String) -> Self {
        Self(blobKey: key, filename: filename, contentType: contentType)
    }

    public init(calendar: CalendarEvent? = nil, blobKey: String? = nil, filename: String? = nil, contentType: String? = nil) {
        self.calendar = calendar
        self.blobKey = blobKey
        self.filename = filename
        self.contentType = contentType
    }
}

/// A meeting as a calendar invitation (RFC 5545): sent as `invite.ics` and inline.
public struct CalendarEvent: Codable, Sendable, Equatable {
    public struct Person: Codable, Sendable, Equatable {
        public var name: String?
        public var email: String
        public init(name: String? = nil, email: String) {
            self.name = name
            self.email = email
        }
    }

    public struct Attendee: Codable, Sendable, Equatable {
        public var name: String?
        public var email: String
        /// `required`, `optional` or `observer`.
        public var role: String
        public init(name: String? = nil, email: String, role: String) {
            self.name = name
            self.email = email
            self.role = role
        }
    }

    /// `request` (new or changed) or `cancel`.
    public var method: String
    /// Stable for the life of the meeting.
    public var uid: String
    /// Grows with every change.
    public var sequence: Int
    public var summary: String
    public var description: String?
    public var location: String?
    public var joinUrl: String?
    public var start: Date
    public var end: Date
    /// IANA zone the meeting was entered in; nil writes UTC.
    public var timeZone: String?
    public var organizer: Person
    public var attendees: [Attendee]
    public var alarmMinutesBefore: Int?

    public init(method: String = "request", uid: String, sequence: Int, summary: String, description: String? = nil,
                location: String? = nil, joinUrl: String? = nil, start: Date, end: Date, timeZone: String? = nil,
                organizer: Person, attendees: [Attendee], alarmMinutesBefore: Int? = 15) {
        self.method = method
        self.uid = uid
        self.sequence = sequence
        self.summary = summary
        self.description = description
        self.location = location
        self.joinUrl = joinUrl
        self.start = start
        self.end = end
        self.timeZone = timeZone
        self.organizer = organizer
        self.attendees = attendees
        self.alarmMinutesBefore = alarmMinutesBefore
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
        // Strings first: they are most template data, and every failed attempt costs a thrown error.
        if c.decodeNil() { self = .null }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
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
