import Foundation
import Logging
import Persistence
import Secrets

/// After a rotation of `PLATFORM_SECRET_KEY`: seals every credential set, start URL and push
/// address still sealed with a previous key again with the current one, so the previous key can
/// then be dropped. A value no configured key opens is left as it is (and logged).
struct Resealer: Sendable {
    let secrets: SecretBox
    let logger: Logger

    private struct Column {
        var table: String
        var column: String
        var keys: [String]
        var context: @Sendable ([String]) -> String
    }

    private static let columns = [
        Column(table: "credentials", column: "sealed", keys: ["organization_id", "platform"]) {
            CredentialStore.context($0[0], $0[1])
        },
        Column(table: "provisions", column: "start_url_sealed", keys: ["meeting_id", "platform"]) {
            "platform-bridge.start_url:\($0[0]):\($0[1])"
        },
        Column(table: "live_streams", column: "push_sealed", keys: ["organization_id", "meeting_id"]) {
            "platform-bridge.live_stream:\($0[0]):\($0[1])"
        },
    ]

    func reseal(pool: PGPool) async throws -> Int {
        let secrets = self.secrets
        return try await pool.withTransaction { tx in
            var count = 0
            for c in Self.columns {
                // Rows another instance holds right now are skipped: the next start reseals them.
                for row in try await tx.query("""
                    SELECT \(c.keys.joined(separator: ", ")), \(c.column) AS sealed FROM \(c.table)
                    WHERE \(c.column) IS NOT NULL AND left(\(c.column), $1) <> $2 FOR UPDATE SKIP LOCKED
                    """, [secrets.sealedPrefix.count, secrets.sealedPrefix]).rows {
                    let sealed = try row.string("sealed")
                    let keys = try c.keys.map { try row.string($0) }
                    guard secrets.needsResealing(sealed) else { continue }
                    guard let plain = try? secrets.open(sealed, context: c.context(keys)) else {
                        logger.warning("a secret no configured key opens was left sealed as it is", metadata: ["table": "\(c.table)"])
                        continue
                    }
                    try await tx.query("UPDATE \(c.table) SET \(c.column) = $3 WHERE \(c.keys[0]) = $1 AND \(c.keys[1]) = $2",
                                       [keys[0], keys[1], try secrets.seal(plain, context: c.context(keys))])
                    count += 1
                }
            }
            return count
        }
    }
}
