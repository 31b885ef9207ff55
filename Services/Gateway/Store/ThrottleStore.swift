import Foundation
import Persistence

/// The recorded failures of `LoginThrottle`, one row per key.
struct ThrottleStore: Sendable {
    func state(_ key: String, in tx: Transaction, forUpdate: Bool = false) async throws -> LoginThrottle.State? {
        try await tx.query("SELECT * FROM login_throttle WHERE key = $1" + (forUpdate ? " FOR UPDATE" : ""), [key]).first.map {
            LoginThrottle.State(failures: try $0.int("failures"), windowStarted: try $0.date("window_started"),
                                lockedUntil: $0.isNull("locked_until") ? nil : try $0.date("locked_until"))
        }
    }

    func save(_ key: String, _ state: LoginThrottle.State, in tx: Transaction) async throws {
        try await tx.query("""
            INSERT INTO login_throttle (key, failures, window_started, locked_until) VALUES ($1, $2, $3, $4)
            ON CONFLICT (key) DO UPDATE SET failures = $2, window_started = $3, locked_until = $4
            """, [key, state.failures, state.windowStarted, state.lockedUntil])
    }

    func clear(_ key: String, in tx: Transaction) async throws {
        try await tx.query("DELETE FROM login_throttle WHERE key = $1", [key])
    }

    /// Forgets keys whose window and lock ended long ago.
    func prune(in tx: Transaction) async throws -> Int {
        try await tx.query("""
            DELETE FROM login_throttle
            WHERE window_started < now() - interval '1 day' AND (locked_until IS NULL OR locked_until < now())
            """).affectedRows
    }
}
