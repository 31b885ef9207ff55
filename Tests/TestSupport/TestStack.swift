import Contracts
import Logging
import Messaging
import Persistence
import Synchronization

/// The real broker and database that `make test` starts, found through the environment it
/// exports. A test that needs them fails with a clear message when they are missing, rather than
/// passing without having run.
public enum TestStack {
    public struct Missing: Error, CustomStringConvertible {
        public let variable: String
        public var description: String { "\(variable) is not set: run the integration tests through `make test`" }
    }

    public static func environment(_ key: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[key], !value.isEmpty else { throw Missing(variable: key) }
        return value
    }

    public static func amqp(name: String = "test") throws -> AMQPConfiguration {
        try AMQPConfiguration(url: environment("AMQP_URL"), heartbeat: 10, maxReconnectDelay: .seconds(1), connectionName: name)
    }

    public static var adminDatabaseURL: String { get throws { try environment("CONVENE_ADMIN_DATABASE_URL") } }

    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    /// A name no other test uses, for queues, schemas and routing keys: `t-1a2b3c4d`.
    public static func uniqueName(_ prefix: String = "t") -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A new empty schema (as the superuser) and a pool working in it.
    public static func freshSchema(poolSize: Int = 4) async throws -> PGPool {
        let schema = "t_" + UUID().uuidString.prefix(12).lowercased()
        let url = try adminDatabaseURL
        let admin = try await PGConnection.connect(url)
        try await admin.query("CREATE SCHEMA \(PGIdentifier.quote(schema))")
        await admin.close()
        return PGPool(.init(url: url, schema: schema, size: poolSize, applicationName: "test"), logger: logger)
    }

    /// A fresh schema with the runtime tables (outbox, inbox) and `migrations` applied.
    public static func migratedSchema(_ migrations: [Migration] = [], poolSize: Int = 4) async throws -> PGPool {
        let pool = try await freshSchema(poolSize: poolSize)
        try await Migrator(pool: pool, logger: logger).migrate(migrations)
        return pool
    }
}

/// Reads deliveries from one queue into memory, acknowledging each, for assertions.
public final class QueueProbe: Sendable {
    private let connection: ConsumerConnection
    private final class Received: Sendable { let deliveries = Mutex<[Delivery]>([]) }
    private let storage = Received()
    private let task: Task<Void, Never>

    public init(queue: QueueDeclaration, topology: Topology = .exchanges) throws {
        let connection = ConsumerConnection(
            .init(amqp: try TestStack.amqp(name: "probe"), topology: topology, queue: queue, prefetch: 500),
            logger: TestStack.logger)
        self.connection = connection
        let storage = self.storage
        task = Task {
            for await batch in connection.batches {
                storage.deliveries.withLock { $0.append(contentsOf: batch) }
                batch.forEach(connection.ack)
            }
        }
    }

    public func ready() async -> Bool { await connection.waitUntilConsuming() }

    public var queueName: String? { connection.queueName }

    /// Waits until at least `count` deliveries arrived or `timeout` passed; returns what arrived.
    public func wait(for count: Int, timeout: Duration = .seconds(10)) async -> [Delivery] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let snapshot = storage.deliveries.withLock { $0 }
            if snapshot.count >= count { return snapshot }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return storage.deliveries.withLock { $0 }
    }

    public var deliveries: [Delivery] { storage.deliveries.withLock { $0 } }

    public func close() async {
        connection.stopConsuming()
        await connection.close()
        task.cancel()
    }
}

/// Polls until `condition` holds or `timeout` passes; returns whether it held.
public func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
