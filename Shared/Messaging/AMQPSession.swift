import CRabbitMQ
import Contracts
#if canImport(Glibc)
import Glibc
#endif

/// One open rabbitmq-c connection with one channel. Not thread-safe by design: it is created,
/// used and closed by a single loop thread (rabbitmq-c forbids sharing a connection).
final class AMQPSession {
    let connection: amqp_connection_state_t
    let channel: amqp_channel_t = 1
    private var open = true

    init(_ config: AMQPConfiguration) throws {
        guard let connection = amqp_new_connection() else { throw AMQPError.connectionFailed("out of memory") }
        self.connection = connection
        // Once every property is set, a throwing init still runs deinit: each failure below
        // releases the connection here and marks it closed so deinit does not release it again.
        guard let socket = amqp_tcp_socket_new(connection) else {
            abandon()
            throw AMQPError.connectionFailed("cannot create a socket")
        }
        var timeout = config.connectTimeout.timeval
        let status = amqp_socket_open_noblock(socket, config.host, Int32(config.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            abandon()
            throw AMQPError.connectionFailed("\(config.host):\(config.port): \(Self.describe(status))")
        }
        let login = convene_amqp_login_plain(connection, config.virtualHost, 131_072, Int32(config.heartbeat),
                                             config.user, config.password)
        do {
            try Self.check(login, connection: connection, "login")
            _ = amqp_channel_open(connection, channel)
            try Self.check(amqp_get_rpc_reply(connection), connection: connection, "channel.open")
        } catch {
            abandon()
            throw error
        }
    }

    deinit { close() }

    var socketDescriptor: Int32 { amqp_get_sockfd(connection) }

    /// Whether rabbitmq-c already holds bytes or frames that a poll on the socket would not show.
    var hasBufferedInput: Bool {
        amqp_frames_enqueued(connection) != 0 || amqp_data_in_buffer(connection) != 0
    }

    func close() {
        guard open else { return }
        open = false
        _ = amqp_channel_close(connection, channel, Int32(AMQP_REPLY_SUCCESS))
        _ = amqp_connection_close(connection, Int32(AMQP_REPLY_SUCCESS))
        amqp_destroy_connection(connection)
    }

    /// Drops the connection without the closing handshake (used when it is already broken).
    func abandon() {
        guard open else { return }
        open = false
        amqp_destroy_connection(connection)
    }

    func checkLastReply(_ context: String) throws {
        try Self.check(amqp_get_rpc_reply(connection), connection: connection, context)
    }

    func declare(_ topology: Topology) throws {
        for exchange in topology.exchanges {
            _ = convene_amqp_exchange_declare(connection, channel, exchange.name, exchange.kind.rawValue)
            try checkLastReply("exchange.declare \(exchange.name)")
        }
        for queue in topology.queues {
            _ = try declareQueue(queue)
        }
        for binding in topology.bindings {
            _ = convene_amqp_queue_bind(connection, channel, binding.queue, binding.exchange, binding.routingKey)
            try checkLastReply("queue.bind \(binding.queue) ← \(binding.exchange) \(binding.routingKey)")
        }
    }

    /// Declares a queue and returns its name (the broker's, for a server-named queue).
    func declareQueue(_ queue: QueueDeclaration) throws -> String {
        var table = convene_table()
        convene_table_init(&table)
        defer { convene_table_free(&table) }
        fill(&table, from: queue.arguments)
        let ok = convene_amqp_queue_declare(connection, channel, queue.name, queue.durable ? 1 : 0,
                                            queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, &table)
        try checkLastReply("queue.declare \(queue.name.isEmpty ? "(server-named)" : queue.name)")
        guard let ok else { throw AMQPError.library("queue.declare returned nothing") }
        return ok.pointee.queue.string
    }

    static func check(_ reply: amqp_rpc_reply_t, connection: amqp_connection_state_t, _ context: String) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_NONE:
            throw AMQPError.library("\(context): missing RPC reply")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw AMQPError.library("\(context): \(describe(reply.library_error))")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            var code: UInt16 = 0
            var text = amqp_bytes_t()
            if convene_close_reason(reply.reply, &code, &text) == 1 {
                _ = amqp_send_method(connection, 0, AMQP_CONNECTION_CLOSE_OK_METHOD_ID, nil)
            }
            throw AMQPError.closedByBroker(code: Int(code), text: "\(context): \(text.string)")
        default:
            throw AMQPError.library("\(context): unknown reply type")
        }
    }

    static func describe(_ status: Int32) -> String {
        guard let text = amqp_error_string2(status) else { return "status \(status)" }
        return String(cString: text)
    }
}

/// When a loop thread may try to connect again: at once after a loss, then doubling pauses from
/// 100 ms up to the configured cap.
struct ReconnectBackoff {
    let cap: Duration
    private(set) var delay: Duration = .milliseconds(100)
    private(set) var nextAttempt = ContinuousClock.now

    init(cap: Duration) { self.cap = cap }

    var isDue: Bool { ContinuousClock.now >= nextAttempt }

    /// Milliseconds until the next attempt (at least 1).
    var millisecondsUntilDue: Int64 { max(1, (nextAttempt - ContinuousClock.now).inMilliseconds) }

    mutating func failed() {
        nextAttempt = ContinuousClock.now.advanced(by: delay)
        delay = min(delay * 2, cap)
    }

    mutating func succeeded() { delay = .milliseconds(100) }

    mutating func lost() { nextAttempt = ContinuousClock.now }
}

/// Fills a field table from Convene's header values, in key order.
func fill(_ table: inout convene_table, from values: [String: HeaderValue]) {
    for (key, value) in values.sorted(by: { $0.key < $1.key }) {
        switch value {
        case .string(let s): _ = convene_table_add_string(&table, key, s)
        case .int(let i): _ = convene_table_add_i64(&table, key, i)
        case .bool(let b): _ = convene_table_add_bool(&table, key, b ? 1 : 0)
        }
    }
}

/// `AMQP_CONNECTION_CLOSE_OK_METHOD` is a cast macro Swift cannot import.
let AMQP_CONNECTION_CLOSE_OK_METHOD_ID: amqp_method_number_t = 0x000A_0033

extension amqp_bytes_t {
    var string: String {
        guard len > 0, let bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }

    var byteArray: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }

    var optionalString: String? { len == 0 ? nil : string }
}

extension Duration {
    var timeval: timeval {
        let (seconds, attoseconds) = components
        return convene_timeval(Int(seconds), Int(attoseconds / 1_000_000_000_000))
    }

    /// Whole milliseconds, for C timeouts, TTLs and logs.
    public var inMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension convene_props {
    var messageProperties: MessageProperties {
        var headers: [String: HeaderValue] = [:]
        if self.headers.num_entries > 0, let entries = self.headers.entries {
            for index in 0..<Int(self.headers.num_entries) {
                let entry = entries[index]
                var value = entry.value
                let key = entry.key.string
                switch Int32(convene_field_kind(&value)) {
                case Int32(AMQP_FIELD_KIND_UTF8.rawValue), Int32(AMQP_FIELD_KIND_BYTES.rawValue):
                    headers[key] = .string(convene_field_bytes(&value).string)
                case Int32(AMQP_FIELD_KIND_BOOLEAN.rawValue):
                    headers[key] = .bool(convene_field_integer(&value) != 0)
                case Int32(AMQP_FIELD_KIND_I8.rawValue), Int32(AMQP_FIELD_KIND_U8.rawValue),
                     Int32(AMQP_FIELD_KIND_I16.rawValue), Int32(AMQP_FIELD_KIND_U16.rawValue),
                     Int32(AMQP_FIELD_KIND_I32.rawValue), Int32(AMQP_FIELD_KIND_U32.rawValue),
                     Int32(AMQP_FIELD_KIND_I64.rawValue), Int32(AMQP_FIELD_KIND_U64.rawValue),
                     Int32(AMQP_FIELD_KIND_TIMESTAMP.rawValue):
                    headers[key] = .int(convene_field_integer(&value))
                default:
                    continue  // arrays and nested tables (x-death) are the broker's, not ours
                }
            }
        }
        return MessageProperties(
            messageId: message_id.optionalString, type: type.optionalString,
            correlationId: correlation_id.optionalString, replyTo: reply_to.optionalString,
            appId: app_id.optionalString, contentType: content_type.optionalString,
            timestamp: timestamp == 0 ? nil : Date(timeIntervalSince1970: TimeInterval(timestamp)),
            headers: headers)
    }
}

/// Writes an outgoing message on `session`. Returns the library status.
func publish(_ message: OutgoingMessage, on session: AMQPSession) -> Int32 {
    var table = convene_table()
    convene_table_init(&table)
    defer { convene_table_free(&table) }
    fill(&table, from: message.properties.headers)
    let p = message.properties
    let timestamp = UInt64(max(0, (p.timestamp?.timeIntervalSince1970 ?? 0).rounded(.down)))
    return message.body.withUnsafeBytes { body in
        withOptionalCString(p.messageId) { messageId in
            withOptionalCString(p.type) { type in
                withOptionalCString(p.correlationId) { correlationId in
                    withOptionalCString(p.replyTo) { replyTo in
                        withOptionalCString(p.appId) { appId in
                            withOptionalCString(p.expiration) { expiration in
                                convene_amqp_publish(
                                    session.connection, session.channel, message.exchange, message.routingKey,
                                    message.mandatory ? 1 : 0, messageId, type, correlationId, replyTo, appId,
                                    expiration, timestamp, message.persistent ? 1 : 0, &table,
                                    body.baseAddress, body.count)
                            }
                        }
                    }
                }
            }
        }
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
