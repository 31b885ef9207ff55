import Logging
import Persistence
import ServiceLifecycle

/// Forgets what the gateway no longer needs: expired refresh tokens, old throttle windows and
/// idempotency answers past their 24 hours. Runs once an hour (and at start).
struct IdentityMaintenance: Service {
    let pool: PGPool
    let logger: Logger
    var interval: Duration = .seconds(3600)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await loop()
        }
    }

    private func loop() async {
        while !Task.isCancelled {
            do {
                let removed = try await pool.withTransaction { tx in
                    (try await SessionStore(lifetime: 0).prune(in: tx), try await ThrottleStore().prune(in: tx),
                     try await IdempotencyStore().prune(in: tx))
                }
                if removed != (0, 0, 0) {
                    logger.info("pruned", metadata: ["refreshTokens": "\(removed.0)", "throttles": "\(removed.1)",
                                                     "idempotencyKeys": "\(removed.2)"])
                }
            } catch {
                logger.warning("pruning failed; trying again later", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
