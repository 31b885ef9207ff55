import Contracts
import Foundation
import Logging
import Persistence
import ServiceLifecycle

/// Lapses seat offers whose time ran out: the seat goes to the next in line. Rows are claimed
/// with `FOR UPDATE SKIP LOCKED`, so several instances share the work; a timer that fell due while
/// the service was down fires at start.
struct OfferTimer: Service {
    let pool: PGPool
    let store: RegistrationStore
    let flow: RegistrationFlow
    let service: String
    let logger: Logger
    var interval: Duration = .seconds(5)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    while try await tick() > 0 {}
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("offer timer failed; trying again", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Lapses one due offer; answers how many (0 or 1).
    func tick(now: Date = Date()) async throws -> Int {
        try await pool.withTransaction { tx in
            guard let due = try await store.lapsedOffers(now: now, limit: 1, in: tx).first else { return 0 }
            // The conference's lock before the row's would invert the order every seat decision uses:
            // take it, then re-read the row.
            let (conference, rules) = try await flow.locked(conferenceId: due.conferenceId, in: tx)
            guard let record = try await store.find(due.id, forUpdate: true, in: tx), record.state.status == .offered else { return 0 }
            let context = HandlerContext.timer(transaction: tx, logger: logger, service: service,
                                               type: "registration.offer_expired", id: due.id,
                                               organizationId: conference.organizationId)
            try await flow.apply(.offerExpired, to: record, conference: conference, rules: rules, context: context, now: now)
            return 1
        }
    }
}
