import Contracts
import Foundation
import HTTPClient
import Persistence

/// `<service>.deliver`: sends one delivery by email, exactly once on the common path.
///
/// The delivery is first marked `sending` in a transaction of its own (the intent), then the
/// mail goes out, then the outcome is recorded with its event in the handler's transaction.
/// A redelivered command finds the delivery no longer `queued` and sends nothing; a crash
/// between sending and recording leaves it `sending`, never sent twice.
///
/// The intent commits through `intents`, a small pool of its own: taking a second connection
/// from the pool that holds the handler's transaction could deadlock once every connection of
/// that pool belongs to a handler waiting for another.
struct DeliverEmail: MessageHandler {
    let service: String
    let intents: PGPool
    let templates: TemplateLibrary
    let settings: NotificationSettings
    let smtp: SMTPClient
    let store = DeliveryStore()

    var messageType: String { "\(service).deliver" }
    var batchable: Bool { false }

    func handle(_ message: Envelope<DeliverNotification>, context: HandlerContext) async throws -> Empty {
        guard let delivery = try await store.claim(message.data.deliveryId, pool: intents) else {
            let status = try await store.status(message.data.deliveryId, in: context.transaction)
            context.logger.info("delivery not queued; nothing to send", metadata: ["status": "\(status ?? "missing")"])
            return Empty()
        }
        let outcome: Result<Void, any Error>
        do {
            let rendered = try templates.render(delivery.templateKey, locale: delivery.locale,
                                                data: delivery.data.mapValues(\.plain).merging(
                                                    ["recipientName": delivery.recipientName ?? delivery.recipient]) { given, _ in given })
            let email = EmailMessage(
                from: settings.from, to: [Mailbox(name: delivery.recipientName, address: delivery.recipient)],
                replyTo: settings.replyTo, subject: rendered.subject, text: rendered.text, html: rendered.html,
                calendar: nil, messageID: "\(delivery.id.uuidString.lowercased())@\(settings.from.address.split(separator: "@").last ?? "convene")",
                date: Date())
            try await smtp.send(from: settings.from.address, recipients: [delivery.recipient], message: email.render())
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let tx = context.transaction
        let base = (id: delivery.id.uuidString.lowercased(), channel: delivery.channel, recipient: delivery.recipient)
        switch outcome {
        case .success:
            try await store.finish(delivery.id, status: "sent", error: nil, answer: "accepted by SMTP server", in: tx)
            try await context.publish(NotificationDelivered(
                deliveryId: base.id, channel: base.channel, recipient: base.recipient,
                templateKey: delivery.templateKey, attempts: delivery.attempts), organizationId: delivery.organizationId)
        case .failure(let error):
            let permanent = (error as? SMTPError)?.isPermanent ?? (error is TemplateLibrary.Missing)
            let reason = "\(error)"
            if !permanent && context.message.retryCount < settings.retries {
                try await store.requeue(delivery.id, error: reason, pool: intents)
                throw ConveneError(code: "notification.smtp_unavailable", message: reason, retryable: true)
            }
            try await store.finish(delivery.id, status: "failed", error: reason, answer: nil, in: tx)
            try await context.publish(NotificationFailed(
                deliveryId: base.id, channel: base.channel, recipient: base.recipient, templateKey: delivery.templateKey,
                reason: reason, permanent: permanent), organizationId: delivery.organizationId)
        }
        return Empty()
    }
}
