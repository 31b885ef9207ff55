import Contracts
import Logging
import Messaging
import Metrics
import ServiceLifecycle

extension Transaction {
    /// Records a message to publish when this transaction commits (the outbox): the state change
    /// and the message are committed together or not at all.
    public func outbox<P: Codable & Sendable>(_ envelope: Envelope<P>, exchange: String = Exchange.events,
                                               routingKey: String? = nil) async throws {
        try await query("""
            INSERT INTO outbox (message_id, exchange, routing_key, message_type, correlation_id, body)
            VALUES ($1, $2, $3, $4, $5, $6)
            """, [envelope.id, exchange, routingKey ?? envelope.type, envelope.type, envelope.correlationId,
                  try ConveneJSON.encode(envelope)])
    }

    /// Records many messages in one statement (one round trip), e.g. a reminder per attendee.
    public func outbox<P: Codable & Sendable>(_ envelopes: [Envelope<P>], exchange: String = Exchange.events) async throws {
        guard !envelopes.isEmpty else { return }
        try await query("""
            INSERT INTO outbox (message_id, exchange, routing_key, message_type, correlation_id, body)
            SELECT id, $1, type, type, correlation, convert_to(body, 'UTF8')
            FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) AS m(id, type, correlation, body)
            """, [exchange,
                  PGTextArray(envelopes.map { $0.id.uuidString.lowercased() }),
                  PGTextArray(envelopes.map(\.type)),
                  PGTextArray(envelopes.map(\.correlationId)),
                  PGTextArray(try envelopes.map { String(decoding: try ConveneJSON.encode($0), as: UTF8.self) })])
    }
}

/// Publishes committed outbox rows in batches, with publisher confirms, and marks them sent only
/// after the broker confirmed them. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several
/// instances share the work; a crash before marking re-publishes (consumers deduplicate), never
/// loses. It wakes on the outbox trigger's NOTIFY and polls as a fallback.
public final class OutboxRelay: Service, Sendable {
    public struct Configuration: Sendable {
        public var batchSize: Int
        /// Fallback poll when no NOTIFY arrives (a missed one, or a listener reconnecting).
        public var pollInterval: Duration
        /// How long published rows are kept for inspection before being purged.
        public var retention: Duration
        /// Batches in flight at once: while one waits for the broker's confirms, another is
        /// read or marked. `SKIP LOCKED` keeps them disjoint.
        public var workers: Int
        public init(batchSize: Int = 500, pollInterval: Duration = .milliseconds(500), retention: Duration = .seconds(3 * 86_400),
                    workers: Int = 3) {
            self.batchSize = batchSize
            self.workers = workers
            self.pollInterval = pollInterval
            self.retention = retention
        }
    }

    private let pool: PGPool
    private let publisher: Publisher
    private let configuration: Configuration
    private let logger: Logger

    public init(pool: PGPool, publisher: Publisher, configuration: Configuration = Configuration(), logger: Logger) {
        self.pool = pool
        self.publisher = publisher
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "component"] = "outbox-relay"
        self.logger = logger
    }

    public func run() async throws {
        let listener = NotificationListener(pool.configuration, channel: "\(pool.schema)_outbox", logger: logger)
        var lastPurge = ContinuousClock.now
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                if await relayRound() { continue }
                if ContinuousClock.now - lastPurge > .seconds(600) {
                    lastPurge = ContinuousClock.now
                    await purge()
                }
                await listener.wait(timeout: configuration.pollInterval)
            }
        } onGracefulShutdown: {
            listener.interrupt()
        }
        // Whatever handlers committed before they stopped still goes out.
        var flushed = 0
        while true {
            let published = await relayAvailable()
            flushed += published
            if published < configuration.batchSize { break }
        }
        await listener.close()
        logger.info("outbox relay stopped", metadata: ["flushedOnShutdown": "\(flushed)"])
    }

    /// Runs `workers` batches side by side. Returns whether any was full (more may be due).
    private func relayRound() async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<max(1, configuration.workers) {
                group.addTask { await self.relayAvailable() == self.configuration.batchSize }
            }
            var full = false
            for await wasFull in group { full = full || wasFull }
            return full
        }
    }

    /// Publishes one batch of due rows. Returns how many rows it took.
    @discardableResult
    public func relayAvailable() async -> Int {
        do {
            return try await pool.withTransaction { tx in
                let rows = try await tx.query("""
                    SELECT id, exchange, routing_key, message_type, correlation_id, message_id, reply_to, body, attempts
                    FROM outbox
                    WHERE published_at IS NULL AND next_attempt_at <= now()
                    ORDER BY id
                    LIMIT $1
                    FOR UPDATE SKIP LOCKED
                    """, [configuration.batchSize]).rows
                guard !rows.isEmpty else { return 0 }
                var ids: [Int64] = []
                var messages: [OutgoingMessage] = []
                for row in rows {
                    ids.append(try row.int64("id"))
                    let exchange = try row.string("exchange")
                    messages.append(OutgoingMessage(
                        exchange: exchange, routingKey: try row.string("routing_key"),
                        properties: MessageProperties(
                            messageId: try row.string("message_id"), type: try row.string("message_type"),
                            correlationId: row["correlation_id"], replyTo: row["reply_to"], appId: pool.schema,
                            timestamp: Date()),
                        body: try row.bytes("body"),
                        // An event nobody listens to yet is fine; a command nobody serves is an error.
                        mandatory: exchange != Exchange.events))
                }
                let results = await publisher.publish(messages)
                var sent: [Int64] = []
                var failed: [(id: Int64, attempts: Int, error: String)] = []
                for (index, result) in results.enumerated() {
                    switch result {
                    case .success: sent.append(ids[index])
                    case .failure(let error): failed.append((ids[index], (try? rows[index].int("attempts")) ?? 0, "\(error)"))
                    }
                }
                if !sent.isEmpty {
                    try await tx.query("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [PGIntArray(sent)])
                }
                for failure in failed {
                    // Back off per row so one unroutable command does not spin the relay.
                    let delay = min(300, 1 << min(failure.attempts, 8))
                    try await tx.query("""
                        UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                            next_attempt_at = now() + make_interval(secs => $3)
                        WHERE id = $1
                        """, [failure.id, failure.error, delay])
                }
                if !failed.isEmpty {
                    logger.warning("outbox messages not confirmed; will retry", metadata: [
                        "count": "\(failed.count)", "error": "\(failed[0].error)",
                    ])
                }
                Counter(label: "convene_outbox_published_total", dimensions: [("schema", pool.schema)]).increment(by: sent.count)
                return rows.count
            }
        } catch {
            logger.error("outbox relay failed; will retry", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: .milliseconds(500))
            return 0
        }
    }

    private func purge() async {
        do {
            let seconds = configuration.retention.components.seconds
            let result = try await pool.withTransaction { tx in
                try await tx.query("DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)", [Int64(seconds)])
            }
            _ = try await pool.withTransaction { tx in
                try await tx.query("DELETE FROM inbox WHERE received_at < now() - make_interval(secs => $1)", [Int64(seconds)])
            }
            if result.affectedRows > 0 { logger.info("purged published outbox rows", metadata: ["count": "\(result.affectedRows)"]) }
        } catch {
            logger.warning("outbox purge failed", metadata: ["error": "\(error)"])
        }
    }
}

/// A connection of its own that LISTENs on one channel. Waiting blocks only its own thread.
public final class NotificationListener: Sendable {
    private let state: ListenerState

    public init(_ configuration: PGPool.Configuration, channel: String, logger: Logger) {
        state = ListenerState(configuration, channel: channel, logger: logger)
    }

    /// Returns when a notification arrives, `timeout` passes, or `interrupt` is called.
    public func wait(timeout: Duration) async {
        await state.wait(timeout: timeout)
    }

    public func interrupt() {
        state.interrupted.withLock { $0 = true }
    }

    public func close() async { await state.close() }
}

import Synchronization

actor ListenerState {
    private let configuration: PGPool.Configuration
    private let channel: String
    private let logger: Logger
    private var connection: PGConnection?
    nonisolated let interrupted = Mutex(false)

    init(_ configuration: PGPool.Configuration, channel: String, logger: Logger) {
        self.configuration = configuration
        self.channel = channel
        self.logger = logger
    }

    func wait(timeout: Duration) async {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        do {
            if connection == nil {
                let connection = try await PGConnection.connect(configuration.url, schema: configuration.schema,
                                                               applicationName: "\(configuration.applicationName)-listen")
                try await connection.query("LISTEN \(PGIdentifier.quote(channel))")
                self.connection = connection
            }
            // Short slices keep shutdown prompt: the wait blocks the listener's own thread.
            while ContinuousClock.now < deadline && !interrupted.withLock({ $0 }) {
                let slice = min(100, max(1, (deadline - ContinuousClock.now).inMilliseconds))
                if let connection, try await !connection.waitForNotifications(timeoutMilliseconds: Int32(slice)).isEmpty {
                    return
                }
            }
        } catch {
            logger.warning("listener lost its connection; polling until it is back",
                           metadata: ["channel": "\(channel)", "error": "\(error)"])
            await connection?.close()
            connection = nil
            try? await Task.sleep(until: deadline)
        }
    }

    func close() async {
        await connection?.close()
        connection = nil
    }
}
