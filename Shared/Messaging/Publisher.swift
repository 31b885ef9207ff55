import CRabbitMQ
import Contracts
import Logging
import ThreadExecutor
import Synchronization

/// Publishes with publisher confirms on a connection of its own, driven by one dedicated thread.
///
/// Messages are written back to back and their confirms collected as they come (up to `window`
/// unconfirmed at a time), so a batch costs one round trip, not one per message. A `basic.nack`
/// or a `basic.return` (a mandatory message no queue took) fails that message's publish. When
/// the connection drops, the publisher reconnects with capped back-off, redeclares its topology
/// and resends everything still unconfirmed: a message may arrive twice, never zero times.
public final class Publisher: Sendable {
    public struct Configuration: Sendable {
        public var amqp: AMQPConfiguration
        public var topology: Topology
        /// Unconfirmed messages allowed at once.
        public var window: Int
        public init(amqp: AMQPConfiguration, topology: Topology = .exchanges, window: Int = 1000) {
            self.amqp = amqp
            self.topology = topology
            self.window = window
        }
    }

    private let loop: PublisherLoop

    public init(_ configuration: Configuration, logger: Logger) {
        loop = PublisherLoop(configuration, logger: logger)
        let loop = self.loop
        spawnDedicatedThread(name: "amqp-publish") { loop.run() }
    }

    public var isConnected: Bool { loop.connected.load(ordering: .relaxed) }

    /// Publishes one message and returns once the broker confirmed it.
    public func publish(_ message: OutgoingMessage, timeout: Duration = .seconds(30)) async throws {
        let results = await publish([message], timeout: timeout)
        if case .failure(let error) = results[0] { throw error }
    }

    /// Publishes messages in order and returns each one's outcome once all are settled.
    public func publish(_ messages: [OutgoingMessage], timeout: Duration = .seconds(30)) async -> [Result<Void, AMQPError>] {
        guard !messages.isEmpty else { return [] }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        return await withCheckedContinuation { continuation in
            let batch = BatchCompletion(count: messages.count, continuation: continuation)
            let requests = messages.enumerated().map { index, message in
                var message = message
                if message.properties.messageId == nil {
                    message.properties.messageId = UUID().uuidString.lowercased()
                }
                return PublishRequest(message: message, deadline: deadline) { batch.complete(index, $0) }
            }
            loop.mailbox.post(.publish(requests))
        }
    }

    /// Waits (up to `grace`) for unconfirmed messages, then closes the connection. Later
    /// publishes fail with `.shutDown`.
    public func shutdown(grace: Duration = .seconds(5)) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.mailbox.post(.stop(deadline: ContinuousClock.now.advanced(by: grace), done: { continuation.resume() }))
        }
    }
}

final class PublishRequest: Sendable {
    let message: OutgoingMessage
    let deadline: ContinuousClock.Instant
    private let completion: @Sendable (Result<Void, AMQPError>) -> Void
    /// A request can time out while still in flight; its late ack must not complete it twice.
    private let done = Atomic<Bool>(false)

    init(message: OutgoingMessage, deadline: ContinuousClock.Instant,
         completion: @escaping @Sendable (Result<Void, AMQPError>) -> Void) {
        self.message = message
        self.deadline = deadline
        self.completion = completion
    }

    var isDone: Bool { done.load(ordering: .acquiring) }

    func complete(_ result: Result<Void, AMQPError>) {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else { return }
        completion(result)
    }
}

/// Resumes one continuation when every message of a batch has its outcome.
private final class BatchCompletion: Sendable {
    private let state: Mutex<(remaining: Int, results: [Result<Void, AMQPError>])>
    private let continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>

    init(count: Int, continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>) {
        state = Mutex((count, Array(repeating: .failure(.shutDown), count: count)))
        self.continuation = continuation
    }

    func complete(_ index: Int, _ result: Result<Void, AMQPError>) {
        let done: [Result<Void, AMQPError>]? = state.withLock { state in
            state.results[index] = result
            state.remaining -= 1
            return state.remaining == 0 ? state.results : nil
        }
        if let done { continuation.resume(returning: done) }
    }
}

enum PublisherCommand: Sendable {
    case publish([PublishRequest])
    case stop(deadline: ContinuousClock.Instant, done: @Sendable () -> Void)
}

/// The publisher's state, touched only by its own thread (except the mailbox and `connected`).
final class PublisherLoop: @unchecked Sendable {
    let mailbox = Mailbox<PublisherCommand>()
    let connected = Atomic<Bool>(false)
    private let configuration: Publisher.Configuration
    private let logger: Logger

    private var session: AMQPSession?
    private var pending: [PublishRequest] = []
    private var pendingHead = 0
    private var inFlight: [(tag: UInt64, request: PublishRequest)] = []
    private var inFlightHead = 0
    private var nextTag: UInt64 = 1
    private var returned: [String: (exchange: String, routingKey: String)] = [:]
    private var backoff: ReconnectBackoff
    private var nextExpiryCheck = ContinuousClock.now
    private var stopDeadline: ContinuousClock.Instant?
    private var stopDone: [@Sendable () -> Void] = []

    init(_ configuration: Publisher.Configuration, logger: Logger) {
        self.configuration = configuration
        backoff = ReconnectBackoff(cap: configuration.amqp.maxReconnectDelay)
        var logger = logger
        logger[metadataKey: "component"] = "publisher"
        self.logger = logger
    }

    func run() {
        while true {
            for command in mailbox.drain() {
                switch command {
                case .publish(let requests):
                    if stopDeadline != nil {
                        requests.forEach { $0.complete(.failure(.shutDown)) }
                    } else {
                        pending.append(contentsOf: requests)
                    }
                case .stop(let deadline, let done):
                    stopDeadline = stopDeadline.map { min($0, deadline) } ?? deadline
                    stopDone.append(done)
                }
            }
            expireOverdue()
            if let stopDeadline, (pendingCount == 0 && inFlightCount == 0) || ContinuousClock.now >= stopDeadline {
                finish()
                return
            }
            if session == nil {
                connectIfDue()
                if session == nil {
                    let wait = backoff.millisecondsUntilDue
                    mailbox.wait(socket: nil, timeoutMilliseconds: Int32(min(wait, 1000)))
                    continue
                }
            }
            writePending()
            guard let session else { continue }
            if !session.hasBufferedInput {
                mailbox.wait(socket: session.socketDescriptor, timeoutMilliseconds: pollTimeout)
            }
            readFrames()
        }
    }

    private var pendingCount: Int { pending.count - pendingHead }
    private var inFlightCount: Int { inFlight.count - inFlightHead }

    private var pollTimeout: Int32 {
        var timeout = Int64(configuration.amqp.heartbeat) * 1000 / 2
        if timeout <= 0 { timeout = 1000 }
        // The nearest deadline of a request still waiting: one that already timed out keeps its
        // slot until its ack, and counting it would turn this wait into a 1 ms spin.
        let waiting = inFlight[inFlightHead...].first { $0.tag != 0 && !$0.request.isDone }?.request
        if let first = waiting?.deadline ?? pending[pendingHead...].first?.deadline {
            timeout = min(timeout, max(1, (first - ContinuousClock.now).inMilliseconds))
        }
        return Int32(timeout)
    }

    private func connectIfDue() {
        guard backoff.isDue else { return }
        do {
            let session = try AMQPSession(configuration.amqp)
            _ = amqp_confirm_select(session.connection, session.channel)
            try session.checkLastReply("confirm.select")
            try session.declare(configuration.topology)
            self.session = session
            connected.store(true, ordering: .relaxed)
            backoff.succeeded()
            nextTag = 1
            // Whatever was written but not confirmed on the old connection goes out again first.
            if inFlightCount > 0 {
                let resend = inFlight[inFlightHead...].filter { $0.tag != 0 && !$0.request.isDone }.map(\.request)
                pending = resend + pending[pendingHead...]
                pendingHead = 0
                logger.info("publisher reconnected, resending unconfirmed messages", metadata: ["count": "\(resend.count)"])
            } else {
                logger.info("publisher connected", metadata: ["broker": "\(configuration.amqp.redacted)"])
            }
            inFlight.removeAll(keepingCapacity: true)
            inFlightHead = 0
            returned.removeAll()
        } catch {
            logger.warning("publisher cannot connect; retrying", metadata: [
                "error": "\(error)", "retryInMs": "\(backoff.delay.inMilliseconds)",
            ])
            backoff.failed()
        }
    }

    private func writePending() {
        guard let session else { return }
        while pendingHead < pending.count && inFlightCount < configuration.window {
            let request = pending[pendingHead]
            let status = publish(request.message, on: session)
            guard status == AMQP_STATUS_OK.rawValue else {
                connectionLost("publish failed: \(AMQPSession.describe(status))")
                return
            }
            inFlight.append((nextTag, request))
            nextTag += 1
            pendingHead += 1
        }
        compact()
    }

    private func readFrames() {
        guard let session else { return }
        var frame = amqp_frame_t()
        var zero = convene_timeval(0, 0)
        while true {
            amqp_maybe_release_buffers(session.connection)
            let status = amqp_simple_wait_frame_noblock(session.connection, &frame, &zero)
            if status == AMQP_STATUS_TIMEOUT.rawValue { return }
            guard status == AMQP_STATUS_OK.rawValue else {
                connectionLost(AMQPSession.describe(status))
                return
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            let method = convene_frame_method(&frame)
            switch method.id {
            case CONVENE_BASIC_ACK:
                let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                settle(upTo: ack.delivery_tag, multiple: ack.multiple != 0, nacked: false)
            case CONVENE_BASIC_NACK:
                let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                settle(upTo: nack.delivery_tag, multiple: nack.multiple != 0, nacked: true)
            case CONVENE_BASIC_RETURN:
                let ret = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
                let exchange = ret.exchange.string, key = ret.routing_key.string
                if let messageId = readReturnedMessageId(session) {
                    returned[messageId] = (exchange, key)
                } else {
                    return  // connectionLost already handled it
                }
            case CONVENE_CHANNEL_CLOSE, CONVENE_CONNECTION_CLOSE:
                var code: UInt16 = 0
                var text = amqp_bytes_t()
                let kind = convene_close_reason(method, &code, &text)
                let error = AMQPError.closedByBroker(code: Int(code), text: text.string)
                logger.error("broker closed the publishing \(kind == 1 ? "connection" : "channel")", metadata: ["error": "\(error)"])
                if kind == 2 {
                    // A channel error (e.g. a missing exchange) is about the messages just sent:
                    // resending them would fail the same way, so their callers get the error.
                    failInFlight(error)
                }
                connectionLost(error.description)
                return
            case CONVENE_CONNECTION_BLOCKED:
                logger.warning("broker blocked publishing (resource alarm)")
            case CONVENE_CONNECTION_UNBLOCKED:
                logger.info("broker unblocked publishing")
            default:
                continue
            }
        }
    }

    /// After `basic.return` come the content header and body: read them to learn which message
    /// it was (by message id) and to keep the frame stream in step.
    private func readReturnedMessageId(_ session: AMQPSession) -> String? {
        var frame = amqp_frame_t()
        guard amqp_simple_wait_frame(session.connection, &frame) == AMQP_STATUS_OK.rawValue,
              frame.frame_type == UInt8(AMQP_FRAME_HEADER) else {
            connectionLost("unexpected frame after basic.return")
            return nil
        }
        let bodySize = convene_frame_body_size(&frame)
        let properties = convene_frame_properties(&frame).assumingMemoryBound(to: amqp_basic_properties_t.self)
        let messageId = convene_read_props(properties).message_id.string
        var received: UInt64 = 0
        while received < bodySize {
            guard amqp_simple_wait_frame(session.connection, &frame) == AMQP_STATUS_OK.rawValue,
                  frame.frame_type == UInt8(AMQP_FRAME_BODY) else {
                connectionLost("unexpected frame in a returned message")
                return nil
            }
            received += UInt64(convene_frame_body_fragment(&frame).len)
        }
        return messageId
    }

    private func settle(upTo tag: UInt64, multiple: Bool, nacked: Bool) {
        var index = inFlightHead
        while index < inFlight.count {
            let entry = inFlight[index]
            if entry.tag > tag { break }
            if entry.tag != 0 && (multiple || entry.tag == tag) {
                let id = entry.request.message.properties.messageId ?? ""
                if nacked {
                    entry.request.complete(.failure(.nacked))
                } else if let route = returned.removeValue(forKey: id) {
                    entry.request.complete(.failure(.unroutable(exchange: route.exchange, routingKey: route.routingKey)))
                } else {
                    entry.request.complete(.success(()))
                }
                inFlight[index].tag = 0  // settled
            }
            index += 1
        }
        while inFlightHead < inFlight.count && inFlight[inFlightHead].tag == 0 { inFlightHead += 1 }
        compact()
    }

    private func failInFlight(_ error: AMQPError) {
        for entry in inFlight[inFlightHead...] where entry.tag != 0 { entry.request.complete(.failure(error)) }
        inFlight.removeAll(keepingCapacity: true)
        inFlightHead = 0
    }

    private func expireOverdue() {
        let now = ContinuousClock.now
        // A scan per loop turn would cost O(window) per frame; ten a second is precise enough.
        guard now >= nextExpiryCheck else { return }
        nextExpiryCheck = now.advanced(by: .milliseconds(100))
        guard pending[pendingHead...].contains(where: { $0.deadline <= now })
                || inFlight[inFlightHead...].contains(where: { $0.tag != 0 && $0.request.deadline <= now }) else { return }
        let overdue = pending[pendingHead...].filter { $0.deadline <= now }
        pending = pending[pendingHead...].filter { $0.deadline > now }
        pendingHead = 0
        overdue.forEach { $0.complete(.failure(.timedOut)) }
        // In-flight ones keep their slot so later acks still line up; completing is idempotent.
        for entry in inFlight[inFlightHead...] where entry.tag != 0 && entry.request.deadline <= now {
            entry.request.complete(.failure(.timedOut))
        }
    }

    private func compact() {
        if pendingHead > 1024 && pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        if inFlightHead > 1024 && inFlightHead * 2 > inFlight.count {
            inFlight.removeFirst(inFlightHead)
            inFlightHead = 0
        }
    }

    private func connectionLost(_ reason: String) {
        logger.warning("publisher connection lost; reconnecting", metadata: ["reason": "\(reason)"])
        session?.abandon()
        session = nil
        connected.store(false, ordering: .relaxed)
        backoff.lost()
    }

    private func finish() {
        for request in pending[pendingHead...] { request.complete(.failure(.shutDown)) }
        for entry in inFlight[inFlightHead...] where entry.tag != 0 { entry.request.complete(.failure(.shutDown)) }
        pending.removeAll()
        inFlight.removeAll()
        session?.close()
        session = nil
        connected.store(false, ordering: .relaxed)
        stopDone.forEach { $0() }
        // The thread stays to answer later calls, which would otherwise wait forever.
        while true {
            for command in mailbox.drain() {
                switch command {
                case .publish(let requests): requests.forEach { $0.complete(.failure(.shutDown)) }
                case .stop(_, let done): done()
                }
            }
            mailbox.wait(socket: nil, timeoutMilliseconds: -1)
        }
    }
}
