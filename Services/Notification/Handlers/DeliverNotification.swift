import Contracts
import Foundation
import HTTPClient
import Persistence

/// The internal command that sends one delivery; addressed to this service's own queue.
struct DeliverNotification: Codable, Sendable, Equatable {
    var deliveryId: UUID
}

/// `<service>.deliver`: sends one delivery (email, robot or webhook), exactly once on the
/// common path.
///
/// The delivery is first marked `sending` in a transaction of its own (the intent), then it goes
/// out, then the outcome is recorded with its event in the handler's transaction. A redelivered
/// command finds the delivery no longer `queued` and sends nothing; a crash between sending and
/// recording leaves it `sending` (later `unconfirmed`), never sent twice.
///
/// The intent commits through `intents`, a small pool of its own: taking a second connection
/// from the pool that holds the handler's transaction could deadlock once every connection of
/// that pool belongs to a handler waiting for another.
///
/// A transient failure puts the delivery in `waiting` for its back-off; the scheduler queues it
/// again. Retries therefore survive restarts and never hold a consumer slot while they wait.
struct DeliverNotificationHandler: MessageHandler {
    let service: String
    let intents: PGPool
    let settings: NotificationSettings
    let channels: DeliveryChannels
    let intake: NotificationIntake
    let store = DeliveryStore()

    var messageType: String { "\(service).deliver" }
    var batchable: Bool { false }

    func handle(_ message: Envelope<DeliverNotification>, context: HandlerContext) async throws -> Empty {
        let delivery: DeliveryStore.Claimed
        switch try await store.claim(message.data.deliveryId, pool: intents, robotLimit: settings.robotRateLimit) {
        case .notQueued(let status):
            context.logger.info("delivery not queued; nothing to send", metadata: ["status": "\(status)"])
            return Empty()
        case .deferred(let until):
            context.logger.info("robot rate limit: delivery waits", metadata: ["until": "\(ISO8601.format(until))"])
            return Empty()
        case .skipped(let skipped, let reason):
            try await store.finish(skipped.id, status: "skipped", error: reason, answer: nil, in: context.transaction)
            try await context.publish(NotificationFailed(
                deliveryId: skipped.id.uuidString.lowercased(), channel: skipped.channel, recipient: skipped.recipient,
                templateKey: skipped.templateKey, reason: reason, permanent: true), organizationId: skipped.organizationId)
            return Empty()
        case .claimed(let claimed):
            delivery = claimed
        }
        let result = await channels.send(delivery, context: context)
        try await record(result, of: delivery, context: context)
        return Empty()
    }

    private func record(_ result: DeliveryResult, of delivery: DeliveryStore.Claimed, context: HandlerContext) async throws {
        let tx = context.transaction
        let id = delivery.id.uuidString.lowercased()
        let webhook = delivery.channel == Channel.webhook ? UUID(uuidString: delivery.recipient) : nil
        let backoff = Backoff(delays: webhook != nil ? settings.webhookRetryDelays : settings.retryDelays)
        var failure: (reason: String, permanent: Bool)?
        switch result {
        case .sent(let answer):
            try await store.finish(delivery.id, status: "sent", error: nil, answer: answer, in: tx)
            if let webhook { try await channels.webhooks.recordSuccess(webhook, in: tx) }
            try await context.publish(NotificationDelivered(
                deliveryId: id, channel: delivery.channel, recipient: delivery.recipient,
                templateKey: delivery.templateKey, attempts: delivery.attempts), organizationId: delivery.organizationId)
            return
        case .transient(let reason, let after):
            if let delay = after ?? backoff.delay(afterAttempt: delivery.attempts), delivery.attempts <= backoff.delays.count {
                try await store.wait(delivery.id, for: delay, error: reason, in: tx)
                context.logger.notice("delivery failed for now; will retry", metadata: [
                    "channel": "\(delivery.channel)", "attempt": "\(delivery.attempts)", "reason": "\(reason)"])
            } else {
                failure = (reason, false)
            }
        case .permanent(let reason):
            failure = (reason, true)
        }
        if let failure {
            try await store.finish(delivery.id, status: "failed", error: failure.reason, answer: nil, in: tx)
            try await context.publish(NotificationFailed(
                deliveryId: id, channel: delivery.channel, recipient: delivery.recipient, templateKey: delivery.templateKey,
                reason: failure.reason, permanent: failure.permanent), organizationId: delivery.organizationId)
        }
        if let webhook,
           let disabled = try await channels.webhooks.recordFailure(webhook, disableAfter: settings.webhookDisableAfter, in: tx) {
            try await tellDisabled(webhook, disabled, context: context)
        }
    }

    /// The organization hears that its endpoint was switched off: an event for other systems,
    /// and a message to whoever set the webhook up.
    private func tellDisabled(_ webhook: UUID, _ disabled: WebhookStore.Disabled, context: HandlerContext) async throws {
        let id = webhook.uuidString.lowercased()
        let reason = "failed \(disabled.failures) times in a row for longer than \(settings.webhookDisableAfter)"
        context.logger.warning("webhook disabled", metadata: ["webhookId": "\(id)", "failures": "\(disabled.failures)"])
        try await context.publish(WebhookDisabled(webhookId: id, url: disabled.url, reason: reason),
                                  organizationId: disabled.organizationId)
        let recipient = SendNotification.Recipient(accountId: disabled.createdBy, email: disabled.contactEmail)
        guard recipient.accountId != nil || recipient.email != nil else { return }
        let notice = SendNotification(
            category: "security", transactional: true, templateKey: "webhook.disabled",
            data: ["url": .string(disabled.url), "failures": .number(Double(disabled.failures)), "webhookId": .string(id)],
            recipients: [recipient], channels: [Channel.email, Channel.inbox])
        try await intake.accept(notice, sourceKey: "webhook-disabled:\(id):\(context.message.header.id.uuidString.lowercased())",
                                organizationId: disabled.organizationId, correlationId: context.message.header.correlationId,
                                causationId: context.message.header.id.uuidString.lowercased(), context: context)
    }
}
