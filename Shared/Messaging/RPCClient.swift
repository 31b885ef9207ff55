import Contracts
import Logging
import ServiceLifecycle
import Synchronization

/// Request/reply over the broker: the request goes to `convene.commands` with `reply_to` (a
/// private queue of this client) and a correlation id; the answer comes back to that queue.
/// Every request has a deadline: past it the caller gets `convene.timeout`, never a hang, and the
/// request itself expires in the broker so a late service does not act on a stale one.
public final class RPCClient: Service, Sendable {
    private let connection: ConsumerConnection
    private let publisher: Publisher
    private let source: String
    private let logger: Logger
    private let waiting = Mutex<[String: Slot]>([:])

    /// A request's rendezvous: the reply may arrive before the caller starts waiting for it.
    private enum Slot {
        case registered
        case waiting(CheckedContinuation<Delivery, any Error>)
        case settled(Result<Delivery, any Error>)
    }

    public init(amqp: AMQPConfiguration, publisher: Publisher, source: String, logger: Logger) {
        self.publisher = publisher
        self.source = source
        self.logger = logger
        connection = ConsumerConnection(
            .init(amqp: amqp, topology: .exchanges, queue: .privateReplyQueue, prefetch: 256), logger: logger)
    }

    public func waitUntilReady(timeout: Duration = .seconds(10)) async -> Bool {
        await connection.waitUntilConsuming(timeout: timeout)
    }

    public var isConnected: Bool { connection.isConnected }

    public func run() async throws {
        await withGracefulShutdownHandler {
            for await batch in connection.batches {
                for delivery in batch {
                    connection.ack(delivery)
                    guard let id = delivery.properties.correlationId else { continue }
                    settle(id, .success(delivery))
                }
            }
        } onGracefulShutdown: {
            self.connection.stopConsuming()
        }
        await connection.close()
        for id in waiting.withLock({ Array($0.keys) }) {
            settle(id, .failure(ConveneError.unavailable("shutting down")))
        }
    }

    /// Delivers an outcome to a request once; later outcomes for it are ignored.
    private func settle(_ id: String, _ result: Result<Delivery, any Error>) {
        let continuation: CheckedContinuation<Delivery, any Error>? = waiting.withLock { waiting in
            switch waiting[id] {
            case .registered:
                waiting[id] = .settled(result)
                return nil
            case .waiting(let continuation):
                waiting[id] = .settled(result)
                return continuation
            case .settled, .none:
                return nil
            }
        }
        continuation?.resume(with: result)
    }

    private func awaitOutcome(_ id: String) async throws -> Delivery {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<Delivery, any Error>? = waiting.withLock { waiting in
                if case .settled(let result) = waiting[id] { return result }
                waiting[id] = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// Sends `data` as a `routingKey` command and waits for the service's reply.
    public func request<Request: Codable & Sendable, Response: Codable & Sendable>(
        _ routingKey: String, _ data: Request, as response: Response.Type, timeout: Duration,
        organizationId: String? = nil, correlationId: String? = nil
    ) async throws -> Reply<Response> {
        guard let replyQueue = connection.queueName else {
            throw ConveneError.unavailable("not connected to the broker")
        }
        let envelope = Envelope(type: routingKey, source: source, correlationId: correlationId,
                                organizationId: organizationId, data: data)
        let id = envelope.id.uuidString.lowercased()
        var message = try OutgoingMessage.envelope(
            envelope, exchange: Exchange.commands, replyTo: replyQueue, expiration: String(timeout.inMilliseconds))
        message.properties.correlationId = id
        let deadline = ContinuousClock.now.advanced(by: timeout)

        waiting.withLock { $0[id] = .registered }
        defer { _ = waiting.withLock { $0.removeValue(forKey: id) } }
        let timer = Task {
            try await Task.sleep(until: deadline)
            self.settle(id, .failure(ConveneError.timeout("\(routingKey) did not answer within \(timeout)")))
        }
        defer { timer.cancel() }
        do {
            try await publisher.publish(message, timeout: max(.milliseconds(1), deadline - ContinuousClock.now))
        } catch {
            let failure: ConveneError = switch error as? AMQPError {
            case .unroutable: .unavailable("no service consumes \(routingKey)")
            case .timedOut: .timeout("\(routingKey) could not be sent in time")
            default: .unavailable("cannot send \(routingKey): \(error)")
            }
            settle(id, .failure(failure))
        }
        let delivery = try await awaitOutcome(id)
        return try ConveneJSON.decode(Reply<Response>.self, from: delivery.body)
    }
}
