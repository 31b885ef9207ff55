import ArgumentParser
import Contracts
import Foundation
import Logging
import Messaging
import Persistence
import Synchronization

/// `make bench`: throughput and latency of the broker alone and of Convene's own delivery path,
/// measured against the local stack. Prints a Markdown table row per measurement.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convene-bench",
        abstract: "Measures raw AMQP publish/consume and the outbox → relay → broker → consumer → inbox path.")

    @Option(help: "Messages per measurement.") var messages = 20_000
    @Option(help: "Concurrent handlers (and database connections) on the consuming side.") var concurrency = 16
    @Option(help: "Most messages sharing one consumer transaction (1: one transaction each).") var batchSize = 32
    @Option(help: "Which measurements to run: amqp, pg, outbox, email, registration, paid, provisioning or all.") var only = "all"
    @Option(help: "Registrations offered per second in the registration measurement.") var registrationRate = 200
    @Option(help: "Seconds the registration measurement lasts.") var registrationSeconds = 60
    @Option(help: "Paid registrations offered per second in the paid measurement.") var paidRate = 100
    @Option(help: "Seconds the paid measurement lasts.") var paidSeconds = 60
    @Option(help: "Emails per email measurement.") var emailCount = 5_000
    @Option(help: "Meetings (each on Zoom, Tencent Meeting and DingTalk) in the provisioning measurement.") var meetings = 500
    @Option(help: "SMTP connections of the plain client loop (the service uses its CONSUMER_CONCURRENCY).") var smtpConnections = 8

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let env = ProcessInfo.processInfo.environment
        guard let amqpURL = env["AMQP_URL"], let databaseURL = env["CONVENE_ADMIN_DATABASE_URL"] else {
            throw ValidationError("AMQP_URL and CONVENE_ADMIN_DATABASE_URL must be set (source .local/<profile>/env)")
        }
        let amqp = try AMQPConfiguration(url: amqpURL, connectionName: "bench")
        print("| measurement | messages | msg/s | p50 ms | p99 ms |")
        print("|---|---|---|---|---|")
        if only == "all" || only == "amqp" {
            try await rawAMQP(amqp, logger: logger)
        }
        if only == "all" || only == "pg" {
            try await poolCommits(databaseURL: databaseURL, logger: logger)
        }
        if only == "all" || only == "outbox" {
            try await outboxPath(amqp, databaseURL: databaseURL, logger: logger)
        }
        if only == "all" || only == "email" {
            try await emails(amqp, logger: logger)
        }
        if only == "all" || only == "registration" {
            try await registrations(logger: logger)
        }
        if only == "all" || only == "paid" {
            try await paidRegistrations(logger: logger)
        }
        if only == "all" || only == "provisioning" {
            try await provisioning(amqp, logger: logger)
        }
    }

    /// (a) Persistent publishes with windowed confirms, consumed with manual acks.
    func rawAMQP(_ amqp: AMQPConfiguration, logger: Logger) async throws {
        let queue = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        let declaration = QueueDeclaration(name: queue, autoDelete: true)
        let publisher = Publisher(.init(amqp: amqp, window: 1000), logger: logger)
        let consumer = ConsumerConnection(.init(amqp: amqp, topology: .exchanges, queue: declaration, prefetch: 1000), logger: logger)
        guard await consumer.waitUntilConsuming() else { throw ValidationError("cannot consume") }
        let body = Array(String(repeating: "x", count: 100).utf8)
        let received = Task {
            var count = 0
            var latencies: [Double] = []
            latencies.reserveCapacity(messages)
            for await batch in consumer.batches {
                for delivery in batch {
                    consumer.ack(delivery)
                    if let sent = delivery.properties.headers["sent-ns"]?.intValue {
                        latencies.append(Double(DispatchTime.now().uptimeNanoseconds - UInt64(sent)) / 1e6)
                    }
                }
                count += batch.count
                if count >= messages { break }
            }
            return (ContinuousClock.now, latencies)
        }
        let started = ContinuousClock.now
        var sent = 0
        while sent < messages {
            let batch = (0..<min(500, messages - sent)).map { _ in
                OutgoingMessage(exchange: "", routingKey: queue,
                                properties: MessageProperties(headers: ["sent-ns": .int(Int64(DispatchTime.now().uptimeNanoseconds))]),
                                body: body)
            }
            for result in await publisher.publish(batch) { if case .failure(let error) = result { throw error } }
            sent += batch.count
        }
        let published = ContinuousClock.now
        let (finished, latencies) = await received.value
        report("(a) rabbitmq-c publish, persistent, confirms per 500", count: messages, elapsed: published - started, latencies: [])
        report("(a) rabbitmq-c publish + consume (manual ack, prefetch 1000)", count: messages, elapsed: finished - started, latencies: latencies)
        consumer.stopConsuming()
        await consumer.close()
        await publisher.shutdown()
    }

    /// (c) A writer commits outbox rows; the relay publishes them; a consumer handles each in a
    /// transaction that records its inbox row. Latency: outbox write → handler inside its transaction.
    func outboxPath(_ amqp: AMQPConfiguration, databaseURL: String, logger: Logger) async throws {
        let name = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        let schema = name.replacing("-", with: "_")
        let admin = try await PGConnection.connect(databaseURL)
        try await admin.query("CREATE SCHEMA \(PGIdentifier.quote(schema))")
        await admin.close()
        let pool = PGPool(.init(url: databaseURL, schema: schema, size: concurrency + 2, applicationName: "bench"), logger: logger)
        try await Migrator(pool: pool, logger: logger).migrate([])
        let topology = Topology.service(name, retryDelays: [.seconds(1)], deliveryLimit: 10)
        let publisher = Publisher(.init(amqp: amqp, topology: topology), logger: logger)
        let latencies = LatencyLog()
        let dispatcher = Dispatcher(service: name, pool: pool, publisher: publisher,
                                    handlers: [Noop(messageType: "\(name).noop", latencies: latencies)], logger: logger)
        let consumer = MessageConsumer(
            .init(service: name, amqp: amqp, topology: topology, prefetch: concurrency * batchSize, concurrency: concurrency,
                  retryDelays: [.seconds(1)], batchSize: batchSize),
            publisher: publisher, logger: logger, process: dispatcher.process, processBatch: dispatcher.process(batch:))
        let relay = OutboxRelay(pool: pool, publisher: publisher, logger: logger)
        let consuming = Task { try await consumer.run() }
        guard await consumer.waitUntilConsuming() else { throw ValidationError("cannot consume") }
        let relaying = Task { try await relay.run() }

        let started = ContinuousClock.now
        let writers = 4
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var index = writer
                    while index < messages {
                        let batch = stride(from: index, to: min(index + 100 * writers, messages), by: writers).map { $0 }
                        try await pool.withTransaction { tx in
                            try await tx.outbox(batch.map { _ in Envelope(type: "\(name).noop", source: "bench", data: Empty()) },
                                                exchange: Exchange.commands)
                        }
                        index += 100 * writers
                    }
                }
            }
            try await group.waitForAll()
        }
        let written = ContinuousClock.now - started
        var relayed = written
        while latencies.count < messages && ContinuousClock.now - started < .seconds(300) {
            let unpublished = try await pool.withConnection {
                try await $0.query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
            }.first!.int("n")
            if unpublished == 0 { relayed = ContinuousClock.now - started; break }
            try await Task.sleep(for: .milliseconds(20))
        }
        while latencies.count < messages && ContinuousClock.now - started < .seconds(300) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = ContinuousClock.now - started
        report("(c) of which: writers committing the outbox rows (4 writers, 100 rows per statement and transaction)", count: messages,
               elapsed: written, latencies: [])
        report("(c) of which: writers + relay until the last row is confirmed by the broker", count: messages,
               elapsed: relayed, latencies: [])
        report("(c) outbox → relay → broker → consumer → inbox commit (\(concurrency) handlers, batches ≤ \(batchSize))",
               count: latencies.count, elapsed: elapsed, latencies: latencies.values)
        consumer.stop()
        relaying.cancel()
        _ = await consuming.result
        _ = await relaying.result
        await publisher.shutdown()
        await pool.close()
    }

    /// (b′) What pgbench measures, through Convene's own pool: one INSERT per transaction,
    /// 8 concurrent clients, so the cost of the thread hops is visible next to (b).
    func poolCommits(databaseURL: String, logger: Logger) async throws {
        let schema = "bench_" + UUID().uuidString.prefix(8).lowercased()
        let admin = try await PGConnection.connect(databaseURL)
        try await admin.query("CREATE SCHEMA \(PGIdentifier.quote(schema))")
        try await admin.query("CREATE TABLE \(PGIdentifier.quote(schema)).commits (id bigserial PRIMARY KEY, body text NOT NULL)")
        await admin.close()
        let pool = PGPool(.init(url: databaseURL, schema: schema, size: 8, applicationName: "bench"), logger: logger)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<8 {
                group.addTask {
                    for _ in stride(from: client, to: messages, by: 8) {
                        _ = try await pool.withConnection { try await $0.query("INSERT INTO commits (body) VALUES ($1)", [.text("x")]) }
                    }
                }
            }
            try await group.waitForAll()
        }
        report("(b′) PGPool, one INSERT per transaction (autocommit), 8 clients", count: messages,
               elapsed: ContinuousClock.now - started, latencies: [])
        let selects = ContinuousClock.now
        _ = try await pool.withConnection { connection in
            for _ in 0..<messages { try await connection.query("SELECT 1") }
        }
        report("(b′) one connection, SELECT 1 round trips", count: messages, elapsed: ContinuousClock.now - selects, latencies: [])
        await pool.close()
    }

    @discardableResult
    func report(_ label: String, count: Int, elapsed: Duration, latencies: [Double]) -> Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> String {
            sorted.isEmpty ? "–" : String(format: "%.1f", sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
        }
        print("| \(label) | \(count) | \(Int(Double(count) / seconds)) | \(percentile(0.5)) | \(percentile(0.99)) |")
        return Double(count) / seconds
    }
}

final class LatencyLog: Sendable {
    private let storage = Mutex<[Double]>([])
    func record(_ milliseconds: Double) { storage.withLock { $0.append(milliseconds) } }
    var count: Int { storage.withLock { $0.count } }
    var values: [Double] { storage.withLock { $0 } }
}

struct Noop: MessageHandler {
    let messageType: String
    let latencies: LatencyLog
    func handle(_ message: Envelope<Empty>, context: HandlerContext) async throws -> Empty {
        latencies.record(Date().timeIntervalSince(message.occurredAt) * 1000)
        return Empty()
    }
}
