import Foundation
import Synchronization
import Contracts
import Persistence
import Testing
import TestSupport

@Suite("PostgreSQL pool, transactions and migrations")
struct PersistenceTests {
    @Test("a transaction commits when its body returns and rolls back when it throws")
    func transactions() async throws {
        let pool = try await TestStack.migratedSchema([Migration(version: "0001", name: "items", sql: "CREATE TABLE items (name text PRIMARY KEY);")])
        defer { Task { await pool.close() } }
        _ = try await pool.withTransaction { try await $0.query("INSERT INTO items VALUES ($1)", ["kept"]) }
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            _ = try await pool.withTransaction { tx in
                try await tx.query("INSERT INTO items VALUES ($1)", ["dropped"])
                throw Abort()
            }
        }
        let names = try await pool.withConnection { try await $0.query("SELECT name FROM items ORDER BY name") }.rows.map { try $0.string("name") }
        #expect(names == ["kept"])
    }

    @Test("errors carry their SQLSTATE and message, and parameters are never spliced into SQL")
    func errorsAndParameters() async throws {
        let pool = try await TestStack.migratedSchema([Migration(version: "0001", name: "items", sql: "CREATE TABLE items (name text PRIMARY KEY);")])
        defer { Task { await pool.close() } }
        let hostile = "x'); DROP TABLE items; --"
        _ = try await pool.withTransaction { try await $0.query("INSERT INTO items VALUES ($1)", [hostile]) }
        do {
            _ = try await pool.withTransaction { try await $0.query("INSERT INTO items VALUES ($1)", [hostile]) }
            Issue.record("a duplicate key must fail")
        } catch let error as PGError {
            #expect(error.sqlState == "23505")
            #expect(error.isUniqueViolation)
            #expect(error.description.contains("duplicate key"))
        }
        let count = try await pool.withConnection { try await $0.query("SELECT count(*) AS n FROM items") }.first!.int("n")
        #expect(count == 1)
    }

    @Test("values round-trip: text, integers, booleans, UUIDs, dates, bytes and NULL")
    func valuesRoundTrip() async throws {
        let pool = try await TestStack.freshSchema()
        defer { Task { await pool.close() } }
        let id = UUID()
        let at = Date(timeIntervalSince1970: 1_795_339_800.25)
        let bytes: [UInt8] = [0, 1, 2, 255, 0x5c, 0x27]
        let row = try await pool.withConnection {
            try await $0.query("SELECT $1::text AS t, $2::bigint AS i, $3::boolean AS b, $4::uuid AS u, $5::timestamptz AS d, $6::bytea AS y, $7::text AS n",
                               (["会议 ✓", Int64(-42), true, id, at, bytes, Optional<String>.none] as [any PGEncodable]).map(\.pgValue))
        }.first!
        #expect(try row.string("t") == "会议 ✓")
        #expect(try row.int64("i") == -42)
        #expect(try row.bool("b"))
        #expect(try row.uuid("u") == id)
        #expect(try row.date("d") == at)
        #expect(try row.bytes("y") == bytes)
        #expect(row.isNull("n"))
    }

    @Test("the pool never opens more connections than its size, and waiting callers all get one")
    func boundedPool() async throws {
        let pool = try await TestStack.freshSchema(poolSize: 3)
        defer { Task { await pool.close() } }
        final class Holders: Sendable { let counts = Mutex((now: 0, most: 0, done: 0)) }
        let holders = Holders()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    _ = try await pool.withConnection { connection in
                        holders.counts.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                        defer { holders.counts.withLock { $0.now -= 1; $0.done += 1 } }
                        return try await connection.query("SELECT pg_sleep(0.05)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let seen = holders.counts.withLock { $0 }
        #expect(seen.done == 12)
        #expect(seen.most == 3, "three connections in use at once, never more")
    }

    @Test("migrations apply once, in order, and an edited migration is refused")
    func migrations() async throws {
        let pool = try await TestStack.freshSchema()
        defer { Task { await pool.close() } }
        let first = Migration(version: "0001", name: "a", sql: "CREATE TABLE a (x int);")
        let second = Migration(version: "0002", name: "b", sql: "ALTER TABLE a ADD COLUMN y int;")
        let migrator = Migrator(pool: pool, logger: TestStack.logger)
        // Two starters at once: the advisory lock makes the second wait, then find nothing to do.
        async let one: Void = migrator.migrate([first, second])
        async let two: Void = migrator.migrate([first, second])
        _ = try await (one, two)
        let versions = try await pool.withConnection { try await $0.query("SELECT version FROM schema_migrations ORDER BY version") }
            .rows.map { try $0.string("version") }
        #expect(versions == ["0001", "0002", "r0001"])
        let edited = Migration(version: "0002", name: "b", sql: "ALTER TABLE a ADD COLUMN z int;")
        await #expect(throws: ConveneError.self) { try await migrator.migrate([first, edited]) }
    }

    @Test("a failing migration leaves nothing behind")
    func failedMigrationRollsBack() async throws {
        let pool = try await TestStack.freshSchema()
        defer { Task { await pool.close() } }
        let broken = Migration(version: "0001", name: "broken", sql: "CREATE TABLE ok (x int); CREATE TABLE ok (x int);")
        await #expect(throws: PGError.self) { try await Migrator(pool: pool, logger: TestStack.logger).migrate([broken]) }
        let tables = try await pool.withConnection {
            try await $0.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'ok'", [.text(pool.schema)])
        }.first!.int("n")
        #expect(tables == 0)
    }

    @Test("migration files are read from a folder in version order")
    func loadsMigrationFiles() throws {
        let folder = "/tmp/convene-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = FileManager.default.createFile(atPath: folder + "/0002_second.sql", contents: Data("SELECT 2;".utf8))
        _ = FileManager.default.createFile(atPath: folder + "/0001_first.sql", contents: Data("SELECT 1;".utf8))
        _ = FileManager.default.createFile(atPath: folder + "/README.md", contents: Data("notes".utf8))
        let loaded = try Migration.load(from: folder)
        #expect(loaded.map(\.version) == ["0001", "0002"])
        #expect(loaded.map(\.name) == ["first", "second"])
    }

    @Test("each service's database role can use its own schema and no other")
    func rolesAreIsolated() async throws {
        let registrationURL = try TestStack.environment("REGISTRATION_DATABASE_URL")
        let paymentURL = try TestStack.environment("PAYMENT_DATABASE_URL")
        let payment = PGPool(.init(url: paymentURL, schema: "payment", size: 1), logger: TestStack.logger)
        try await Migrator(pool: payment, logger: TestStack.logger).migrate([])
        await payment.close()

        let registration = try await PGConnection.connect(registrationURL, schema: "registration")
        defer { Task { await registration.close() } }
        let table = "own_\(UUID().uuidString.prefix(8).lowercased())"
        try await registration.query("CREATE TABLE \(table) (x int)")
        try await registration.query("DROP TABLE \(table)")
        for statement in ["SELECT * FROM payment.outbox", "CREATE TABLE payment.intruder (x int)", "CREATE TABLE public.intruder (x int)"] {
            do {
                try await registration.query(statement)
                Issue.record("registration could run: \(statement)")
            } catch let error as PGError {
                #expect(error.sqlState == "42501", "\(statement): \(error)")
            }
        }
    }
}
