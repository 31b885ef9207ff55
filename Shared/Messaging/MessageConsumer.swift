import Contracts
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// A received message whose envelope header has been read.
public struct IncomingMessage: Sendable {
    public var delivery: Delivery
    public var header: EnvelopeHeader
    /// How many times this message was retried after a failure (0 on the first attempt).
    public var retryCount: Int

    public var body: [UInt8] { delivery.body }

    public init(delivery: Delivery, header: EnvelopeHeader, retryCount: Int = 0) {
        self.delivery = delivery
        self.header = header
        self.retryCount = retryCount
    }
}

/// Thrown by a processor to send a message straight to the dead-letter queue: retrying cannot
/// help (unknown type, unsupported version, invalid payload).
public struct DeadLetter: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var code: String
    public init(_ reason: String, code: String = "convene.invalid_message") {
        self.reason = reason
        self.code = code
    }
    public var description: String { reason }
}

/// Consumes a service's work queue with a bounded number of concurrent handlers.
///
/// A message is acknowledged only after `process` returns (for Convene's handlers: after their
/// transaction committed). Messages that piled up while every handler was busy are handed to
/// `processBatch` in groups of up to `batchSize`, sharing one transaction; if a batch fails, its
/// messages are processed one by one, so a batch never changes what happens to any one message.
///
/// A message that cannot be decoded, or that `process` rejects with
/// `DeadLetter` or a non-retryable `ConveneError`, is published to `<service>.dead` with an
/// `x-error` header and then acknowledged. Any other error retries the message through the
/// retry queues (`retryDelays`, e.g. 1 s, 10 s, 60 s) and dead-letters it after the last one.
public final class MessageConsumer: Service, Sendable {
    public struct Configuration: Sendable {
        public var service: String
        public var amqp: AMQPConfiguration
        public var topology: Topology
        public var prefetch: Int
        public var concurrency: Int
        public var retryDelays: [Duration]
        /// Most messages processed in one `processBatch` call (1 turns batching off).
        public var batchSize: Int

        public init(service: String, amqp: AMQPConfiguration, topology: Topology, prefetch: Int = 256,
                    concurrency: Int = 8, retryDelays: [Duration] = [.seconds(1), .seconds(10), .seconds(60)],
                    batchSize: Int = 32) {
            self.service = service
            self.amqp = amqp
            self.topology = topology
            self.prefetch = prefetch
            self.concurrency = concurrency
            self.retryDelays = retryDelays
            self.batchSize = batchSize
        }
    }

    public typealias Processor = @Sendable (IncomingMessage) async throws -> Void
    /// All or nothing: when it throws, none of the batch took effect.
    public typealias BatchProcessor = @Sendable ([IncomingMessage]) async throws -> Void

    private let configuration: Configuration
    private let connection: ConsumerConnection
    private let publisher: Publisher
    private let process: Processor
    private let processBatch: BatchProcessor?
    private let logger: Logger
    private let metrics: ConsumerMetrics

    public init(_ configuration: Configuration, publisher: Publisher, logger: Logger, process: @escaping Processor,
                processBatch: BatchProcessor? = nil) {
        self.configuration = configuration
        self.publisher = publisher
        self.process = process
        self.processBatch = processBatch
        metrics = ConsumerMetrics(service: configuration.service)
        self.logger = logger
        connection = ConsumerConnection(
            .init(amqp: configuration.amqp, topology: configuration.topology,
                  queue: configuration.topology.queues.first { $0.name == configuration.service }
                    ?? QueueDeclaration(name: configuration.service),
                  prefetch: configuration.prefetch),
            logger: logger)
    }

    public var isConnected: Bool { connection.isConnected }

    public func waitUntilConsuming(timeout: Duration = .seconds(10)) async -> Bool {
        await connection.waitUntilConsuming(timeout: timeout)
    }

    /// Consumes until graceful shutdown (or cancellation): then stops taking new messages,
    /// finishes the ones in hand, and closes the connection.
    public func run() async throws {
        let concurrency = max(1, configuration.concurrency)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                while true {
                    if running >= concurrency {
                        await group.next()
                        running -= 1
                    }
                    // Whatever piled up while every handler was busy goes out together.
                    let taken = await connection.take(max: processBatch == nil ? 1 : max(1, configuration.batchSize))
                    if taken.isEmpty { break }
                    group.addTask { await self.handle(taken[...]) }
                    running += 1
                }
                await group.waitForAll()
            }
        } onGracefulShutdown: {
            self.connection.stopConsuming()
        }
        await connection.close()
    }

    /// Stops taking new messages (the same as a graceful shutdown of `run`).
    public func stop() { connection.stopConsuming() }

    func handle(_ chunk: ArraySlice<Delivery>) async {
        guard chunk.count > 1, let processBatch else {
            for delivery in chunk { await handle(delivery) }
            return
        }
        let started = ContinuousClock.now
        var messages: [IncomingMessage] = []
        var alone: [Delivery] = []
        for delivery in chunk {
            if let header = try? EnvelopeHeader.decode(from: delivery.body),
               delivery.properties.headers[Header.retryCount] == nil {
                messages.append(IncomingMessage(delivery: delivery, header: header, retryCount: 0))
            } else {
                alone.append(delivery)  // malformed or being retried: its own path
            }
        }
        if messages.count > 1 {
            do {
                try await processBatch(messages)
                for message in messages {
                    connection.ack(message.delivery)
                    record(type: message.header.type, outcome: "ok", started: started)
                }
            } catch {
                logger.debug("batch failed; processing its messages one by one", metadata: ["error": "\(error)"])
                alone.append(contentsOf: messages.map(\.delivery))
            }
        } else {
            alone.append(contentsOf: messages.map(\.delivery))
        }
        for delivery in alone { await handle(delivery) }
    }

    func handle(_ delivery: Delivery) async {
        let started = ContinuousClock.now
        let header: EnvelopeHeader
        do {
            header = try EnvelopeHeader.decode(from: delivery.body)
        } catch {
            await deadLetter(delivery, reason: "malformed envelope: \(Self.describe(error))", code: "convene.malformed_envelope")
            record(type: delivery.properties.type ?? "unknown", outcome: "dead", started: started)
            return
        }
        var logger = self.logger
        logger[metadataKey: "messageId"] = "\(header.id.uuidString.lowercased())"
        logger[metadataKey: "type"] = "\(header.type)"
        if let correlationId = header.correlationId { logger[metadataKey: "correlationId"] = "\(correlationId)" }
        let retryCount = Int(delivery.properties.headers[Header.retryCount]?.intValue ?? 0)
        do {
            try await process(IncomingMessage(delivery: delivery, header: header, retryCount: retryCount))
            connection.ack(delivery)
            record(type: header.type, outcome: "ok", started: started)
        } catch let rejection as DeadLetter {
            logger.warning("message rejected", metadata: ["reason": "\(rejection.reason)"])
            await deadLetter(delivery, reason: rejection.reason, code: rejection.code)
            record(type: header.type, outcome: "dead", started: started)
        } catch let error as ConveneError where !error.retryable {
            logger.warning("message failed permanently", metadata: ["error": "\(error)"])
            await deadLetter(delivery, reason: error.message, code: error.code)
            record(type: header.type, outcome: "dead", started: started)
        } catch {
            let reason = Self.describe(error)
            if retryCount < configuration.retryDelays.count {
                let delay = configuration.retryDelays[retryCount]
                logger.warning("handler failed; will retry", metadata: [
                    "error": "\(reason)", "attempt": "\(retryCount + 1)", "retryInMs": "\(delay.inMilliseconds)",
                ])
                await retry(delivery, attempt: retryCount + 1, delay: delay, reason: reason)
                record(type: header.type, outcome: "retry", started: started)
            } else {
                logger.error("handler failed; giving up", metadata: ["error": "\(reason)", "attempts": "\(retryCount + 1)"])
                await deadLetter(delivery, reason: "failed after \(retryCount + 1) attempts: \(reason)",
                                 code: (error as? ConveneError)?.code ?? "convene.handler_failed")
                record(type: header.type, outcome: "dead", started: started)
            }
        }
    }

    private func retry(_ delivery: Delivery, attempt: Int, delay: Duration, reason: String) async {
        var properties = delivery.properties
        properties.headers[Header.retryCount] = .int(Int64(attempt))
        properties.headers[Header.error] = .string(String(reason.prefix(1000)))
        properties.headers[Header.originalExchange] = properties.headers[Header.originalExchange] ?? .string(delivery.exchange)
        properties.headers[Header.originalRoutingKey] = properties.headers[Header.originalRoutingKey] ?? .string(delivery.routingKey)
        let message = OutgoingMessage(
            exchange: Exchange.retry, routingKey: Topology.retryQueue(configuration.service, delay: delay),
            properties: properties, body: delivery.body)
        await forward(message, replacing: delivery)
    }

    private func deadLetter(_ delivery: Delivery, reason: String, code: String) async {
        var properties = delivery.properties
        properties.headers[Header.error] = .string(String(reason.prefix(1000)))
        properties.headers[Header.errorCode] = .string(code)
        properties.headers[Header.service] = .string(configuration.service)
        properties.headers[Header.failedAt] = .string(ISO8601.format(Date()))
        properties.headers[Header.originalExchange] = properties.headers[Header.originalExchange] ?? .string(delivery.exchange)
        properties.headers[Header.originalRoutingKey] = properties.headers[Header.originalRoutingKey] ?? .string(delivery.routingKey)
        if properties.messageId == nil { properties.messageId = UUID().uuidString.lowercased() }
        let message = OutgoingMessage(
            exchange: Exchange.dead, routingKey: Topology.deadQueue(configuration.service),
            properties: properties, body: delivery.body)
        await forward(message, replacing: delivery)
    }

    /// Publishes the copy and only then acknowledges the original; if the copy is not
    /// confirmed, the original goes back to the queue instead of being lost.
    private func forward(_ message: OutgoingMessage, replacing delivery: Delivery) async {
        do {
            try await publisher.publish(message, timeout: .seconds(10))
            connection.ack(delivery)
        } catch {
            logger.error("cannot forward message; requeueing it", metadata: [
                "to": "\(message.routingKey)", "error": "\(error)",
            ])
            connection.reject(delivery, requeue: true)
        }
    }

    private func record(type: String, outcome: String, started: ContinuousClock.Instant) {
        let (counter, timer) = metrics.instruments(type: type, outcome: outcome)
        counter.increment()
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// A readable reason for a failure, naming the field for decoding errors.
    public static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return "invalid JSON: \(context.debugDescription)"
            case .keyNotFound(let key, let context):
                return "missing field \(path(context.codingPath + [key]))"
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                return "wrong type at \(path(context.codingPath)): \(context.debugDescription)"
            @unknown default: return "\(decoding)"
            }
        }
        return "\(error)"
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "(root)" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// The consumer's counters and timers, made once per message type and outcome: looking them
/// up in the metrics factory for every message showed in profiles.
final class ConsumerMetrics: Sendable {
    private let service: String
    private let instruments = Mutex<[String: (Counter, Timer)]>([:])

    init(service: String) { self.service = service }

    /// Types come off the wire: past this many label sets, new ones are counted as `other` so a
    /// flood of made-up types cannot grow the metrics without bound.
    static let limit = 512

    func instruments(type: String, outcome: String) -> (Counter, Timer) {
        var type = type
        var key = type + "\u{0}" + outcome
        let (found, full) = instruments.withLock { ($0[key], $0.count >= Self.limit) }
        if let found { return found }
        if full {
            type = "other"
            key = type + "\u{0}" + outcome
            if let found = instruments.withLock({ $0[key] }) { return found }
        }
        let made = (Counter(label: "convene_messages_consumed_total",
                            dimensions: [("service", service), ("type", type), ("outcome", outcome)]),
                    Timer(label: "convene_message_processing_seconds", dimensions: [("service", service), ("type", type)]))
        return instruments.withLock { instruments in
            if let found = instruments[key] { return found }
            instruments[key] = made
            return made
        }
    }
}
