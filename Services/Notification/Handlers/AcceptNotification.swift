import Contracts
import Foundation
import Persistence

/// `notification.send`: checks the request, records it once per idempotency key, and queues one
/// delivery per recipient and channel. Opted-out recipients (of a non-transactional category)
/// and invalid addresses are recorded as skipped / failed and reported, not sent.
struct AcceptNotification: MessageHandler {
    let service: String
    let intake: NotificationIntake

    var messageType: String { "\(service).send" }

    func handle(_ message: Envelope<SendNotification>, context: HandlerContext) async throws -> Empty {
        try intake.validate(message.data)
        let messageId = message.id.uuidString.lowercased()
        try await intake.accept(message.data, sourceKey: message.data.idempotencyKey ?? messageId,
                                organizationId: message.organizationId, correlationId: message.correlationId,
                                causationId: messageId, context: context)
        return Empty()
    }
}
