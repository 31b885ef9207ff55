import Contracts
import Logging
import Messaging

/// Handles one message type. `handle` runs inside the transaction that also records the inbox
/// row; whatever it writes to the outbox through `context` commits with it.
public protocol MessageHandler: Sendable {
    associatedtype Payload: Codable & Sendable
    associatedtype Response: Codable & Sendable = Empty
    /// The routing key it serves, e.g. `registration.submit` or `payment.succeeded`; or an AMQP
    /// topic pattern (`registration.#`) for a handler that takes every matching event that no
    /// handler of the exact type claims.
    var messageType: String { get }
    /// Payload versions it understands.
    var versions: ClosedRange<Int> { get }
    /// Whether messages of this type may share a transaction with others. A handler with an
    /// effect outside the database (sending mail, calling a provider) says no: a batch rolled
    /// back after that effect would repeat it.
    var batchable: Bool { get }
    func handle(_ message: Envelope<Payload>, context: HandlerContext) async throws -> Response
}

extension MessageHandler {
    public var versions: ClosedRange<Int> { 1...1 }
    public var batchable: Bool { true }
}

/// What a handler may touch: its transaction, a logger carrying the message's ids, and the
/// outbox (messages it emits are caused by, and correlated with, the one it handles).
public struct HandlerContext: Sendable {
    public let transaction: Transaction
    public let logger: Logger
    public let service: String
    public let message: IncomingMessage

    /// Emits an event (committed with the transaction, published by the relay).
    public func publish<P: MessagePayload>(_ payload: P, organizationId: String? = nil) async throws {
        try await publish(payload, as: P.messageType, version: P.version, organizationId: organizationId)
    }

    /// Emits an event whose type is not its payload's own, for a family of events sharing one
    /// payload (`registration.submitted`, `registration.confirmed`, … all carry the same notice).
    public func publish<P: Codable & Sendable>(_ payload: P, as type: String, version: Int = 1,
                                                organizationId: String? = nil) async throws {
        try await transaction.outbox(envelope(payload, type: type, version: version, organizationId: organizationId),
                                     exchange: Exchange.events)
    }

    /// Emits one payload as several events (a transition that is both `registration.submitted`
    /// and `registration.confirmed`), in one statement.
    public func publish<P: Codable & Sendable>(_ payload: P, as types: [String], version: Int = 1,
                                                organizationId: String? = nil) async throws {
        try await transaction.outbox(types.map { envelope(payload, type: $0, version: version, organizationId: organizationId) },
                                     exchange: Exchange.events)
    }

    /// Sends a command to another service (committed with the transaction).
    public func send<P: MessagePayload>(_ payload: P, organizationId: String? = nil) async throws {
        try await transaction.outbox(envelope(payload, type: P.messageType, version: P.version, organizationId: organizationId),
                                     exchange: Exchange.commands)
    }

    private func envelope<P: Codable & Sendable>(_ payload: P, type: String, version: Int,
                                                  organizationId: String?) -> Envelope<P> {
        let header = message.header
        return Envelope(type: type, version: version, source: service,
                        correlationId: header.correlationId ?? header.id.uuidString.lowercased(),
                        causationId: header.id.uuidString.lowercased(),
                        organizationId: organizationId ?? header.organizationId, data: payload)
    }
}

extension HandlerContext {
    /// For work a timer does rather than a message: what it emits is correlated with, and caused
    /// by, the timer's own id (e.g. the row whose time came).
    public static func timer(transaction: Transaction, logger: Logger, service: String, type: String, id: UUID,
                             organizationId: String? = nil) -> HandlerContext {
        let header = EnvelopeHeader(id: id, type: type, version: 1, source: service, occurredAt: Date(), correlationId: nil,
                                    causationId: nil, organizationId: organizationId)
        let delivery = Delivery(deliveryTag: 0, connectionGeneration: 0, redelivered: false, exchange: "", routingKey: type,
                                properties: MessageProperties(messageId: id.uuidString.lowercased(), type: type), body: [])
        return HandlerContext(transaction: transaction, logger: logger, service: service,
                              message: IncomingMessage(delivery: delivery, header: header))
    }
}

/// Routes messages to handlers and gives each the inbox guarantee: a message id is handled at
/// most once per consumer. A duplicate is recognised in the same transaction, skipped and (for
/// a request) answered with the reply stored the first time.
public final class Dispatcher: Sendable {
    private let service: String
    private let pool: PGPool
    private let publisher: Publisher
    private let logger: Logger
    private let handlers: [String: AnyHandler]
    private let patterns: [(pattern: TopicPattern, handler: AnyHandler)]

    public init(service: String, pool: PGPool, publisher: Publisher, handlers: [any MessageHandler], logger: Logger) {
        self.service = service
        self.pool = pool
        self.publisher = publisher
        self.logger = logger
        var table: [String: AnyHandler] = [:]
        var patterns: [(pattern: TopicPattern, handler: AnyHandler)] = []
        for handler in handlers {
            precondition(table[handler.messageType] == nil, "two handlers for \(handler.messageType)")
            table[handler.messageType] = AnyHandler(handler)
            if let pattern = TopicPattern(handler.messageType) { patterns.append((pattern, AnyHandler(handler))) }
        }
        self.handlers = table.filter { TopicPattern($0.key) == nil }
        self.patterns = patterns
    }

    public var messageTypes: [String] { (Array(handlers.keys) + patterns.map(\.pattern.text)).sorted() }

    /// Event types (other services' facts) this dispatcher listens to, for queue bindings.
    public var eventTypes: [String] { messageTypes.filter { !$0.hasPrefix("\(service).") } }

    /// The `MessageConsumer` processor for one message.
    public func process(_ message: IncomingMessage) async throws {
        let logger = logger(for: message)
        let replyTo = message.delivery.properties.replyTo
        let outcome: Outcome
        do {
            let handler = try route(message)
            outcome = try await pool.withTransaction { tx in
                try await apply(message, handler: handler, in: tx, logger: logger)
            }
        } catch let rejection as DeadLetter {
            // The caller of a malformed request hears why at once instead of timing out.
            if let replyTo {
                let error = ConveneError(code: rejection.code, message: rejection.reason)
                await send(try ConveneJSON.encode(Reply<Empty>.failure(error)), to: replyTo, for: message, logger: logger)
            }
            throw rejection
        } catch let error as ConveneError where !error.retryable && replyTo != nil {
            // A refused request is still an answered one: roll back its effects, remember the
            // answer so a redelivery gets the same one, and tell the caller.
            let reply = try ConveneJSON.encode(Reply<Empty>.failure(error))
            let consumer = service
            let header = message.header
            _ = try await pool.withTransaction { tx in
                try await tx.query("""
                    INSERT INTO inbox (consumer, message_id, message_type, response) VALUES ($1, $2, $3, $4)
                    ON CONFLICT DO NOTHING
                    """, [consumer, header.id, header.type, reply])
            }
            logger.info("request refused", metadata: ["code": "\(error.code)"])
            outcome = .handled(reply)
        }
        await finish(message, outcome, logger: logger)
    }

    /// The `MessageConsumer` batch processor: the messages share one transaction (one commit
    /// instead of one each), all or nothing. If anything fails, nothing of the batch took effect
    /// and the consumer processes its messages one by one, each with its own error handling.
    public func process(batch: [IncomingMessage]) async throws {
        let routed = try batch.map { ($0, try route($0), logger(for: $0)) }
        guard routed.allSatisfy({ $0.1.batchable }) else { throw NotBatchable() }
        let consumer = service
        let outcomes = try await pool.withTransaction { tx in
            // One statement records the whole batch in the inbox and tells which ids are new.
            var fresh = Set(try await tx.query("""
                INSERT INTO inbox (consumer, message_id, message_type)
                SELECT $1, id, type FROM unnest($2::uuid[], $3::text[]) AS m(id, type)
                ON CONFLICT DO NOTHING
                RETURNING message_id
                """, [consumer, PGTextArray(batch.map { $0.header.id.uuidString.lowercased() }),
                      PGTextArray(batch.map(\.header.type))]).rows.map { try $0.uuid("message_id") })
            var outcomes: [Outcome] = []
            outcomes.reserveCapacity(routed.count)
            var replies: [(id: UUID, reply: [UInt8])] = []
            for (message, handler, logger) in routed {
                if fresh.remove(message.header.id) != nil {
                    let outcome = try await run(message, handler: handler, in: tx, logger: logger, recordReply: false)
                    if message.delivery.properties.replyTo != nil, case .handled(let reply) = outcome {
                        replies.append((message.header.id, reply))
                    }
                    outcomes.append(outcome)
                } else {
                    outcomes.append(try await storedOutcome(of: message, in: tx))
                }
            }
            // The batch's answers in one statement, for a redelivered request to get the same.
            if !replies.isEmpty {
                try await tx.query("""
                    UPDATE inbox SET response = decode(r.response, 'base64')
                    FROM unnest($2::uuid[], $3::text[]) AS r(id, response)
                    WHERE inbox.consumer = $1 AND inbox.message_id = r.id
                    """, [consumer, PGTextArray(replies.map { $0.id.uuidString.lowercased() }),
                          PGTextArray(replies.map { Data($0.reply).base64EncodedString() })])
            }
            return outcomes
        }
        for ((message, _, logger), outcome) in zip(routed, outcomes) {
            await finish(message, outcome, logger: logger)
        }
    }

    private func route(_ message: IncomingMessage) throws -> AnyHandler {
        let header = message.header
        guard let handler = handlers[header.type] ?? patterns.first(where: { $0.pattern.matches(header.type) })?.handler else {
            throw DeadLetter("unknown message type \(header.type)", code: "convene.unknown_type")
        }
        guard handler.versions.contains(header.version) else {
            throw DeadLetter("unsupported version \(header.version) of \(header.type) (supported: \(handler.versions))",
                             code: "convene.unsupported_version")
        }
        return handler
    }

    private func logger(for message: IncomingMessage) -> Logger {
        var logger = self.logger
        logger[metadataKey: "messageId"] = "\(message.header.id.uuidString.lowercased())"
        logger[metadataKey: "type"] = "\(message.header.type)"
        if let correlationId = message.header.correlationId { logger[metadataKey: "correlationId"] = "\(correlationId)" }
        return logger
    }

    /// Records the inbox row and runs the handler, in the caller's transaction.
    private func apply(_ message: IncomingMessage, handler: AnyHandler, in tx: Transaction, logger: Logger) async throws -> Outcome {
        let header = message.header
        let inserted = try await tx.query("""
            INSERT INTO inbox (consumer, message_id, message_type) VALUES ($1, $2, $3)
            ON CONFLICT DO NOTHING
            """, [service, header.id, header.type]).affectedRows == 1
        guard inserted else { return try await storedOutcome(of: message, in: tx) }
        return try await run(message, handler: handler, in: tx, logger: logger)
    }

    /// A duplicate: nothing to do but, for a request, the answer given the first time.
    private func storedOutcome(of message: IncomingMessage, in tx: Transaction) async throws -> Outcome {
        guard message.delivery.properties.replyTo != nil else { return .duplicate(nil) }
        let stored = try await tx.query("SELECT response FROM inbox WHERE consumer = $1 AND message_id = $2",
                                        [service, message.header.id]).first
        return .duplicate(stored?.isNull("response") == false ? try stored?.bytes("response") : nil)
    }

    /// Runs the handler for a message whose inbox row was just recorded.
    private func run(_ message: IncomingMessage, handler: AnyHandler, in tx: Transaction, logger: Logger,
                     recordReply: Bool = true) async throws -> Outcome {
        let header = message.header
        let context = HandlerContext(transaction: tx, logger: logger, service: service, message: message)
        let reply = try await handler.handle(message, context)
        if recordReply && message.delivery.properties.replyTo != nil {
            try await tx.query("UPDATE inbox SET response = $3 WHERE consumer = $1 AND message_id = $2",
                               [service, header.id, reply])
        }
        return .handled(reply)
    }

    /// After the commit: answer a request, or note a skipped duplicate.
    private func finish(_ message: IncomingMessage, _ outcome: Outcome, logger: Logger) async {
        let replyTo = message.delivery.properties.replyTo
        switch outcome {
        case .handled(let reply):
            if let replyTo { await send(reply, to: replyTo, for: message, logger: logger) }
        case .duplicate(let stored):
            logger.info("duplicate message skipped")
            if let replyTo, let stored { await send(stored, to: replyTo, for: message, logger: logger) }
        }
    }

    private enum Outcome: Sendable {
        case handled([UInt8])
        case duplicate([UInt8]?)
    }

    /// Replies go straight to the caller's private queue; if it is gone the caller has given up,
    /// so a lost reply is logged, not retried.
    private func send(_ reply: [UInt8], to replyTo: String, for message: IncomingMessage, logger: Logger) async {
        let answer = OutgoingMessage(
            exchange: "", routingKey: replyTo,
            properties: MessageProperties(correlationId: message.delivery.properties.correlationId,
                                          appId: service, timestamp: Date()),
            body: reply, mandatory: false, persistent: false)
        do {
            try await publisher.publish(answer, timeout: .seconds(5))
        } catch {
            logger.warning("cannot send reply", metadata: ["error": "\(error)"])
        }
    }
}

/// A batch holding a message whose handler must run alone; the consumer then processes the
/// batch's messages one by one.
struct NotBatchable: Error {}

/// A handler with its types erased: decodes the payload, runs, encodes the reply (for a request).
struct AnyHandler: Sendable {
    let versions: ClosedRange<Int>
    let batchable: Bool
    let handle: @Sendable (IncomingMessage, HandlerContext) async throws -> [UInt8]

    init<H: MessageHandler>(_ handler: H) {
        versions = handler.versions
        batchable = handler.batchable
        handle = { message, context in
            let envelope: Envelope<H.Payload>
            do {
                envelope = try ConveneJSON.decode(Envelope<H.Payload>.self, from: message.body)
            } catch {
                throw DeadLetter("invalid payload for \(message.header.type): \(MessageConsumer.describe(error))",
                                 code: "convene.invalid_payload")
            }
            let response = try await handler.handle(envelope, context: context)
            // Only a request has anyone to answer; encoding a reply for every event costs.
            guard message.delivery.properties.replyTo != nil else { return [] }
            return try ConveneJSON.encode(Reply<H.Response>.success(response))
        }
    }
}


/// An AMQP topic pattern: words separated by dots, `*` standing for one word, `#` for any number.
public struct TopicPattern: Sendable {
    public let text: String
    private let words: [Substring]

    /// nil for a plain routing key.
    public init?(_ text: String) {
        let words = text.split(separator: ".", omittingEmptySubsequences: false)
        guard words.contains(where: { $0 == "*" || $0 == "#" }) else { return nil }
        self.text = text
        self.words = words
    }

    public func matches(_ key: String) -> Bool {
        Self.match(words[...], key.split(separator: ".", omittingEmptySubsequences: false)[...])
    }

    private static func match(_ pattern: ArraySlice<Substring>, _ key: ArraySlice<Substring>) -> Bool {
        guard let first = pattern.first else { return key.isEmpty }
        switch first {
        case "#":
            let rest = pattern.dropFirst()
            return (key.startIndex...key.endIndex).contains { match(rest, key[$0...]) }
        case "*":
            return !key.isEmpty && match(pattern.dropFirst(), key.dropFirst())
        default:
            return key.first == first && match(pattern.dropFirst(), key.dropFirst())
        }
    }
}
