import Contracts
import Foundation
import Logging
import Messaging
import Persistence
import ServiceLifecycle

/// Sends queued deliveries (email, robots, webhooks), each exactly once on the common path.
///
/// A pipeline without barriers: the claimer takes batches of queued deliveries in a transaction
/// that marks them `sending` and commits before anything leaves (the intent), as long as fewer
/// than `deliveryConcurrency` sends are in flight; each send runs on its own; the recorder
/// writes whatever outcomes have arrived, with their events, in one transaction at a time. A
/// crash between sending and recording leaves deliveries `sending` — later `unconfirmed` —
/// never sent twice. A transient failure puts the delivery in `waiting` for its back-off; the
/// scheduler queues it again, so retries survive restarts and hold nothing while they wait.
/// New work wakes the claimer through NOTIFY (the deliveries table's trigger), with a poll as a
/// fallback.
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
        let outcomes = Outcomes()
        let slots = Slots(settings.deliveryConcurrency)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                // One listener: it rings when rows are queued, or after the poll interval in
                // case a NOTIFY was missed.
                group.addTask {
                    while !Task.isShuttingDownGracefully && !Task.isCancelled {
                        await listener.wait(timeout: settings.deliveryPollInterval)
                        await doorbell.ring()
                    }
                    await doorbell.close()
                }
                group.addTask { await record(outcomes) }
                await withDiscardingTaskGroup { senders in
                    await claim(doorbell: doorbell, slots: slots, outcomes: outcomes, senders: &senders)
                }
                // Every send has finished: what is left to record is in `outcomes`.
                await outcomes.close()
            }
        } onGracefulShutdown: {
            listener.interrupt()
        }
        await listener.close()
    }

    /// Claims while there is room for more sends, and starts each send.
    private func claim(doorbell: Doorbell, slots: Slots, outcomes: Outcomes, senders: inout DiscardingTaskGroup) async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Read before claiming, so a ring during the claim is not missed.
            let rung = await doorbell.rings
            // Claims of one each would cost a transaction per delivery: wait for room for a batch.
            let batch = max(1, min(settings.deliveryBatch, settings.deliveryConcurrency / 2))
            let room = min(settings.deliveryBatch, await slots.free(atLeast: batch))
            let claims: [DeliveryStore.Claim]
            do {
                claims = try await store.claim(limit: room, robotLimit: settings.robotRateLimit,
                                               robots: channels.robots, webhooks: channels.webhooks, pool: pool)
            } catch {
                logger.error("claiming deliveries failed; trying again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            for claim in claims {
                guard case .claimed(let delivery) = claim else {
                    await outcomes.add(.settled(claim))
                    continue
                }
                await slots.take()
                senders.addTask {
                    let result = await channels.send(delivery)
                    await outcomes.add(.sent(delivery, result))
                    await slots.give()
                }
            }
            // A full claim means more may be waiting: claim again at once.
            if claims.count == room { continue }
            guard await doorbell.wait(after: rung) else { return }
        }
    }

    /// Writes the outcomes that have arrived, all in one transaction, until the pipeline closes.
    private func record(_ outcomes: Outcomes) async {
        while var batch = await outcomes.next() {
            // Outcomes arrive one by one; a moment's wait gathers many into one transaction
            // (and one outbox round for the relay) instead of one each.
            if batch.count < settings.deliveryBatch {
                try? await Task.sleep(for: settings.recordLinger)
                batch += await outcomes.drain()
            }
            var attempt = 0
            while true {
                do {
                    try await pool.withTransaction { tx in try await record(batch, in: tx) }
                    break
                } catch {
                    attempt += 1
                    // Given up, the deliveries stay `sending` and are later marked unconfirmed.
                    guard attempt < 5 else {
                        logger.critical("recording delivery outcomes failed; they will show as unconfirmed",
                                        metadata: ["count": "\(batch.count)", "error": "\(error)"])
                        break
                    }
                    logger.error("recording delivery outcomes failed; trying again", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(attempt))
                }
            }
        }
    }

    private func record(_ batch: [Outcome], in tx: Transaction) async throws {
        // The common case, sent, is recorded for the whole batch in two statements.
        var sent: [(DeliveryStore.Claimed, String)] = []
        for outcome in batch {
            switch outcome {
            case .settled(.deferred(let id, let until)):
                logger.info("robot rate limit: delivery waits", metadata: ["deliveryId": "\(id)", "until": "\(ISO8601.format(until))"])
            case .settled(.skipped(let delivery, let reason)):
                try await store.finish(delivery.id, status: "skipped", error: reason, answer: nil, in: tx)
                try await sink(for: delivery, tx).publish(NotificationFailed(
                    deliveryId: delivery.id.uuidString.lowercased(), channel: delivery.channel, recipient: delivery.recipient,
                    templateKey: delivery.templateKey, reason: reason, permanent: true), organizationId: delivery.organizationId)
            case .settled(.claimed):
                break
            case .sent(let delivery, let result):
                if delivery.robot != nil { try await store.robotSent(delivery.id, in: tx) }
                if case .sent(let answer) = result, delivery.channel != Channel.webhook {
                    sent.append((delivery, answer))
                } else {
                    try await record(result, of: delivery, sink: sink(for: delivery, tx))
                }
            }
        }
        try await recordSent(sent, in: tx)
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

/// What the recorder writes: the outcome of a send, or a claim settled without one.
enum Outcome: Sendable {
    case sent(DeliveryStore.Claimed, DeliveryResult)
    case settled(DeliveryStore.Claim)
}

/// Outcomes waiting to be recorded; `next` hands over all that arrived, waiting for one if none.
actor Outcomes {
    private var pending: [Outcome] = []
    private var waiter: CheckedContinuation<[Outcome]?, Never>?
    private var closed = false

    func add(_ outcome: Outcome) {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: [outcome])
        } else {
            pending.append(outcome)
        }
    }

    /// Whatever arrived, without waiting.
    func drain() -> [Outcome] {
        defer { pending = [] }
        return pending
    }

    /// nil once closed and drained.
    func next() async -> [Outcome]? {
        if !pending.isEmpty {
            defer { pending = [] }
            return pending
        }
        if closed { return nil }
        return await withCheckedContinuation { waiter = $0 }
    }

    func close() {
        closed = true
        if let waiter, pending.isEmpty {
            self.waiter = nil
            waiter.resume(returning: nil)
        }
    }
}

/// How many sends may be in flight.
actor Slots {
    private var available: Int
    private var waiting: (needed: Int, continuation: CheckedContinuation<Void, Never>)?

    init(_ capacity: Int) { available = capacity }

    /// Free slots, once at least `needed` are free. One caller (the claimer) waits at a time.
    func free(atLeast needed: Int) async -> Int {
        if available < needed { await withCheckedContinuation { waiting = (needed, $0) } }
        return available
    }

    func take() { available -= 1 }

    func give() {
        available += 1
        if let waiting, available >= waiting.needed {
            self.waiting = nil
            waiting.continuation.resume()
        }
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
