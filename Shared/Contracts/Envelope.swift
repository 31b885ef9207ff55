/// A payload that travels in an envelope: it knows its routing key and schema version.
public protocol MessagePayload: Codable, Sendable {
    /// The routing key and envelope `type`, e.g. `registration.confirmed`.
    static var messageType: String { get }
    /// The payload schema version this build writes and reads.
    static var version: Int { get }
}

extension MessagePayload {
    public static var version: Int { 1 }
}

/// The JSON body of every Convene message (design.md §2). The `id` is also the AMQP
/// `message_id` and the key consumers deduplicate on.
public struct Envelope<Payload: Codable & Sendable>: Codable, Sendable {
    public var id: UUID
    public var type: String
    public var version: Int
    public var source: String
    public var occurredAt: Date
    public var correlationId: String?
    public var causationId: String?
    public var organizationId: String?
    public var data: Payload

    public init(
        id: UUID = UUID(), type: String, version: Int = 1, source: String, occurredAt: Date = Date(),
        correlationId: String? = nil, causationId: String? = nil, organizationId: String? = nil, data: Payload
    ) {
        self.id = id
        self.type = type
        self.version = version
        self.source = source
        self.occurredAt = occurredAt
        self.correlationId = correlationId
        self.causationId = causationId
        self.organizationId = organizationId
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case id, type, version, source, occurredAt, correlationId, causationId, organizationId, data
    }

    /// Writes the id in lower case, as the AMQP `message_id` carries it, so the two compare equal
    /// as strings in any language.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(type, forKey: .type)
        try c.encode(version, forKey: .version)
        try c.encode(source, forKey: .source)
        try c.encode(occurredAt, forKey: .occurredAt)
        try c.encodeIfPresent(correlationId, forKey: .correlationId)
        try c.encodeIfPresent(causationId, forKey: .causationId)
        try c.encodeIfPresent(organizationId, forKey: .organizationId)
        try c.encode(data, forKey: .data)
    }
}

extension Envelope where Payload: MessagePayload {
    /// A new message of `Payload`'s type. With `causedBy`, it joins that message's flow: same
    /// correlation and tenant, and the cause's id as causation.
    public init<Cause>(_ data: Payload, source: String, causedBy cause: Envelope<Cause>? = nil,
                       organizationId: String? = nil, correlationId: String? = nil) {
        self.init(
            type: Payload.messageType, version: Payload.version, source: source,
            correlationId: correlationId ?? cause?.correlationId ?? cause?.id.uuidString.lowercased(),
            causationId: cause?.id.uuidString.lowercased(),
            organizationId: organizationId ?? cause?.organizationId, data: data)
    }

    public init(_ data: Payload, source: String, organizationId: String? = nil, correlationId: String? = nil) {
        self.init(data, source: source, causedBy: Envelope<Empty>?.none,
                  organizationId: organizationId, correlationId: correlationId)
    }
}

/// Everything of an envelope but its payload: enough to route, deduplicate and reject a message
/// before its payload type is known.
public struct EnvelopeHeader: Codable, Sendable, Equatable {
    public var id: UUID
    public var type: String
    public var version: Int
    public var source: String
    public var occurredAt: Date
    public var correlationId: String?
    public var causationId: String?
    public var organizationId: String?

    public init(id: UUID, type: String, version: Int, source: String, occurredAt: Date, correlationId: String?,
                causationId: String?, organizationId: String?) {
        self.id = id
        self.type = type
        self.version = version
        self.source = source
        self.occurredAt = occurredAt
        self.correlationId = correlationId
        self.causationId = causationId
        self.organizationId = organizationId
    }
}

/// A payload with no fields (`{}`), e.g. a ping.
public struct Empty: Codable, Sendable, Equatable {
    public init() {}
}
