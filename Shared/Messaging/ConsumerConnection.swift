import CRabbitMQ
import Contracts
import Logging
import ThreadExecutor
import Synchronization

/// Consumes one queue with manual acknowledgements on a connection of its own, driven by one
/// dedicated thread. Deliveries come out of `batches` (all that arrived together, so consumers
/// can share one transaction among them); acknowledgements go back through
/// `ack`/`reject`, which the same thread sends (rabbitmq-c connections are single-threaded).
///
/// After a connection loss it reconnects with capped back-off, redeclares its topology and
/// resubscribes. Unacknowledged deliveries of the lost connection are requeued by the broker,
/// so acknowledgements for them are dropped (each delivery carries its connection generation).
public final class ConsumerConnection: Sendable {
    public struct Configuration: Sendable {
        public var amqp: AMQPConfiguration
        public var topology: Topology
        /// The queue to consume; declared after the topology (it may be server-named).
        public var queue: QueueDeclaration
        public var prefetch: Int
        public init(amqp: AMQPConfiguration, topology: Topology, queue: QueueDeclaration, prefetch: Int) {
            self.amqp = amqp
            self.topology = topology
            self.queue = queue
            self.prefetch = prefetch
        }
    }

    public let batches: AsyncStream<[Delivery]>
    private let loop: ConsumerLoop

    public init(_ configuration: Configuration, logger: Logger) {
        let (stream, continuation) = AsyncStream<[Delivery]>.makeStream(bufferingPolicy: .unbounded)
        batches = stream
        loop = ConsumerLoop(configuration, continuation: continuation, logger: logger)
        let loop = self.loop
        spawnDedicatedThread(name: "amqp-consume") { loop.run() }
    }

    /// The queue being consumed: for a server-named queue, the name of the current connection's.
    public var queueName: String? { loop.currentQueue.withLock { $0 } }
    public var isConnected: Bool { loop.connected.load(ordering: .relaxed) }

    /// Waits until the consumer is subscribed (or `timeout` passes). Returns whether it is.
    public func waitUntilConsuming(timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if isConnected && queueName != nil { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return isConnected && queueName != nil
    }

    public func ack(_ delivery: Delivery) {
        loop.mailbox.post(.ack(delivery.deliveryTag, generation: delivery.connectionGeneration))
    }

    /// Rejects a delivery; with `requeue` the broker offers it again (a quorum queue counts it
    /// towards the delivery limit).
    public func reject(_ delivery: Delivery, requeue: Bool) {
        loop.mailbox.post(.reject(delivery.deliveryTag, generation: delivery.connectionGeneration, requeue: requeue))
    }

    /// Cancels the subscription: no new deliveries; `batches` ends once the broker confirms.
    /// Acknowledgements still work until `close`.
    public func stopConsuming() {
        loop.mailbox.post(.stopConsuming)
    }

    /// Closes the connection; unacknowledged deliveries go back to the queue.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.mailbox.post(.close { continuation.resume() })
        }
    }
}

enum ConsumerCommand: Sendable {
    case ack(UInt64, generation: UInt64)
    case reject(UInt64, generation: UInt64, requeue: Bool)
    case stopConsuming
    case close(@Sendable () -> Void)
}

final class ConsumerLoop: @unchecked Sendable {
    let mailbox = Mailbox<ConsumerCommand>()
    let connected = Atomic<Bool>(false)
    let currentQueue = Mutex<String?>(nil)
    private let configuration: ConsumerConnection.Configuration
    private let continuation: AsyncStream<[Delivery]>.Continuation
    private let logger: Logger
    private let consumerTag: String

    private var session: AMQPSession?
    private var generation: UInt64 = 0
    private var consuming = true
    private var reconnectDelay: Duration = .milliseconds(100)
    private var nextAttempt = ContinuousClock.now

    init(_ configuration: ConsumerConnection.Configuration, continuation: AsyncStream<[Delivery]>.Continuation, logger: Logger) {
        self.configuration = configuration
        self.continuation = continuation
        var logger = logger
        logger[metadataKey: "component"] = "consumer"
        self.logger = logger
        consumerTag = "\(configuration.amqp.connectionName)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    func run() {
        while true {
            for command in mailbox.drain() {
                switch command {
                case .ack(let tag, let generation):
                    guard let session, generation == self.generation else { continue }
                    let status = amqp_basic_ack(session.connection, session.channel, tag, 0)
                    if status != AMQP_STATUS_OK.rawValue { connectionLost("ack failed: \(AMQPSession.describe(status))") }
                case .reject(let tag, let generation, let requeue):
                    guard let session, generation == self.generation else { continue }
                    let status = amqp_basic_nack(session.connection, session.channel, tag, 0, requeue ? 1 : 0)
                    if status != AMQP_STATUS_OK.rawValue { connectionLost("nack failed: \(AMQPSession.describe(status))") }
                case .stopConsuming:
                    cancelSubscription()
                case .close(let done):
                    session?.close()
                    session = nil
                    connected.store(false, ordering: .relaxed)
                    if consuming { consuming = false; continuation.finish() }
                    done()
                    idleForever()
                }
            }
            if session == nil {
                if consuming { connectIfDue() }
                if session == nil {
                    let wait = consuming ? max(1, (nextAttempt - ContinuousClock.now).inMilliseconds) : 1000
                    mailbox.wait(socket: nil, timeoutMilliseconds: Int32(min(wait, 1000)))
                    continue
                }
            }
            guard let session else { continue }
            if !session.hasBufferedInput {
                mailbox.wait(socket: session.socketDescriptor,
                             timeoutMilliseconds: Int32(max(1, configuration.amqp.heartbeat * 1000 / 2)))
            }
            readAvailable()
        }
    }

    private func connectIfDue() {
        guard ContinuousClock.now >= nextAttempt else { return }
        do {
            let session = try AMQPSession(configuration.amqp)
            try session.declare(configuration.topology)
            let queue = try session.declareQueue(configuration.queue)
            _ = amqp_basic_qos(session.connection, session.channel, 0, UInt16(clamping: configuration.prefetch), 0)
            try session.checkLastReply("basic.qos")
            _ = convene_amqp_basic_consume(session.connection, session.channel, queue, consumerTag)
            try session.checkLastReply("basic.consume \(queue)")
            generation += 1
            self.session = session
            currentQueue.withLock { $0 = queue }
            connected.store(true, ordering: .relaxed)
            reconnectDelay = .milliseconds(100)
            logger.info("consuming", metadata: ["queue": "\(queue)", "prefetch": "\(configuration.prefetch)"])
        } catch {
            logger.warning("consumer cannot connect; retrying", metadata: [
                "error": "\(error)", "retryInMs": "\(reconnectDelay.inMilliseconds)",
            ])
            nextAttempt = ContinuousClock.now.advanced(by: reconnectDelay)
            reconnectDelay = min(reconnectDelay * 2, configuration.amqp.maxReconnectDelay)
        }
    }

    /// Reads every delivery already available without blocking, and hands them on together.
    private func readAvailable() {
        var batch: [Delivery] = []
        defer { if !batch.isEmpty { continuation.yield(batch) } }
        var zero = convene_timeval(0, 0)
        while let session {
            amqp_maybe_release_buffers(session.connection)
            var envelope = amqp_envelope_t()
            let reply = amqp_consume_message(session.connection, &envelope, &zero, 0)
            switch reply.reply_type {
            case AMQP_RESPONSE_NORMAL:
                let properties = withUnsafePointer(to: envelope.message.properties) { convene_read_props($0) }
                let delivery = Delivery(
                    deliveryTag: envelope.delivery_tag, connectionGeneration: generation,
                    redelivered: envelope.redelivered != 0, exchange: envelope.exchange.string,
                    routingKey: envelope.routing_key.string, properties: properties.messageProperties,
                    body: envelope.message.body.byteArray)
                amqp_destroy_envelope(&envelope)
                batch.append(delivery)
            case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
                return
            case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue:
                handleOtherFrame(session)
            default:
                let reason = reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
                    ? AMQPSession.describe(reply.library_error) : "unexpected reply"
                connectionLost(reason)
                return
            }
        }
    }

    /// A frame that is not a delivery: a close from the broker, a server-side cancel (queue
    /// deleted), or the answer to our own cancel.
    private func handleOtherFrame(_ session: AMQPSession) {
        var frame = amqp_frame_t()
        guard amqp_simple_wait_frame(session.connection, &frame) == AMQP_STATUS_OK.rawValue else {
            connectionLost("cannot read frame")
            return
        }
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }
        let method = convene_frame_method(&frame)
        switch method.id {
        case CONVENE_CHANNEL_CLOSE, CONVENE_CONNECTION_CLOSE:
            var code: UInt16 = 0
            var text = amqp_bytes_t()
            _ = convene_close_reason(method, &code, &text)
            connectionLost("broker closed (\(code)): \(text.string)")
        case CONVENE_BASIC_CANCEL:
            connectionLost("broker cancelled the subscription (queue deleted?)")
        default:
            return
        }
    }

    private func cancelSubscription() {
        guard consuming else { return }
        consuming = false
        if let session {
            // Deliveries that arrive before cancel-ok are queued by rabbitmq-c and still read.
            _ = convene_amqp_basic_cancel(session.connection, session.channel, consumerTag)
            if (try? session.checkLastReply("basic.cancel")) == nil {
                connectionLost("cancel failed")
            } else {
                readAvailable()
            }
        }
        continuation.finish()
        logger.info("stopped consuming")
    }

    private func connectionLost(_ reason: String) {
        guard let session else { return }
        logger.warning("consumer connection lost; reconnecting", metadata: ["reason": "\(reason)"])
        session.abandon()
        self.session = nil
        currentQueue.withLock { $0 = nil }
        connected.store(false, ordering: .relaxed)
        nextAttempt = ContinuousClock.now
    }

    /// After close the thread only answers later calls, so none of them waits forever.
    private func idleForever() -> Never {
        while true {
            for command in mailbox.drain() {
                if case .close(let done) = command { done() }
            }
            mailbox.wait(socket: nil, timeoutMilliseconds: -1)
        }
    }
}
