import Contracts
import Foundation
import Logging
import Messaging
import Persistence
import ServiceLifecycle

/// Sends queued deliveries (email, robots, webhooks), each exactly once on the common path.
///
/// `workers` loops each claim a batch of queued deliveries in a transaction that marks them
/// `sending` and commits before anything leaves (the intent), send them side by side, then
/// record every outcome with its event in one more transaction. A crash between sending and
/// recording leaves deliveries `sending` — later `unconfirmed` — never sent twice. A transient
/// failure puts the delivery in `waiting` for its back-off; the scheduler queues it again, so
/// retries survive restarts and hold nothing while they wait. New work wakes the loops through
/// NOTIFY (the deliveries table's trigger), with a poll as a fallback.
struct DeliveryWorker: Service {
    let service: String
    let pool: PGPool
    let settings: NotificationSettings
    let channels: DeliveryChannels
    let intake: NotificationIntake
    let logger: Logger
    let store = DeliveryStore()

    func run() async throws {
        let listener = NotificationListener(pool.configuration, channel: "\(pool.schema)_deliveries", logger: logger)
        let doorbell = Doorbell()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                // One listener for all loops: it rings when rows are queued, or after the poll
                // interval in case a NOTIFY was missed.
                group.addTask {
                    while !Task.isShuttingDownGracefully && !Task.isCancelled {
                        await listener.wait(timeout: settings.deliveryPollInterval)
                        await doorbell.ring()
                    }
                    await doorbell.close()
                }
                for _ in 0..<settings.deliveryWorkers {
                    group.addTask { await loop(doorbell) }
                }
            }
        } onGracefulShutdown: {
            listener.interrupt()
        }
        await listener.close()
    }

    private func loop(_ doorbell: Doorbell) async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Read before claiming, so a ring during the claim is not missed.
            let rung = await doorbell.rings
            do {
                // A full batch means more may be waiting: claim again at once.
                if try await round() == settings.deliveryBatch { continue }
            } catch {
                logger.error("delivery round failed; trying again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
            guard await doorbell.wait(after: rung) else { return }
        }
    }

    /// One batch: claim, send, record. Returns how many deliveries it claimed.
    func round() async throws -> Int {
        let claims = try await store.claim(limit: settings.deliveryBatch, robotLimit: settings.robotRateLimit,
                                           robots: channels.robots, webhooks: channels.webhooks, pool: pool)
        guard !claims.isEmpty else { return 0 }
        let results = await withTaskGroup(of: (DeliveryStore.Claimed, DeliveryResult)?.self) { group in
            for claim in claims {
                guard case .claimed(let delivery) = claim else { continue }
                group.addTask { (delivery, await channels.send(delivery)) }
            }
            var results: [(DeliveryStore.Claimed, DeliveryResult)] = []
            for await result in group { if let result { results.append(result) } }
            return results
        }
        try await pool.withTransaction { tx in
            for claim in claims {
                switch claim {
                case .claimed: break
                case .deferred(let id, let until):
                    logger.info("robot rate limit: delivery waits", metadata: ["deliveryId": "\(id)", "until": "\(ISO8601.format(until))"])
                case .skipped(let delivery, let reason):
                    try await store.finish(delivery.id, status: "skipped", error: reason, answer: nil, in: tx)
                    try await sink(for: delivery, tx).publish(NotificationFailed(
                        deliveryId: delivery.id.uuidString.lowercased(), channel: delivery.channel, recipient: delivery.recipient,
                        templateKey: delivery.templateKey, reason: reason, permanent: true), organizationId: delivery.organizationId)
                }
            }
            // The common case, sent, is recorded for the whole batch in two statements.
            var sent: [(DeliveryStore.Claimed, String)] = []
            for (delivery, result) in results {
                if delivery.robot != nil { try await store.robotSent(delivery.id, in: tx) }
                if case .sent(let answer) = result, delivery.channel != Channel.webhook {
                    sent.append((delivery, answer))
                } else {
                    try await record(result, of: delivery, sink: sink(for: delivery, tx))
                }
            }
            try await recordSent(sent, in: tx)
        }
        return claims.count
    }

    private func sink(for delivery: DeliveryStore.Claimed, _ tx: Transaction) -> EventSink {
        var logger = self.logger
        logger[metadataKey: "deliveryId"] = "\(delivery.id.uuidString.lowercased())"
        return EventSink(transaction: tx, service: service, logger: logger, correlationId: delivery.correlationId,
                         causationId: delivery.notificationId.uuidString.lowercased())
    }

    private func recordSent(_ sent: [(DeliveryStore.Claimed, String)], in tx: Transaction) async throws {
        guard !sent.isEmpty else { return }
        try await store.finishSent(sent.map { ($0.0.id, $0.1) }, in: tx)
        try await tx.outbox(sent.map { delivery, _ in
            Envelope(type: NotificationDelivered.messageType, version: NotificationDelivered.version, source: service,
                     correlationId: delivery.correlationId, causationId: delivery.notificationId.uuidString.lowercased(),
                     organizationId: delivery.organizationId,
                     data: NotificationDelivered(deliveryId: delivery.id.uuidString.lowercased(), channel: delivery.channel,
                                                 recipient: delivery.recipient, templateKey: delivery.templateKey,
                                                 attempts: delivery.attempts))
        }, exchange: Exchange.events)
    }

    private func record(_ result: DeliveryResult, of delivery: DeliveryStore.Claimed, sink: EventSink) async throws {
        let tx = sink.transaction
        let id = delivery.id.uuidString.lowercased()
        let webhook = delivery.channel == Channel.webhook ? UUID(uuidString: delivery.recipient) : nil
        let backoff = Backoff(delays: webhook != nil ? settings.webhookRetryDelays : settings.retryDelays)
        var failure: (reason: String, permanent: Bool)?
        switch result {
        case .sent(let answer):
            try await store.finish(delivery.id, status: "sent", error: nil, answer: answer, in: tx)
            if let webhook { try await channels.webhooks.recordSuccess(webhook, in: tx) }
            try await sink.publish(NotificationDelivered(
                deliveryId: id, channel: delivery.channel, recipient: delivery.recipient,
                templateKey: delivery.templateKey, attempts: delivery.attempts), organizationId: delivery.organizationId)
            return
        case .transient(let reason, let after):
            if let delay = after ?? backoff.delay(afterAttempt: delivery.attempts), delivery.attempts <= backoff.delays.count {
                try await store.wait(delivery.id, for: delay, error: reason, in: tx)
                sink.logger.notice("delivery failed for now; will retry", metadata: [
                    "channel": "\(delivery.channel)", "attempt": "\(delivery.attempts)", "reason": "\(reason)"])
            } else {
                failure = (reason, false)
            }
        case .permanent(let reason):
            failure = (reason, true)
        }
        if let failure {
            try await store.finish(delivery.id, status: "failed", error: failure.reason, answer: nil, in: tx)
            try await sink.publish(NotificationFailed(
                deliveryId: id, channel: delivery.channel, recipient: delivery.recipient, templateKey: delivery.templateKey,
                reason: failure.reason, permanent: failure.permanent), organizationId: delivery.organizationId)
        }
        if let webhook,
           let disabled = try await channels.webhooks.recordFailure(
               webhook, disableAfter: settings.webhookDisableAfter, minimumFailures: settings.webhookRetryDelays.count + 1, in: tx) {
            try await tellDisabled(webhook, disabled, sink: sink)
        }
    }

    /// The organization hears that its endpoint was switched off: an event for other systems,
    /// and a message to whoever set the webhook up.
    private func tellDisabled(_ webhook: UUID, _ disabled: WebhookStore.Disabled, sink: EventSink) async throws {
        let id = webhook.uuidString.lowercased()
        let reason = "failed \(disabled.failures) times in a row for longer than \(settings.webhookDisableAfter)"
        sink.logger.warning("webhook disabled", metadata: ["webhookId": "\(id)", "failures": "\(disabled.failures)"])
        try await sink.publish(WebhookDisabled(webhookId: id, url: disabled.url, reason: reason), organizationId: disabled.organizationId)
        let recipient = SendNotification.Recipient(accountId: disabled.createdBy, email: disabled.contactEmail)
        guard recipient.accountId != nil || recipient.email != nil else { return }
        let notice = SendNotification(
            category: "security", transactional: true, templateKey: "webhook.disabled",
            data: ["url": .string(disabled.url), "failures": .number(Double(disabled.failures)), "webhookId": .string(id)],
            recipients: [recipient], channels: [Channel.email, Channel.inbox])
        try await intake.accept(notice, sourceKey: "webhook-disabled:\(id):\(sink.causationId ?? UUID().uuidString)",
                                organizationId: disabled.organizationId, correlationId: sink.correlationId, sink: sink)
    }
}

/// Wakes every waiting worker loop at once.
actor Doorbell {
    private var waiting: [CheckedContinuation<Bool, Never>] = []
    private var closed = false
    private(set) var rings = 0

    /// Waits for a ring after the `rings` count a caller read; returns at once if one came
    /// since. Returns false once the doorbell is closed (the service is stopping).
    func wait(after seen: Int) async -> Bool {
        guard !closed else { return false }
        guard rings == seen else { return true }
        return await withCheckedContinuation { waiting.append($0) }
    }

    func ring() {
        rings += 1
        let woken = waiting
        waiting = []
        for continuation in woken { continuation.resume(returning: true) }
    }

    func close() {
        closed = true
        let woken = waiting
        waiting = []
        for continuation in woken { continuation.resume(returning: false) }
    }
}
