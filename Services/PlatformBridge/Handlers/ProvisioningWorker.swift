import Contracts
import Foundation
import Logging
import Messaging
import Persistence
import Secrets
import ServiceLifecycle

/// Brings each meeting on each platform to what its plan says, run beside the consumer (several
/// instances may run at once).
///
/// A round claims due rows (`FOR UPDATE SKIP LOCKED`), marks them `working` with a lease and
/// commits — the intent — before calling any platform; then calls each platform with no lock
/// held, and records the outcome and its events (outbox) in one transaction per row. A
/// redelivered event finds the row already there and changes nothing; a crash between the call
/// and the record leaves the row `working` until its lease runs out, then it is tried again
/// (the one case where a platform could see a second create). Transient failures wait their
/// back-off in the table, so retries survive restarts and hold nothing while they wait.
struct ProvisioningWorker: Service {
    let service: String
    let pool: PGPool
    let settings: PlatformBridgeSettings
    let adapters: [String: any PlatformAdapter]
    let credentials: CredentialStore
    let logger: Logger
    let store = ProvisionStore()

    func run() async throws {
        await cancelWhenGracefulShutdown {
            do {
                let resealed = try await Resealer(secrets: settings.secrets, logger: logger).reseal(pool: pool)
                if resealed > 0 { logger.notice("secrets sealed again with the current key", metadata: ["count": "\(resealed)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.error("resealing secrets failed; older keys stay in use", metadata: ["error": "\(error)"])
            }
            var rounds = 0
            while !Task.isCancelled {
                var busy = false
                do {
                    busy = try await round()
                    rounds += 1
                    if rounds % 3600 == 0 {
                        try await pool.withTransaction { tx in try await store.purgeWebhookEvents(in: tx) }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("provisioning round failed; trying again", metadata: ["error": "\(error)"])
                }
                if !busy { try? await Task.sleep(for: settings.pollInterval) }
            }
        }
    }

    /// One round; true when it took a full batch (more may be due).
    @discardableResult
    func round() async throws -> Bool {
        let limit = settings.concurrency
        let lease = settings.lease
        let claims = try await pool.withTransaction { tx in
            try await store.releaseExpiredLeases(in: tx)
            return try await store.claim(limit: limit, lease: lease, in: tx)
        }
        await withTaskGroup(of: Void.self) { group in
            for claim in claims {
                group.addTask { await work(claim) }
            }
        }
        return claims.count == limit
    }

    private func work(_ claim: ProvisionStore.Claim) async {
        var logger = self.logger
        logger[metadataKey: "meetingId"] = "\(claim.meetingId)"
        logger[metadataKey: "platform"] = "\(claim.platform)"
        do {
            try await attempt(claim, logger: logger)
        } catch {
            // Left `working`: the lease runs out and the row is tried again.
            logger.error("recording a provisioning outcome failed; retried after the lease", metadata: ["error": "\(error)"])
        }
    }

    private func attempt(_ claim: ProvisionStore.Claim, logger: Logger) async throws {
        let action = ProvisioningRules.action(desired: claim.desired, platformMeetingId: claim.platformMeetingId,
                                              syncedSequence: claim.syncedSequence, planSequence: claim.planSequence)
        switch action {
        case .forget:
            try await pool.withTransaction { tx in try await store.recordRemoved(claim, in: tx) }
            return
        case .nothing:
            _ = try await pool.withTransaction { tx in
                try await store.recordPresent(claim, meeting: nil, startUrlSealed: nil, sequence: claim.syncedSequence ?? claim.planSequence,
                                              in: tx)
            }
            return
        case .create, .update, .remove:
            break
        }
        guard let organizationId = claim.organizationId,
              let opened = try await pool.withTransaction({ tx in
                  try await credentials.open(platform: claim.platform, organizationId: organizationId, in: tx)
              }),
              let adapter = adapters[claim.platform] else {
            try await fail(claim, code: PlatformReason.credentialsMissing,
                           message: "the organization has no \(claim.platform) credentials", logger: logger)
            return
        }
        enum Done { case present(CreatedMeeting?), removed }
        let done: Done
        do throws(PlatformFailure) {
            switch action {
            case .create:
                done = .present(try await adapter.create(meetingId: claim.meetingId, plan: claim.plan, organizationId: organizationId,
                                                         credentials: opened))
            case .update:
                done = .present(try await adapter.update(platformMeetingId: claim.platformMeetingId!, meetingId: claim.meetingId,
                                                         plan: claim.plan, organizationId: organizationId, credentials: opened))
            default:
                try await adapter.remove(platformMeetingId: claim.platformMeetingId!, organizationId: organizationId, credentials: opened)
                done = .removed
            }
        } catch .transient(let reason) {
            if let delay = settings.retryDelay(afterAttempt: claim.attempts) {
                logger.notice("platform failed for now; will retry", metadata: ["attempt": "\(claim.attempts)", "reason": "\(reason)",
                                                                               "retryInMs": "\(delay.milliseconds)"])
                try await pool.withTransaction { tx in try await store.recordRetry(claim, after: delay, error: reason, in: tx) }
            } else {
                try await fail(claim, code: PlatformReason.unavailable,
                               message: "\(claim.platform) kept failing after \(claim.attempts) attempts: \(reason)", logger: logger)
            }
            return
        } catch .permanent(let code, let message) {
            try await fail(claim, code: code, message: message, logger: logger)
            return
        }
        switch done {
        case .present(let meeting): try await present(claim, meeting, logger: logger)
        case .removed: try await removed(claim, logger: logger)
        }
    }

    private func envelope<P: MessagePayload>(_ payload: P, _ claim: ProvisionStore.Claim) -> Envelope<P> {
        Envelope(type: P.messageType, version: P.version, source: service, correlationId: claim.correlationId,
                 organizationId: claim.organizationId, data: payload)
    }

    private func present(_ claim: ProvisionStore.Claim, _ meeting: CreatedMeeting?, logger: Logger) async throws {
        let sealed = try meeting?.startUrl.map {
            try settings.secrets.seal($0, context: "platform-bridge.start_url:\(claim.meetingId):\(claim.platform)")
        }
        try await pool.withTransaction { tx in
            let row = try await store.recordPresent(claim, meeting: meeting, startUrlSealed: sealed, sequence: claim.planSequence, in: tx)
            guard let id = row.platformMeetingId, let join = row.joinUrl else { return }
            try await tx.outbox(envelope(MeetingProvisioned(meetingId: claim.meetingId, sequence: claim.planSequence,
                                                            platform: claim.platform, platformMeetingId: id,
                                                            meetingNumber: row.meetingNumber, joinUrl: join,
                                                            password: row.password), claim), exchange: Exchange.events)
        }
        logger.info("meeting provisioned", metadata: ["sequence": "\(claim.planSequence)", "created": "\(claim.platformMeetingId == nil)"])
    }

    private func removed(_ claim: ProvisionStore.Claim, logger: Logger) async throws {
        try await pool.withTransaction { tx in
            try await store.recordRemoved(claim, in: tx)
            try await tx.outbox(envelope(PlatformMeetingRemoved(meetingId: claim.meetingId, sequence: claim.desiredSequence,
                                                                platform: claim.platform,
                                                                platformMeetingId: claim.platformMeetingId ?? ""), claim),
                                exchange: Exchange.events)
        }
        logger.info("meeting removed from the platform")
    }

    private func fail(_ claim: ProvisionStore.Claim, code: String, message: String, logger: Logger) async throws {
        try await pool.withTransaction { tx in
            guard try await store.recordFailed(claim, code: code, in: tx) else { return }
            // A removal that failed is logged; the host is told only when a meeting could not be set up.
            guard claim.desired == "present" else { return }
            try await tx.outbox(envelope(ProvisioningFailed(meetingId: claim.meetingId, sequence: claim.planSequence,
                                                            platform: claim.platform, reason: code, message: message,
                                                            host: claim.plan.host, topic: claim.plan.topic), claim),
                                exchange: Exchange.events)
        }
        logger.warning("provisioning failed", metadata: ["reason": "\(code)", "message": "\(message)", "desired": "\(claim.desired)"])
    }
}
