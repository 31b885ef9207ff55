import Contracts

/// A header value as Convene writes and reads them.
public enum HeaderValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case bool(Bool)

    public var description: String {
        switch self {
        case .string(let s): s
        case .int(let i): String(i)
        case .bool(let b): String(b)
        }
    }

    public var intValue: Int64? {
        switch self {
        case .int(let i): i
        case .string(let s): Int64(s)
        case .bool: nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// The AMQP properties Convene sets and reads (design.md §2).
public struct MessageProperties: Sendable, Equatable {
    public var messageId: String?
    public var type: String?
    public var correlationId: String?
    public var replyTo: String?
    public var appId: String?
    public var contentType: String?
    /// Per-message TTL in milliseconds, as the broker's `expiration` string.
    public var expiration: String?
    public var timestamp: Date?
    public var headers: [String: HeaderValue]

    public init(messageId: String? = nil, type: String? = nil, correlationId: String? = nil,
                replyTo: String? = nil, appId: String? = nil, contentType: String? = "application/json",
                expiration: String? = nil, timestamp: Date? = nil, headers: [String: HeaderValue] = [:]) {
        self.messageId = messageId
        self.type = type
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.appId = appId
        self.contentType = contentType
        self.expiration = expiration
        self.timestamp = timestamp
        self.headers = headers
    }
}

/// A message to publish. `mandatory` makes an unroutable message an error the caller sees.
public struct OutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var properties: MessageProperties
    public var body: [UInt8]
    public var mandatory: Bool
    public var persistent: Bool

    public init(exchange: String, routingKey: String, properties: MessageProperties = MessageProperties(),
                body: [UInt8], mandatory: Bool = true, persistent: Bool = true) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
        self.mandatory = mandatory
        self.persistent = persistent
    }

    /// An envelope as an AMQP message whose properties mirror it.
    public static func envelope<P: Codable & Sendable>(
        _ envelope: Envelope<P>, exchange: String, routingKey: String? = nil, replyTo: String? = nil,
        expiration: String? = nil, headers: [String: HeaderValue] = [:]
    ) throws -> OutgoingMessage {
        OutgoingMessage(
            exchange: exchange, routingKey: routingKey ?? envelope.type,
            properties: MessageProperties(
                messageId: envelope.id.uuidString.lowercased(), type: envelope.type,
                correlationId: envelope.correlationId, replyTo: replyTo, appId: envelope.source,
                expiration: expiration, timestamp: envelope.occurredAt, headers: headers),
            body: try ConveneJSON.encode(envelope))
    }
}

/// A message received from a queue, still to be acknowledged.
public struct Delivery: Sendable {
    public var deliveryTag: UInt64
    /// Which connection delivered it: an acknowledgement for an earlier connection is void,
    /// because the broker has already requeued that delivery.
    public var connectionGeneration: UInt64
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var properties: MessageProperties
    public var body: [UInt8]

    public init(deliveryTag: UInt64, connectionGeneration: UInt64, redelivered: Bool, exchange: String,
                routingKey: String, properties: MessageProperties, body: [UInt8]) {
        self.deliveryTag = deliveryTag
        self.connectionGeneration = connectionGeneration
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }
}

/// The exchanges of design.md §2.
public enum Exchange {
    public static let events = "convene.events"
    public static let commands = "convene.commands"
    public static let retry = "convene.retry"
    public static let dead = "convene.dead"
}

/// Headers Convene puts on retried and dead-lettered messages.
public enum Header {
    public static let error = "x-error"
    public static let errorCode = "x-error-code"
    public static let retryCount = "x-retry-count"
    public static let originalExchange = "x-original-exchange"
    public static let originalRoutingKey = "x-original-routing-key"
    public static let service = "x-service"
    public static let failedAt = "x-failed-at"
    /// Set by quorum queues on redelivery.
    public static let deliveryCount = "x-delivery-count"
    public static let traceparent = "traceparent"
}
