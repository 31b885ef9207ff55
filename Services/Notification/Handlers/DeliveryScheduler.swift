import Foundation
import Logging
import Persistence
import ServiceLifecycle

/// Runs beside the workers: queues deliveries whose wait (back-off, robot rate limit) is over,
/// marks deliveries stuck in `sending` as `unconfirmed`, and forgets old robot sends. Each step
/// is one idempotent UPDATE or DELETE, so several instances may run it at once.
struct DeliveryScheduler: Service {
    let pool: PGPool
    let settings: NotificationSettings
    let logger: Logger
    let store = DeliveryStore()

    func run() async throws {
        await cancelWhenGracefulShutdown {
            do {
                let resealed = try await resealSecrets()
                if resealed > 0 { logger.notice("secrets sealed again with the current key", metadata: ["count": "\(resealed)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.error("resealing secrets failed; older keys stay in use", metadata: ["error": "\(error)"])
            }
            while !Task.isCancelled {
                do {
                    try await tick()
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("delivery scheduler failed; trying again", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: settings.schedulerInterval)
            }
        }
    }

    /// After a key rotation: seals every robot credential and webhook secret still sealed with a
    /// previous key again with the current one, so the previous key can then be dropped. A value
    /// no configured key opens is left as it is (its deliveries are skipped with the reason).
    func resealSecrets() async throws -> Int {
        let secrets = settings.secrets
        return try await pool.withTransaction { tx in
            var count = 0
            for (table, column, context) in [("robots", "credentials", RobotStore.context), ("webhooks", "secret", WebhookStore.context)] {
                // Only values of an older key; a row another instance holds right now (a claim
                // locks its robot) is skipped, not waited for: the next start reseals it.
                for row in try await tx.query("""
                    SELECT id, \(column) AS sealed FROM \(table) WHERE left(\(column), $1) <> $2 FOR UPDATE SKIP LOCKED
                    """, [secrets.sealedPrefix.count, secrets.sealedPrefix]).rows {
                    let sealed = try row.string("sealed")
                    guard secrets.needsResealing(sealed) else { continue }
                    let id = try row.uuid("id")
                    guard let plain = try? secrets.open(sealed, context: context(id)) else {
                        logger.warning("a secret no configured key opens was left sealed as it is",
                                       metadata: ["table": "\(table)", "id": "\(id)"])
                        continue
                    }
                    try await tx.query("UPDATE \(table) SET \(column) = $2 WHERE id = $1",
                                       [id, try secrets.seal(plain, context: context(id))])
                    count += 1
                }
            }
            return count
        }
    }

    func tick() async throws {
        let unconfirmed = try await pool.withTransaction { tx in
            _ = try await store.releaseDue(in: tx)
            try await tx.query("DELETE FROM robot_sends WHERE sent_at < now() - interval '5 minutes'")
            return try await store.markUnconfirmed(olderThan: settings.sendingTimeout, in: tx)
        }
        if unconfirmed > 0 {
            logger.warning("deliveries left sending by a stopped service are now unconfirmed; check them before resending",
                           metadata: ["count": "\(unconfirmed)"])
        }
    }
}
