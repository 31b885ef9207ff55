import Contracts
import Foundation
import Persistence

extension Refund {
    func view(of order: Order) -> RefundView {
        RefundView(refundNumber: refundNumber, orderNumber: order.orderNumber, registrationId: order.registrationId,
                   amount: amount, reason: reason, status: status, kind: kind.rawValue, method: method ?? order.method,
                   payer: order.payer, lastError: lastError, createdAt: createdAt, settledAt: settledAt)
    }
}

/// `payment.list_refunds` → `[RefundView]`: the organization's refunds for its finance team.
struct ListRefundsHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    static let statuses: Set<String> = ["pending", "processing", "succeeded", "failed", "manual", "none"]
    var messageType: String { Self.scoped(ListRefunds.messageType, to: service) }

    func handle(_ message: Envelope<ListRefunds>, context: HandlerContext) async throws -> [RefundView] {
        guard let organizationId = message.organizationId, !organizationId.isEmpty else {
            throw ConveneError(code: "payment.organization_required", message: "the request names no organization")
        }
        let request = message.data
        if let status = request.status, !Self.statuses.contains(status) {
            throw ConveneError(code: "payment.invalid_request", message: "no refund status \"\(status)\"",
                               details: ["status": "one of \(Self.statuses.sorted().joined(separator: ", "))"])
        }
        guard (1...500).contains(request.limit) else {
            throw ConveneError(code: "payment.invalid_request", message: "limit is 1–500")
        }
        return try await store.refunds(organizationId: organizationId, status: request.status, limit: request.limit,
                                       in: context.transaction).map { $0.0.view(of: $0.1) }
    }
}

/// `payment.settle_manual_refund` → `RefundView`: staff paid a bank transfer's refund back.
/// Only a `manual` refund can be settled so; one already settled this way is answered again.
struct SettleManualRefundHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    let ledger: Ledger
    var messageType: String { Self.scoped(SettleManualRefund.messageType, to: service) }

    func handle(_ message: Envelope<SettleManualRefund>, context: HandlerContext) async throws -> RefundView {
        let request = message.data
        let tx = context.transaction
        guard let refund = try await store.refund(number: request.refundNumber, locked: true, in: tx),
              let order = try await store.order(id: refund.orderId, locked: true, in: tx), message.allows(order),
              message.organizationId.map({ !$0.isEmpty }) ?? false else {
            throw ConveneError(code: "payment.not_found", message: "no such refund")
        }
        if let note = request.note, note.count > 500 {
            throw ConveneError(code: "payment.invalid_request", message: "the note is at most 500 characters")
        }
        switch refund.status {
        case "manual":
            try await ledger.settleRefund(refund, order: order, providerRefundId: nil, emitter: Emitter(context), in: tx)
            try await store.recordManualSettlement(refund.refundNumber, settledBy: request.settledBy, note: request.note, in: tx)
            context.logger.notice("manual refund settled by staff", metadata: ["refundNumber": "\(refund.refundNumber)"])
        case "succeeded" where try await store.wasSettledByStaff(refund.refundNumber, in: tx):
            break
        default:
            throw ConveneError(code: "payment.refund_not_manual",
                               message: "refund \(refund.refundNumber) is \(refund.status); only a manual refund is settled by staff")
        }
        let settled = try await store.refund(number: refund.refundNumber, in: tx)!
        return settled.view(of: order)
    }
}
