import Contracts
import Foundation
import Persistence

/// `payment.refund` (command from registration): records the refund, once per refund number.
/// The provider is called by the timer (`PaymentTimers`) after this transaction commits, with
/// the refund number as its idempotency key, retried with back-off while it is unavailable;
/// it settles with `payment.refunded` or `payment.refund_failed`. A bank transfer becomes a
/// `manual` refund for staff; a waived order has nothing to refund.
struct RefundHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    var messageType: String { Self.scoped(RequestRefund.messageType, to: service) }

    func handle(_ message: Envelope<RequestRefund>, context: HandlerContext) async throws -> Empty {
        let request = message.data
        let tx = context.transaction
        let emitter = Emitter(context)
        var logger = context.logger
        logger[metadataKey: "refundNumber"] = "\(request.refundNumber)"
        guard (1...64).contains(request.refundNumber.utf8.count),
              request.refundNumber.utf8.allSatisfy({ $0 < 128 && (Character(Unicode.Scalar($0)).isLetter
                  || Character(Unicode.Scalar($0)).isNumber || "_-|*@".utf8.contains($0)) }) else {
            throw ConveneError(code: "payment.invalid_refund_number", message: "a refund number is 1–64 of A-Z a-z 0-9 _ - | * @")
        }
        guard let order = try await store.paidOrder(registrationId: request.registrationId, in: tx) else {
            // Nothing was paid: say so, so the registration's flow does not wait for ever.
            logger.warning("refund asked for a registration without money received")
            try await emitter.publish(RefundFailed(registrationId: request.registrationId, refundNumber: request.refundNumber,
                                                   amount: request.amount, error: "payment.nothing_paid"),
                                      organizationId: message.organizationId, in: tx)
            return Empty()
        }
        if let existing = try await store.refund(number: request.refundNumber, in: tx) {
            if existing.amount != request.amount || existing.orderId != order.id {
                logger.error("a refund number was reused for another refund; ignored",
                             metadata: ["code": "payment.refund_number_reused"])
            } else {
                logger.info("refund already recorded; nothing to do")
            }
            return Empty()
        }
        if order.status == .waived {
            _ = try await store.insertRefund(number: request.refundNumber, orderId: order.id, amount: request.amount.withAmount(0),
                                             reason: request.reason, status: "none", in: tx)
            try await emitter.publish(RefundSettled(registrationId: order.registrationId, refundNumber: request.refundNumber,
                                                    amount: order.amount.withAmount(0), reason: request.reason, payer: order.payer),
                                      organizationId: order.organizationId, in: tx)
            logger.info("the fee was waived: nothing to refund")
            return Empty()
        }
        let already = try await store.refundedTotal(orderId: order.id, in: tx)
        if let problem = AmountRules.refundProblem(amount: request.amount, paid: order.paid, alreadyRefunded: already) {
            _ = try await store.insertRefund(number: request.refundNumber, orderId: order.id, amount: request.amount,
                                             reason: request.reason, status: "failed", in: tx)
            try await tx.query("UPDATE refunds SET last_error = $2, settled_at = now() WHERE refund_number = $1",
                               [request.refundNumber, problem])
            try await emitter.publish(RefundFailed(registrationId: order.registrationId, refundNumber: request.refundNumber,
                                                   amount: request.amount, error: "payment.refund_exceeds_paid: \(problem)"),
                                      organizationId: order.organizationId, in: tx)
            logger.warning("refund refused", metadata: ["reason": "\(problem)"])
            return Empty()
        }
        let manual = order.method == PaymentMethod.bankTransfer.rawValue
        _ = try await store.insertRefund(number: request.refundNumber, orderId: order.id, amount: request.amount,
                                         reason: request.reason, status: manual ? "manual" : "pending", in: tx)
        if manual {
            logger.notice("bank transfer refund recorded for staff to pay back", metadata: ["orderNumber": "\(order.orderNumber)"])
        } else {
            logger.info("refund recorded; the timer asks the provider", metadata: ["orderNumber": "\(order.orderNumber)"])
        }
        return Empty()
    }
}
