import Contracts
import Foundation
import Messaging
import Persistence

/// The internal command that sends one delivery; addressed to this service's own queue.
struct DeliverNotification: Codable, Sendable, Equatable {
    var deliveryId: UUID
}

/// `notification.send`: checks the request, records it once per idempotency key, and queues one
/// delivery per recipient and channel. Opted-out recipients (of a non-transactional category)
/// and invalid addresses are recorded as skipped / failed and reported, not sent.
struct AcceptNotification: MessageHandler {
    let service: String
    let templates: TemplateLibrary
    let store = DeliveryStore()
    static let channels: Set<String> = ["email"]
    static let maxRecipients = 1000

    var messageType: String { "\(service).send" }

    func handle(_ message: Envelope<SendNotification>, context: HandlerContext) async throws -> Empty {
        let request = message.data
        guard templates.locales[request.templateKey] != nil else {
            throw ConveneError(code: "notification.unknown_template", message: "no template \(request.templateKey)")
        }
        guard !request.channels.isEmpty, Set(request.channels).isSubset(of: Self.channels) else {
            throw ConveneError(code: "notification.unknown_channel",
                               message: "channels must be among \(Self.channels.sorted()), got \(request.channels)")
        }
        guard (1...Self.maxRecipients).contains(request.recipients.count) else {
            throw ConveneError(code: "notification.recipients", message: "between 1 and \(Self.maxRecipients) recipients")
        }
        let tx = context.transaction
        let sourceKey = request.idempotencyKey ?? message.id.uuidString.lowercased()
        guard let notification = try await store.insertNotification(
            request, sourceKey: sourceKey, organizationId: message.organizationId, correlationId: message.correlationId, in: tx)
        else {
            context.logger.info("notification already accepted", metadata: ["idempotencyKey": "\(sourceKey)"])
            return Empty()
        }
        let optedOut = request.transactional ? [] : try await store.optedOut(
            request.recipients.flatMap { [$0.email, $0.accountId].compactMap { $0 } }, category: request.category, in: tx)

        for recipient in request.recipients {
            for channel in request.channels {
                let id = UUID()
                let address = recipient.email ?? ""
                // (status, reason): queued to send, or settled now with the reason reported.
                let (status, reason): (String, String?) =
                    if !Mailbox.isValid(address) {
                        ("failed", "invalid email address")
                    } else if optedOut.contains(address) || recipient.accountId.map(optedOut.contains) == true {
                        ("skipped", "recipient opted out of \(request.category)")
                    } else {
                        ("queued", nil)
                    }
                // A recipient listed twice gets one delivery.
                guard try await store.insertDelivery(
                    id: id, notification: notification, channel: channel, recipient: address, name: recipient.name,
                    locale: recipient.locale, status: status, error: reason, in: tx) else { continue }
                if let reason {
                    try await context.publish(NotificationFailed(
                        deliveryId: id.uuidString.lowercased(), channel: channel, recipient: address,
                        templateKey: request.templateKey, reason: reason, permanent: true))
                } else {
                    let command = Envelope(type: "\(service).deliver", source: service, correlationId: message.correlationId,
                                           causationId: message.id.uuidString.lowercased(), organizationId: message.organizationId,
                                           data: DeliverNotification(deliveryId: id))
                    try await tx.outbox(command, exchange: Exchange.commands)
                }
            }
        }
        return Empty()
    }
}
