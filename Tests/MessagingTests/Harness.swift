import Contracts
import Logging
import Messaging
import Persistence
import Synchronization
import TestSupport

/// A payload the test handlers record.
struct Note: Codable, Sendable, Equatable {
    var key: String
}

/// The table test handlers write their effects to.
let effectsMigration = Migration(version: "0001", name: "effects", sql: """
    CREATE TABLE effects (key text NOT NULL, at timestamptz NOT NULL DEFAULT now());
    """)

/// Records one row per handled note: a second row for the same note would be a double effect.
struct RecordNote: MessageHandler {
    let messageType: String
    func handle(_ message: Envelope<Note>, context: HandlerContext) async throws -> Empty {
        try await context.transaction.query("INSERT INTO effects (key) VALUES ($1)", [message.data.key])
        return Empty()
    }
}

/// Fails the first `failures` attempts for each note (counted outside the database, since a
/// failed attempt's transaction rolls back), then records it.
struct FlakyNote: MessageHandler {
    let messageType: String
    let failures: Int
    let attempts = Attempts()

    final class Attempts: Sendable {
        let counts = Mutex<[String: Int]>([:])
        func next(_ key: String) -> Int { counts.withLock { $0[key, default: 0] += 1; return $0[key]! } }
        func count(_ key: String) -> Int { counts.withLock { $0[key, default: 0] } }
    }

    struct Transient: Error, CustomStringConvertible { var description: String { "simulated outage" } }

    func handle(_ message: Envelope<Note>, context: HandlerContext) async throws -> Empty {
        try await context.transaction.query("INSERT INTO effects (key) VALUES ($1)", [message.data.key])
        if attempts.next(message.data.key) <= failures { throw Transient() }
        return Empty()
    }
}

/// Answers a request with the note's key upper-cased, or refuses an empty key.
struct EchoNote: MessageHandler {
    let messageType: String
    func handle(_ message: Envelope<Note>, context: HandlerContext) async throws -> Note {
        guard !message.data.key.isEmpty else {
            throw ConveneError(code: "test.empty_key", message: "the key must not be empty")
        }
        try await context.transaction.query("INSERT INTO effects (key) VALUES ($1)", [message.data.key])
        return Note(key: message.data.key.uppercased())
    }
}

/// A miniature service wired like a real one (pool, migrations, publisher, dispatcher, consumer,
/// relay) on a queue and schema of its own, against the real broker and database.
final class Harness: Sendable {
    let name: String
    let pool: PGPool
    let publisher: Publisher
    let consumer: MessageConsumer
    let dispatcher: Dispatcher
    let relay: OutboxRelay
    private let tasks: Mutex<[Task<Void, any Error>]>

    init(handlers: (String) -> [any MessageHandler], retryDelays: [Duration] = [.milliseconds(200), .milliseconds(400)],
         concurrency: Int = 4, events: [String] = []) async throws {
        let name = TestStack.uniqueName()
        self.name = name
        pool = try await TestStack.migratedSchema([effectsMigration])
        let topology = Topology.service(name, events: events, retryDelays: retryDelays, deliveryLimit: 5)
        publisher = Publisher(.init(amqp: try TestStack.amqp(name: "\(name)-pub"), topology: topology), logger: TestStack.logger)
        dispatcher = Dispatcher(service: name, pool: pool, publisher: publisher, handlers: handlers(name), logger: TestStack.logger)
        consumer = MessageConsumer(
            .init(service: name, amqp: try TestStack.amqp(name: name), topology: topology, prefetch: 32,
                  concurrency: concurrency, retryDelays: retryDelays),
            publisher: publisher, logger: TestStack.logger, process: dispatcher.process, processBatch: dispatcher.process(batch:))
        relay = OutboxRelay(pool: pool, publisher: publisher, configuration: .init(pollInterval: .milliseconds(200)),
                            logger: TestStack.logger)
        tasks = Mutex([])
    }

    func startConsuming() async throws {
        let consumer = self.consumer
        tasks.withLock { $0.append(Task { try await consumer.run() }) }
        guard await consumer.waitUntilConsuming() else { throw ConveneError.unavailable("consumer did not start") }
    }

    func startRelay() {
        let relay = self.relay
        tasks.withLock { $0.append(Task { try await relay.run() }) }
    }

    /// Publishes a command addressed to this harness's service.
    func send<P: Codable & Sendable>(_ type: String, _ data: P, id: UUID = UUID()) async throws {
        let envelope = Envelope(id: id, type: "\(name).\(type)", source: "test", data: data)
        try await publisher.publish(try OutgoingMessage.envelope(envelope, exchange: Exchange.commands))
    }

    func sendRaw(_ body: [UInt8], routingKey: String) async throws {
        try await publisher.publish(OutgoingMessage(exchange: Exchange.commands, routingKey: routingKey,
                                                    properties: MessageProperties(messageId: UUID().uuidString), body: body))
    }

    func effects(_ key: String) async throws -> Int {
        try await pool.withConnection { try await $0.query("SELECT count(*) AS n FROM effects WHERE key = $1", [.text(key)]) }
            .first!.int("n")
    }

    /// A second consumer on the same queue and database (the first one was stopped).
    static func restartConsumer(of harness: Harness) async throws -> MessageConsumerHandle {
        let consumer = MessageConsumer(
            .init(service: harness.name, amqp: try TestStack.amqp(name: "\(harness.name)-2"),
                  topology: Topology.service(harness.name, retryDelays: [.milliseconds(100)], deliveryLimit: 5),
                  prefetch: 64, concurrency: 2, retryDelays: [.milliseconds(100)], batchSize: 16),
            publisher: harness.publisher, logger: TestStack.logger, process: harness.dispatcher.process,
            processBatch: harness.dispatcher.process(batch:))
        let task = Task { try await consumer.run() }
        guard await consumer.waitUntilConsuming() else { throw ConveneError.unavailable("consumer did not start") }
        return MessageConsumerHandle(consumer: consumer, task: task)
    }

    func deadProbe() throws -> QueueProbe {
        try QueueProbe(queue: QueueDeclaration(name: Topology.deadQueue(name)))
    }

    func stop() async {
        consumer.stop()
        let running = tasks.withLock { $0 }
        for task in running { task.cancel() }
        for task in running { _ = await task.result }
        await publisher.shutdown(grace: .seconds(1))
        await pool.close()
    }
}

struct MessageConsumerHandle: Sendable {
    let consumer: MessageConsumer
    let task: Task<Void, any Error>
    func stop() async {
        consumer.stop()
        _ = await task.result
    }
}
