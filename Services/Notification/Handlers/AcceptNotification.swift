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
        try await intake.accept(message.data, sourceKey: message.data.idempotencyKey ?? message.id.uuidString.lowercased(),
                                organizationId: message.organizationId, correlationId: message.correlationId,
                                sink: EventSink(context))
        return Empty()
    }
}
