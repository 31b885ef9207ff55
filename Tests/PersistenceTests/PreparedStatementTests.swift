import Foundation
@testable import Persistence
import Testing
import TestSupport

@Suite("Prepared statements per connection")
struct PreparedStatementTests {
    @Test("a text is run unnamed the first time, prepared the second, and reused after")
    func preparesOnSecondUse() {
        var statements = PreparedStatements(capacity: 4)
        #expect(statements.lookup("SELECT 1") == .runUnnamed)
        guard case .prepare(let name) = statements.lookup("SELECT 1") else {
            Issue.record("the second use must prepare")
            return
        }
        statements.remember("SELECT 1", as: name)
        #expect(statements.lookup("SELECT 1") == .prepared(name))
        #expect(statements.count == 1)
    }

    @Test("a full cache runs new texts unnamed and keeps the ones it has")
    func capacityIsBounded() {
        var statements = PreparedStatements(capacity: 2)
        for sql in ["A", "B"] {
            _ = statements.lookup(sql)
            guard case .prepare(let name) = statements.lookup(sql) else { Issue.record("\(sql) not prepared"); return }
            statements.remember(sql, as: name)
        }
        #expect(statements.lookup("C") == .runUnnamed)
        #expect(statements.lookup("C") == .runUnnamed)
        #expect(statements.count == 2)
        if case .prepared = statements.lookup("A") {} else { Issue.record("A must stay prepared") }
    }

    @Test("a forgotten statement is prepared again under a new name")
    func forgetGivesANewName() {
        var statements = PreparedStatements()
        _ = statements.lookup("X")
        guard case .prepare(let first) = statements.lookup("X") else { Issue.record("not prepared"); return }
        statements.remember("X", as: first)
        statements.forget("X")
        _ = statements.lookup("X")
        guard case .prepare(let second) = statements.lookup("X") else { Issue.record("not prepared again"); return }
        #expect(second != first)
    }

    @Test("repeated statements are prepared once on the server and still answer after the table they read changes")
    func preparedOnTheServerAndReplannedAfterDDL() async throws {
        let pool = try await TestStack.migratedSchema([Migration(version: "0001", name: "items",
                                                                  sql: "CREATE TABLE items (name text PRIMARY KEY);")], poolSize: 1)
        defer { Task { await pool.close() } }
        try await pool.withConnection { connection in
            for index in 0..<5 { try await connection.query("INSERT INTO items VALUES ($1)", [.text("item-\(index)")]) }
            let prepared = try await connection.query(
                "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = 'INSERT INTO items VALUES ($1)'")
            #expect(try prepared.first!.int("n") == 1)

            for _ in 0..<3 { _ = try await connection.query("SELECT * FROM items ORDER BY name") }
            try await connection.query("ALTER TABLE items ADD COLUMN note text")
            // PostgreSQL refuses the first run after the change (the plan's columns changed); the
            // statement is prepared afresh and the very next run answers with the new column.
            do {
                _ = try await connection.query("SELECT * FROM items ORDER BY name")
            } catch let error as PGError {
                #expect(error.sqlState == "0A000", "\(error)")
            }
            let rows = try await connection.query("SELECT * FROM items ORDER BY name")
            #expect(rows.rows.count == 5)
            #expect(rows.columns.contains("note"))
            #expect(rows.first!.isNull("note"))
        }
    }
}
