import Contracts
import Foundation
import Logging
import Persistence

/// The rules that move money state, shared by callbacks, reconciliation, bank transfers and
/// waivers: each runs inside the caller's transaction with the order locked, and writes its
/// events to that transaction's outbox.
struct Ledger: Sendable {
    let store = OrderStore()

    enum PaidOutcome: Equatable {
        /// Recorded; `payment.succeeded` emitted.
        case recorded(receiptNumber: String?)
        /// This very payment was recorded before.
        case alreadyRecorded
        /// Money arrived a second time for an order already paid another way.
        case duplicatePayment
    }

    /// Money arrived for `order` (locked by the caller). A pending order becomes `paid`; an
    /// expired, cancelled or waived one `paid_late` (registration refunds it if the seat is gone):
    /// either way `payment.succeeded` is emitted, so money is never kept silently. Other
    /// checkouts of the order are closed by the timer.
    func recordPayment(_ order: Order, method: String, providerReference: String?, transactionId: String?,
                       amountMinor: Int64, paidAt: Date, emitter: Emitter, logger: Logger,
                       in tx: Transaction) async throws -> PaidOutcome {
        if order.status.hasMoney {
            if order.method == method && (transactionId == nil || order.providerTransactionId == transactionId) {
                return .alreadyRecorded
            }
            logger.error("money arrived twice for one order: staff must refund the second payment", metadata: [
                "code": "payment.double_payment", "orderNumber": "\(order.orderNumber)", "method": "\(method)",
                "transactionId": "\(transactionId ?? "")", "paidWith": "\(order.method ?? "")",
            ])
            return .duplicatePayment
        }
        let status: OrderStatus = order.status == .pending ? .paid : .paidLate
        if status == .paidLate {
            logger.warning("payment arrived for an order no longer open; registration decides whether to refund",
                           metadata: ["orderNumber": "\(order.orderNumber)", "was": "\(order.status.rawValue)"])
        }
        let receipt = try await store.markPaid(order, status: status, method: method, providerReference: providerReference,
                                               transactionId: transactionId, amountMinor: amountMinor, paidAt: paidAt,
                                               issueReceipt: true, in: tx)
        try await store.closeCheckouts(orderId: order.id, except: method, in: tx)
        try await emitter.publish(PaymentSucceeded(registrationId: order.registrationId, orderNumber: order.orderNumber,
                                                   amount: order.amount.withAmount(amountMinor), method: method, paidAt: paidAt,
                                                   receiptNumber: receipt, payer: order.payer),
                                  organizationId: order.organizationId, in: tx)
        return .recorded(receiptNumber: receipt)
    }

    /// A refund the provider confirmed (callback or answer): `succeeded`, the order's status, `payment.refunded`.
    func settleRefund(_ refund: Refund, order: Order, providerRefundId: String?, emitter: Emitter,
                      in tx: Transaction) async throws {
        guard refund.status == "pending" || refund.status == "processing" else { return }
        try await store.updateRefund(refund.refundNumber, status: "succeeded", providerRefundId: providerRefundId,
                                     nextAttempt: nil, error: nil, in: tx)
        try await store.updateRefundedStatus(order, in: tx)
        try await emitter.publish(RefundSettled(registrationId: order.registrationId, refundNumber: refund.refundNumber,
                                                amount: refund.amount, reason: refund.reason, payer: order.payer),
                                  organizationId: order.organizationId, in: tx)
    }

    func failRefund(_ refund: Refund, order: Order, error: String, emitter: Emitter, in tx: Transaction) async throws {
        guard refund.status == "pending" || refund.status == "processing" else { return }
        try await store.updateRefund(refund.refundNumber, status: "failed", providerRefundId: nil, nextAttempt: nil,
                                     error: error, in: tx)
        try await emitter.publish(RefundFailed(registrationId: order.registrationId, refundNumber: refund.refundNumber,
                                               amount: refund.amount, error: error),
                                  organizationId: order.organizationId, in: tx)
    }
}

extension Order {
    func view(refunded: Int64) -> OrderView {
        OrderView(orderNumber: orderNumber, registrationId: registrationId, conferenceId: conferenceId, amount: amount,
                  status: status.rawValue, method: method, expiresAt: expiresAt, paidAt: paidAt, receiptNumber: receiptNumber,
                  refunded: refunded > 0 ? amount.withAmount(refunded) : nil, invoice: invoice)
    }
}
