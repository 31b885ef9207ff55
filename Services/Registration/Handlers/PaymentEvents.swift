import Contracts
import Foundation
import Persistence

/// Loads the registration a payment event is about, locked after its conference's seats.
struct PaymentSubject {
    static func load(_ rawId: String, store: RegistrationStore, flow: RegistrationFlow,
                     tx: Transaction) async throws -> (RegistrationRecord, ConferenceRecord, RegistrationFlow.Rules)? {
        guard let id = UUID(uuidString: rawId), let peek = try await store.find(id, in: tx) else { return nil }
        let (conference, rules) = try await flow.locked(conferenceId: peek.conferenceId, in: tx)
        guard let record = try await store.find(id, forUpdate: true, in: tx) else { return nil }
        return (record, conference, rules)
    }
}

/// `payment.succeeded`: confirms a registration awaiting payment; money for one that no longer
/// holds a seat (expired, withdrawn, cancelled, already paid) is refunded at once.
struct OnPaymentSucceeded: MessageHandler {
    let store: RegistrationStore
    let flow: RegistrationFlow
    var messageType: String { PaymentSucceeded.messageType }

    func handle(_ message: Envelope<PaymentSucceeded>, context: HandlerContext) async throws -> Empty {
        guard let (record, conference, rules) = try await PaymentSubject.load(message.data.registrationId, store: store, flow: flow,
                                                                             tx: context.transaction) else {
            context.logger.error("payment for an unknown registration", metadata: ["registrationId": "\(message.data.registrationId)"])
            return Empty()
        }
        try await flow.apply(.paymentSucceeded(message.data.amount), to: record, conference: conference, rules: rules, context: context)
        return Empty()
    }
}

/// `payment.order_expired`: the held seat is released and offered to the waitlist.
struct OnOrderExpired: MessageHandler {
    let store: RegistrationStore
    let flow: RegistrationFlow
    var messageType: String { OrderExpired.messageType }

    func handle(_ message: Envelope<OrderExpired>, context: HandlerContext) async throws -> Empty {
        guard let (record, conference, rules) = try await PaymentSubject.load(message.data.registrationId, store: store, flow: flow,
                                                                             tx: context.transaction) else { return Empty() }
        try await flow.apply(.orderExpired, to: record, conference: conference, rules: rules, context: context)
        return Empty()
    }
}

/// `payment.refunded`: the refund the registration decided (and counted in `refunded` then) has
/// reached the payer. Nothing changes; the event is for the record and the participant's mail.
struct OnRefunded: MessageHandler {
    var messageType: String { RefundSettled.messageType }

    func handle(_ message: Envelope<RefundSettled>, context: HandlerContext) async throws -> Empty {
        context.logger.info("refund settled", metadata: ["registrationId": "\(message.data.registrationId)",
                                                         "refundNumber": "\(message.data.refundNumber)"])
        return Empty()
    }
}

/// `payment.refund_failed`: a refund counted when it was decided did not happen; it comes off
/// `refunded` again, and staff must settle it by hand (the error is logged for them).
struct OnRefundFailed: MessageHandler {
    let store: RegistrationStore
    var messageType: String { RefundFailed.messageType }

    func handle(_ message: Envelope<RefundFailed>, context: HandlerContext) async throws -> Empty {
        // A duplicate payment's refund was payment's own business, never counted here.
        guard message.data.kind != "duplicate_payment" else { return Empty() }
        guard let id = UUID(uuidString: message.data.registrationId),
              var record = try await store.find(id, forUpdate: true, in: context.transaction),
              message.data.amount.currency == record.state.refunded.currency else { return Empty() }
        record.state.refunded.amountMinor = max(0, record.state.refunded.amountMinor - message.data.amount.amountMinor)
        try await store.save(record, in: context.transaction)
        context.logger.error("a refund failed; settle it by hand", metadata: [
            "registrationId": "\(message.data.registrationId)", "refundNumber": "\(message.data.refundNumber)",
            "error": "\(message.data.error)"])
        return Empty()
    }
}
