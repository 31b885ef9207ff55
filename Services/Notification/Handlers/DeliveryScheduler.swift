import Contracts
import Foundation
import Logging
import Messaging
import Persistence
import ServiceLifecycle

/// Runs beside the consumer: queues deliveries whose wait (back-off, robot rate limit) is over,
/// marks deliveries stuck in `sending` as `unconfirmed`, and forgets old robot sends. Claims
/// with `SKIP LOCKED`, so several instances share the work without doing anything twice.
struct DeliveryScheduler: Service {
    let service: String
    let pool: PGPool
    let settings: NotificationSettings
    let logger: Logger
    let store = DeliveryStore()

    func run() async throws {
        await cancelWhenGracefulShutdown {
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

    func tick() async throws {
        var released = 0
        repeat {
            released = try await pool.withTransaction { tx in
                let due = try await store.releaseDue(limit: 500, in: tx)
                try await tx.outbox(due.map {
                    Envelope(type: "\(service).deliver", source: service, correlationId: $0.correlationId,
                             organizationId: $0.organizationId, data: DeliverNotification(deliveryId: $0.id))
                }, exchange: Exchange.commands)
                return due.count
            }
        } while released == 500
        let unconfirmed = try await pool.withTransaction { tx in
            try await tx.query("DELETE FROM robot_sends WHERE sent_at < now() - interval '5 minutes'")
            return try await store.markUnconfirmed(olderThan: settings.sendingTimeout, in: tx)
        }
        if unconfirmed > 0 {
            logger.warning("deliveries left sending by a stopped service are now unconfirmed; check them before resending",
                           metadata: ["count": "\(unconfirmed)"])
        }
    }
}
