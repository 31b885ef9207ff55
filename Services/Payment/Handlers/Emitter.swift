import Contracts
import Foundation
import Messaging
import Persistence

/// Writes the service's events to the outbox of a transaction: from a handler (caused by and
/// correlated with the message it handles) or from a timer (a flow of its own).
struct Emitter: Sendable {
    let source: String
    let correlationId: String?
    let causationId: String?

    init(source: String, correlationId: String? = nil, causationId: String? = nil) {
        self.source = source
        self.correlationId = correlationId
        self.causationId = causationId
    }

    init(_ context: HandlerContext) {
        let header = context.message.header
        source = context.service
        correlationId = header.correlationId ?? header.id.uuidString.lowercased()
        causationId = header.id.uuidString.lowercased()
    }

    func publish<P: MessagePayload>(_ payload: P, organizationId: String?, in tx: Transaction) async throws {
        let id = UUID()
        let envelope = Envelope(id: id, type: P.messageType, version: P.version, source: source,
                                correlationId: correlationId ?? id.uuidString.lowercased(), causationId: causationId,
                                organizationId: organizationId, data: payload)
        try await tx.outbox(envelope, exchange: Exchange.events)
    }
}

extension MessageHandler {
    /// `payment.x` served by a service whose queue has another name (tests run many).
    static func scoped(_ type: String, to service: String) -> String {
        service + type.drop { $0 != "." }
    }
}
