import CRabbitMQ
import Contracts
import Logging
import ThreadExecutor
import Synchronization

/// Consumes one queue with manual acknowledgements on a connection of its own, driven by one
/// dedicated thread. Deliveries are taken with `take(max:)` (all that piled up, so consumers can
/// share one transaction among them) or `batches`; acknowledgements go back through
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

    private let buffer = DeliveryBuffer()
    private let loop: ConsumerLoop

    public init(_ configuration: Configuration, logger: Logger) {
        loop = ConsumerLoop(configuration, buffer: buffer, logger: logger)
        let loop = self.loop
        spawnDedicatedThread(name: "amqp-consume") { loop.run() }
    }

    /// The queue being consumed: for a server-named queue, the name of the current connection's.
    public var queueName: String? { loop.currentQueue.withLock { $0 } }

    /// Everything that arrived and was not taken yet, up to `max`; waits for the first delivery.
    /// Returns `[]` once consumption stopped and everything was taken.
    public func take(max: Int) async -> [Delivery] {
        await buffer.take(max: max)
    }

    /// The deliveries, in groups as they were taken. One iteration at a time.
    public var batches: AsyncStream<[Delivery]> {
        let buffer = self.buffer
        return AsyncStream {
            let taken = await buffer.take(max: .max)
            return taken.isEmpty ? nil : taken
        }
    }
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

    /// Cancels the subscription: no new deliveries; `take` returns `[]` once the rest is taken.
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
    private let buffer: DeliveryBuffer
    private let logger: Logger
    private let consumerTag: String

    private var session: AMQPSession?
    private var generation: UInt64 = 0
    private var ledger = AckLedger()
    private var consuming = true
    private var backoff: ReconnectBackoff

    init(_ configuration: ConsumerConnection.Configuration, buffer: DeliveryBuffer, logger: Logger) {
        self.configuration = configuration
        backoff = ReconnectBackoff(cap: configuration.amqp.maxReconnectDelay)
        self.buffer = buffer
        var logger = logger
        logger[metadataKey: "component"] = "consumer"
        self.logger = logger
        consumerTag = "\(configuration.amqp.connectionName)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    func run() {
        while true {
            var acks: [UInt64] = []
            for command in mailbox.drain() {
                switch command {
                case .ack(let tag, let generation):
                    if generation == self.generation { acks.append(tag) }
                case .reject(let tag, let generation, let requeue):
                    guard let session, generation == self.generation else { continue }
                    ledger.settle(tag)
                    let status = amqp_basic_nack(session.connection, session.channel, tag, 0, requeue ? 1 : 0)
                    if status != AMQP_STATUS_OK.rawValue { connectionLost("nack failed: \(AMQPSession.describe(status))") }
                case .stopConsuming:
                    sendAcks(&acks)
                    cancelSubscription()
                case .close(let done):
                    sendAcks(&acks)
                    session?.close()
                    session = nil
                    connected.store(false, ordering: .relaxed)
                    if consuming { consuming = false; buffer.finish() }
                    done()
                    idleForever()
                }
            }
            sendAcks(&acks)
            if session == nil {
                if consuming { connectIfDue() }
                if session == nil {
                    let wait = consuming ? backoff.millisecondsUntilDue : 1000
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
        guard backoff.isDue else { return }
        do {
            let session = try AMQPSession(configuration.amqp)
            try session.declare(configuration.topology)
            let queue = try session.declareQueue(configuration.queue)
            _ = amqp_basic_qos(session.connection, session.channel, 0, UInt16(clamping: configuration.prefetch), 0)
            try session.checkLastReply("basic.qos")
            _ = convene_amqp_basic_consume(session.connection, session.channel, queue, consumerTag)
            try session.checkLastReply("basic.consume \(queue)")
            generation += 1
            ledger = AckLedger()
            self.session = session
            currentQueue.withLock { $0 = queue }
            connected.store(true, ordering: .relaxed)
            backoff.succeeded()
            logger.info("consuming", metadata: ["queue": "\(queue)", "prefetch": "\(configuration.prefetch)"])
        } catch {
            logger.warning("consumer cannot connect; retrying", metadata: [
                "error": "\(error)", "retryInMs": "\(backoff.delay.inMilliseconds)",
            ])
            backoff.failed()
        }
    }

    /// Reads every delivery already available without blocking, and hands them on together.
    private func readAvailable() {
        var batch: [Delivery] = []
        defer { buffer.push(batch) }
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
                ledger.delivered(delivery.deliveryTag)
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

    /// Acknowledges what handlers finished: one `multiple` ack for the finished run at the front
    /// of the outstanding deliveries, single acks for finished ones behind a delivery still in
    /// work. A burst of 32 acks costs one frame instead of 32.
    private func sendAcks(_ tags: inout [UInt64]) {
        guard !tags.isEmpty else { return }
        defer { tags.removeAll() }
        guard let session else { return }
        let (upTo, singles) = ledger.acknowledge(tags)
        for tag in singles {
            let status = amqp_basic_ack(session.connection, session.channel, tag, 0)
            if status != AMQP_STATUS_OK.rawValue { connectionLost("ack failed: \(AMQPSession.describe(status))"); return }
        }
        if let upTo {
            let status = amqp_basic_ack(session.connection, session.channel, upTo, 1)
            if status != AMQP_STATUS_OK.rawValue { connectionLost("ack failed: \(AMQPSession.describe(status))") }
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
        buffer.finish()
        logger.info("stopped consuming")
    }

    private func connectionLost(_ reason: String) {
        guard let session else { return }
        logger.warning("consumer connection lost; reconnecting", metadata: ["reason": "\(reason)"])
        session.abandon()
        self.session = nil
        currentQueue.withLock { $0 = nil }
        connected.store(false, ordering: .relaxed)
        backoff.lost()
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

/// The deliveries of one connection not yet settled, in delivery order, so acknowledgements can
/// be coalesced without ever covering a delivery still in work (a `multiple` ack settles every
/// outstanding tag up to its own).
struct AckLedger {
    private enum State { case inWork, finished, settled }
    private var tags: [UInt64] = []
    private var states: [State] = []
    private var head = 0

    mutating func delivered(_ tag: UInt64) {
        tags.append(tag)
        states.append(.inWork)
    }

    /// Marks a delivery settled by other means (a reject).
    mutating func settle(_ tag: UInt64) {
        if let index = index(of: tag) { states[index] = .settled }
    }

    /// Records finished deliveries; returns the tag to ack with `multiple` (nil if none) and the
    /// tags to ack one by one.
    mutating func acknowledge(_ finished: [UInt64]) -> (upTo: UInt64?, singles: [UInt64]) {
        for tag in finished {
            if let index = index(of: tag), states[index] == .inWork { states[index] = .finished }
        }
        var upTo: UInt64?
        while head < tags.count && states[head] != .inWork {
            if states[head] == .finished { upTo = tags[head] }
            head += 1
        }
        var singles: [UInt64] = []
        for index in head..<tags.count where states[index] == .finished {
            states[index] = .settled
            singles.append(tags[index])
        }
        if head > 4096 && head * 2 > tags.count {
            tags.removeFirst(head)
            states.removeFirst(head)
            head = 0
        }
        return (upTo, singles)
    }

    /// Tags of one channel grow by one per delivery, so a tag's place is an offset from the first.
    private func index(of tag: UInt64) -> Int? {
        guard let first = tags.first, tag >= first else { return nil }
        let index = Int(tag - first)
        return index < tags.count && tags[index] == tag ? index : nil
    }
}
