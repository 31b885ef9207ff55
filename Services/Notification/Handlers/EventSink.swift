import Contracts
import Foundation
import Logging
import Messaging
import Persistence

/// Where the service's work writes what it emits: the outbox of the transaction it runs in.
/// A handler's sink carries the handled message's ids; the delivery workers' carry the ids of
/// the notification they deliver.
struct EventSink: Sendable {
    let transaction: Transaction
    let service: String
    let logger: Logger
    let correlationId: String?
    let causationId: String?

    init(transaction: Transaction, service: String, logger: Logger, correlationId: String?, causationId: String?) {
        self.transaction = transaction
        self.service = service
        self.logger = logger
        self.correlationId = correlationId
        self.causationId = causationId
    }

    init(_ context: HandlerContext) {
        let header = context.message.header
        self.init(transaction: context.transaction, service: context.service, logger: context.logger,
                  correlationId: header.correlationId ?? header.id.uuidString.lowercased(),
                  causationId: header.id.uuidString.lowercased())
    }

    func publish<P: MessagePayload>(_ payload: P, organizationId: String?) async throws {
        try await transaction.outbox(Envelope(type: P.messageType, version: P.version, source: service,
                                              correlationId: correlationId, causationId: causationId,
                                              organizationId: organizationId, data: payload), exchange: Exchange.events)
    }
}
