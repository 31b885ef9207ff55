import Contracts
import Logging
import Synchronization

/// A bounded pool of connections to one schema. Callers beyond `size` wait their turn; broken
/// connections are dropped and replaced on demand.
public final class PGPool: Sendable {
    public struct Configuration: Sendable {
        public var url: String
        /// The schema the connections work in (their search path).
        public var schema: String
        public var size: Int
        public var applicationName: String
        public init(url: String, schema: String, size: Int = 8, applicationName: String = "convene") {
            self.url = url
            self.schema = schema
            self.size = size
            self.applicationName = applicationName
        }
    }

    public let configuration: Configuration
    private let state: PoolState
    private let logger: Logger

    public init(_ configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        state = PoolState(configuration)
    }

    public var schema: String { configuration.schema }

    /// Lends a connection for the duration of `body`.
    public func withConnection<T: Sendable>(_ body: (PGConnection) async throws -> T) async throws -> T {
        let connection = try await state.acquire()
        do {
            let result = try await body(connection)
            await state.release(connection)
            return result
        } catch {
            await state.release(connection, failed: (error as? PGError)?.isConnectionError ?? false)
            throw error
        }
    }

    /// Runs `body` without a transaction around it: each statement commits on its own. For a
    /// single read (or a single write) this saves the `BEGIN` and `COMMIT` round trips.
    public func withoutTransaction<T: Sendable>(_ body: (Transaction) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await body(Transaction(connection: connection, schema: configuration.schema))
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func withTransaction<T: Sendable>(_ body: (Transaction) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.query("BEGIN")
            let transaction = Transaction(connection: connection, schema: configuration.schema)
            let result: T
            do {
                result = try await body(transaction)
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
            try await connection.query("COMMIT")
            return result
        }
    }

    /// Whether the database answers (for readiness checks).
    public func ping() async -> Bool {
        (try? await withConnection { try await $0.query("SELECT 1") }) != nil
    }

    public func close() async {
        await state.close()
    }
}

/// A transaction in progress; statements run on its connection.
public struct Transaction: Sendable {
    public let connection: PGConnection
    public let schema: String
    /// What a handler learned in this transaction and may reuse while it lasts (e.g. a row it
    /// locked): the handlers of a batch share one transaction. Gone with the transaction.
    public let locals: TransactionLocals

    public init(connection: PGConnection, schema: String, locals: TransactionLocals = TransactionLocals()) {
        self.connection = connection
        self.schema = schema
        self.locals = locals
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [any PGEncodable] = []) async throws -> PGResult {
        try await connection.query(sql, parameters.map(\.pgValue))
    }
}

actor PoolState {
    private let configuration: PGPool.Configuration
    private var idle: [PGConnection] = []
    private var open = 0
    private var waiters: [CheckedContinuation<PGConnection, any Error>] = []
    private var closed = false

    init(_ configuration: PGPool.Configuration) {
        self.configuration = configuration
    }

    func acquire() async throws -> PGConnection {
        if closed { throw PGError(sqlState: "08003", message: "pool is closed") }
        if let connection = idle.popLast() { return connection }
        if open < configuration.size {
            open += 1
            do {
                return try await PGConnection.connect(configuration.url, schema: configuration.schema,
                                                      applicationName: configuration.applicationName)
            } catch {
                open -= 1
                throw error
            }
        }
        return try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    func release(_ connection: PGConnection, failed: Bool = false) async {
        let healthy = await connection.isHealthy && !failed
        if !healthy || closed {
            open -= 1
            await connection.close()
            // A waiter would otherwise wait for a connection that will never come back.
            if !closed, !waiters.isEmpty {
                let waiter = waiters.removeFirst()
                open += 1
                do {
                    waiter.resume(returning: try await PGConnection.connect(
                        configuration.url, schema: configuration.schema, applicationName: configuration.applicationName))
                } catch {
                    open -= 1
                    waiter.resume(throwing: error)
                }
            }
            return
        }
        if !waiters.isEmpty {
            waiters.removeFirst().resume(returning: connection)
        } else {
            idle.append(connection)
        }
    }

    func close() async {
        closed = true
        let connections = idle
        idle.removeAll()
        for connection in connections {
            open -= 1
            await connection.close()
        }
        let pending = waiters
        waiters.removeAll()
        pending.forEach { $0.resume(throwing: PGError(sqlState: "08003", message: "pool is closed")) }
    }
}

/// Values kept for the length of one transaction, by key. A writer that changes what a value was
/// read from removes it (or everything), so a later reader in the transaction reads again.
public final class TransactionLocals: Sendable {
    private let values = Mutex<[String: any Sendable]>([:])

    public init() {}

    public subscript<T: Sendable>(_ key: String, as type: T.Type = T.self) -> T? {
        values.withLock { $0[key] as? T }
    }

    public func set(_ value: (any Sendable)?, for key: String) {
        values.withLock { $0[key] = value }
    }

    public func removeAll() {
        values.withLock { $0.removeAll() }
    }
}
