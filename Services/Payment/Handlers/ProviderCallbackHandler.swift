import Contracts
import Foundation
import Logging
import Persistence

/// `payment.provider_callback` (from the gateway) → `CallbackAnswer`.
///
/// Order of work: verify the signature over the raw body (nothing is read before); dedupe on
/// the provider's notification id; check the amount, currency and addressee against the order;
/// then record. Anything refused gets the provider's failure answer (it sends again later) and
/// changes nothing. Everything happens in the handler's one transaction, with the inbox row and
/// the outbox.
struct ProviderCallbackHandler: MessageHandler {
    let service: String
    let providers: Providers
    let clock: @Sendable () -> Date
    let store = OrderStore()
    let ledger: Ledger
    var messageType: String { Self.scoped(ProviderCallback.messageType, to: service) }
    var batchable: Bool { false }

    func handle(_ message: Envelope<ProviderCallback>, context: HandlerContext) async throws -> CallbackAnswer {
        let request = message.data
        var logger = context.logger
        logger[metadataKey: "provider"] = "\(request.provider)"
        guard let kind = PaymentProviderKind(rawValue: request.provider), let provider = providers[kind] else {
            logger.warning("callback for a provider that is not configured")
            return CallbackAnswer(status: 404, contentType: "text/plain; charset=utf-8", body: Data(Array("not found".utf8)).base64EncodedString())
        }
        guard let body = Data(base64Encoded: request.body) else {
            logger.warning("callback body is not base64")
            return Self.answer(provider.failureAcknowledgement(for: .callbackMalformed("body")))
        }
        let headers = ProviderHeaders(request.headers.compactMap { $0.count == 2 ? (name: $0[0], value: $0[1]) : nil })
        let callback: VerifiedCallback
        do throws(PaymentProviderError) {
            callback = try provider.verifyCallback(rawBody: Array(body), headers: headers, now: clock())
        } catch {
            // The reason names what failed, never a key or signature.
            logger.warning("callback refused", metadata: ["code": "\(error.code)", "reason": "\(error)"])
            return Self.answer(provider.failureAcknowledgement(for: error))
        }
        logger[metadataKey: "providerEventId"] = "\(callback.providerEventId)"
        let tx = context.transaction
        if try await store.eventSeen(provider: kind.rawValue, eventId: callback.providerEventId, in: tx) {
            logger.info("callback already handled; acknowledged again")
            return Self.answer(callback.acknowledgement)
        }
        let emitter = Emitter(context)
        switch callback.kind {
        case .paymentSucceeded:
            guard let number = callback.merchantOrderNumber, let order = try await store.order(number: number, locked: true, in: tx) else {
                logger.error("paid callback for an unknown order", metadata: ["orderNumber": "\(callback.merchantOrderNumber ?? "")"])
                return Self.answer(provider.failureAcknowledgement(for: .callbackMalformed("unknown order")))
            }
            guard let amount = callback.amount, AmountRules.matches(paid: amount, currency: callback.currency, order: order.amount) else {
                logger.error("paid callback does not match the order; order left unchanged", metadata: [
                    "code": "payment.amount_mismatch", "orderNumber": "\(order.orderNumber)",
                    "notified": "\(callback.amount.map(String.init) ?? "none") \(callback.currency ?? "")",
                    "expected": "\(order.amount)",
                ])
                return Self.answer(provider.failureAcknowledgement(for: .callbackMalformed("amount mismatch")))
            }
            guard try await store.recordEvent(provider: kind.rawValue, eventId: callback.providerEventId, kind: "payment",
                                              orderNumber: order.orderNumber, in: tx) else {
                return Self.answer(callback.acknowledgement)
            }
            let outcome = try await ledger.recordPayment(
                order, method: kind.rawValue, providerReference: nil, transactionId: callback.providerTransactionId,
                amountMinor: Int64(amount), paidAt: callback.occurredAt ?? clock(), emitter: emitter, logger: logger, in: tx)
            logger.info("payment callback handled", metadata: ["orderNumber": "\(order.orderNumber)", "outcome": "\(outcome)"])
        case .paymentClosed:
            _ = try await store.recordEvent(provider: kind.rawValue, eventId: callback.providerEventId, kind: "closed",
                                            orderNumber: callback.merchantOrderNumber, in: tx)
            if let number = callback.merchantOrderNumber, let order = try await store.order(number: number, in: tx) {
                // Only the checkout is over; a paid order stays paid (events come out of order).
                try await tx.query("""
                    UPDATE checkouts SET status = 'closed', updated_at = now()
                    WHERE order_id = $1 AND method = $2 AND status <> 'closed'
                    """, [order.id, kind.rawValue])
            }
        case .refundSucceeded, .refundFailed:
            _ = try await store.recordEvent(provider: kind.rawValue, eventId: callback.providerEventId, kind: "refund",
                                            orderNumber: callback.merchantOrderNumber, in: tx)
            try await settleRefunds(callback, provider: kind, emitter: emitter, logger: logger, in: tx)
        case .ignored(let type):
            _ = try await store.recordEvent(provider: kind.rawValue, eventId: callback.providerEventId, kind: "ignored",
                                            orderNumber: callback.merchantOrderNumber, in: tx)
            logger.info("callback of no interest acknowledged", metadata: ["eventType": "\(type)"])
        }
        return Self.answer(callback.acknowledgement)
    }

    /// A refund callback settles the refunds it is about: by our refund number when the provider
    /// echoes it, else those of the order that the cumulative refunded total covers. A refund we
    /// have not recorded (made at the provider's console) changes nothing.
    private func settleRefunds(_ callback: VerifiedCallback, provider: PaymentProviderKind, emitter: Emitter, logger: Logger,
                               in tx: Transaction) async throws {
        var order: Order?
        if let number = callback.merchantOrderNumber { order = try await store.order(number: number, locked: true, in: tx) }
        if order == nil, let transaction = callback.providerTransactionId {
            order = try await tx.query("SELECT \(OrderStore.columns) FROM orders WHERE provider_transaction_id = $1 FOR UPDATE",
                                       [transaction]).first.map(Order.init)
        }
        guard let order else {
            logger.warning("refund callback for an unknown order; nothing to settle")
            return
        }
        var candidates = try await store.refunds(orderId: order.id, in: tx).filter { $0.status == "pending" || $0.status == "processing" }
        if let number = callback.refundNumber { candidates = candidates.filter { $0.refundNumber == number } }
        guard !candidates.isEmpty else {
            logger.info("refund callback with no refund waiting for it", metadata: ["orderNumber": "\(order.orderNumber)"])
            return
        }
        if case .refundFailed = callback.kind {
            for refund in candidates {
                try await ledger.failRefund(refund, order: order, error: "the provider reports the refund failed", emitter: emitter, in: tx)
            }
            return
        }
        var covered = try await store.settledRefundTotal(orderId: order.id, in: tx)
        for refund in candidates {
            if callback.refundNumber == nil, let total = callback.refundedTotal, covered + refund.amount.amountMinor > Int64(total) {
                continue
            }
            try await ledger.settleRefund(refund, order: order, providerRefundId: nil, emitter: emitter, in: tx)
            covered += refund.amount.amountMinor
        }
    }

    static func answer(_ acknowledgement: CallbackAcknowledgement) -> CallbackAnswer {
        CallbackAnswer(status: acknowledgement.status, contentType: acknowledgement.contentType,
                       body: Data(acknowledgement.body).base64EncodedString())
    }
}
