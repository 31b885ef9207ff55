import Contracts
import Foundation
import Logging
import Persistence

/// The rules that move money state, shared by callbacks, reconciliation, bank transfers and
/// waivers: each runs inside the caller's transaction with the order locked, and writes its
/// events to that transaction's outbox.
struct Ledger: Sendable {
    let store = OrderStore()
    /// The gateway's public base URL (`PAYMENT_PUBLIC_URL`) for receipt links; empty: no links.
    let publicURL: String

    init(publicURL: String) {
        self.publicURL = publicURL
    }

    enum PaidOutcome: Equatable {
        /// Recorded; `payment.succeeded` emitted.
        case recorded(receiptNumber: String?)
        /// This very payment was recorded before.
        case alreadyRecorded
        /// Money arrived a second time for an order already paid another way: its refund is
        /// recorded (the refund timer returns it at its provider; staff pay back a bank transfer).
        case duplicatePayment
    }

    /// Money arrived for `order` (locked by the caller). A pending order becomes `paid`; an
    /// expired, cancelled or waived one `paid_late` (registration refunds it if the seat is gone):
    /// either way `payment.succeeded` is emitted, so money is never kept silently. Other
    /// checkouts of the order are closed by the timer. A second payment for an order that has
    /// money already is refunded in full (`duplicate_payment`).
    func recordPayment(_ order: Order, method: String, providerReference: String?, transactionId: String?,
                       amountMinor: Int64, paidAt: Date, emitter: Emitter, logger: Logger,
                       in tx: Transaction) async throws -> PaidOutcome {
        if order.status.hasMoney {
            if order.method == method && (transactionId == nil || order.providerTransactionId == transactionId) {
                return .alreadyRecorded
            }
            let number = DuplicatePaymentRefund.number(orderNumber: order.orderNumber, method: method,
                                                       transactionId: transactionId, paidAt: paidAt)
            let manual = method == PaymentMethod.bankTransfer.rawValue
            let recorded = try await store.insertDuplicatePaymentRefund(
                number: number, orderId: order.id, amount: order.amount.withAmount(amountMinor), method: method,
                transactionId: transactionId, reason: DuplicatePaymentRefund.reason, status: manual ? "manual" : "pending", in: tx)
            logger.warning("money arrived twice for one order; the second payment is refunded", metadata: [
                "code": "payment.double_payment", "orderNumber": "\(order.orderNumber)", "method": "\(method)",
                "paidWith": "\(order.method ?? "")", "refundNumber": "\(number)", "new": "\(recorded)",
                "manual": "\(manual)",
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
                                                   receiptNumber: receipt?.number, payer: order.payer,
                                                   receiptUrl: ReceiptLink.url(publicURL: publicURL, orderNumber: order.orderNumber,
                                                                               token: receipt?.token)),
                                  organizationId: order.organizationId, in: tx)
        return .recorded(receiptNumber: receipt?.number)
    }

    /// A refund the provider confirmed (callback or answer): `succeeded`, the order's status, `payment.refunded`.
    func settleRefund(_ refund: Refund, order: Order, providerRefundId: String?, emitter: Emitter,
                      in tx: Transaction) async throws {
        guard ["pending", "processing", "manual"].contains(refund.status) else { return }
        try await store.updateRefund(refund.refundNumber, status: "succeeded", providerRefundId: providerRefundId,
                                     nextAttempt: nil, error: nil, in: tx)
        try await store.updateRefundedStatus(order, in: tx)
        try await emitter.publish(RefundSettled(registrationId: order.registrationId, refundNumber: refund.refundNumber,
                                                amount: refund.amount, reason: refund.reason, payer: order.payer,
                                                kind: refund.kind.rawValue),
                                  organizationId: order.organizationId, in: tx)
    }

    func failRefund(_ refund: Refund, order: Order, error: String, emitter: Emitter, in tx: Transaction) async throws {
        guard refund.status == "pending" || refund.status == "processing" else { return }
        try await store.updateRefund(refund.refundNumber, status: "failed", providerRefundId: nil, nextAttempt: nil,
                                     error: error, in: tx)
        try await emitter.publish(RefundFailed(registrationId: order.registrationId, refundNumber: refund.refundNumber,
                                               amount: refund.amount, error: error, kind: refund.kind.rawValue),
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
