import Contracts
import Crypto
import Foundation
import Persistence

/// `payment.confirm_bank_transfer` → `OrderView`: staff saw the transfer arrive.
struct ConfirmBankTransferHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    let ledger: Ledger
    var messageType: String { Self.scoped(ConfirmBankTransfer.messageType, to: service) }

    func handle(_ message: Envelope<ConfirmBankTransfer>, context: HandlerContext) async throws -> OrderView {
        let request = message.data
        let tx = context.transaction
        guard let reference = BankReference.normalize(request.reference),
              let order = try await store.order(bankReference: reference, locked: true, in: tx), message.allows(order) else {
            throw PaymentErrors.notFound("no order has this transfer reference")
        }
        guard request.amount == order.amount else {
            throw ConveneError(code: "payment.amount_mismatch", message: "the order is for \(order.amount), not \(request.amount)",
                               details: ["expected": order.amount.description])
        }
        let outcome = try await ledger.recordPayment(order, method: PaymentMethod.bankTransfer.rawValue, providerReference: nil,
                                                     transactionId: "confirmed:\(request.confirmedBy)",
                                                     amountMinor: request.amount.amountMinor, paidAt: Date(),
                                                     emitter: Emitter(context), logger: context.logger, in: tx)
        if outcome == .duplicatePayment {
            throw ConveneError(code: "payment.already_paid", message: "the order was already paid with \(order.method ?? "another method")")
        }
        let current = try await store.order(id: order.id, in: tx)!
        return current.view(refunded: try await store.settledRefundTotal(orderId: order.id, in: tx))
    }
}

/// `payment.import_bank_statement` → `BankStatementReport`: each row whose remark holds an
/// order's reference and whose amount matches completes that order (one order per row: the first
/// reference in the remark). A row already imported is recognised by its content, so importing
/// the same statement twice changes nothing.
struct ImportBankStatementHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    let ledger: Ledger
    var messageType: String { Self.scoped(ImportBankStatement.messageType, to: service) }
    static let maxRows = 10_000

    func handle(_ message: Envelope<ImportBankStatement>, context: HandlerContext) async throws -> BankStatementReport {
        let tx = context.transaction
        let rows: [BankStatement.Row]
        do { rows = try BankStatement.parse(message.data.csv) } catch {
            throw ConveneError(code: "payment.invalid_statement", message: "\(error)")
        }
        guard rows.count <= Self.maxRows else {
            throw ConveneError(code: "payment.invalid_statement", message: "at most \(Self.maxRows) rows per import")
        }
        var report: [BankStatementReport.Row] = []
        for row in rows {
            switch row {
            case .invalid(let line, _):
                report.append(.init(line: line, outcome: "invalid", reference: nil, orderNumber: nil))
            case .line(let line):
                report.append(try await apply(line, message: message, context: context, in: tx))
            }
        }
        context.logger.info("bank statement imported", metadata: [
            "rows": "\(report.count)", "matched": "\(report.filter { $0.outcome == "matched" }.count)",
            "by": "\(message.data.importedBy)",
        ])
        return BankStatementReport(rows: report)
    }

    private func apply(_ line: StatementLine, message: Envelope<ImportBankStatement>, context: HandlerContext,
                       in tx: Transaction) async throws -> BankStatementReport.Row {
        guard let reference = line.references.first else {
            return .init(line: line.line, outcome: "no_reference", reference: nil, orderNumber: nil)
        }
        guard let order = try await store.order(bankReference: reference, locked: true, in: tx), message.allows(order) else {
            return .init(line: line.line, outcome: "unknown_reference", reference: reference, orderNumber: nil)
        }
        func row(_ outcome: String) -> BankStatementReport.Row {
            .init(line: line.line, outcome: outcome, reference: reference, orderNumber: order.orderNumber)
        }
        let fingerprint = Self.fingerprint(line)
        if try await store.bankReceiptOrder(fingerprint: fingerprint, in: tx) != nil { return row("already_paid") }
        guard line.amountMinor == order.amount.amountMinor, line.currency == order.amount.currency else {
            return row("amount_mismatch")
        }
        // A transfer for an order paid already (another method, or a second transfer) is money
        // without a seat: it is recorded with a manual refund for staff to pay back.
        let outcome = try await ledger.recordPayment(order, method: PaymentMethod.bankTransfer.rawValue, providerReference: nil,
                                                     transactionId: "statement:" + fingerprint.prefix(16),
                                                     amountMinor: line.amountMinor, paidAt: Date(), emitter: Emitter(context),
                                                     logger: context.logger, in: tx)
        _ = try await store.recordBankReceipt(fingerprint: fingerprint, orderId: order.id, line: line,
                                              importedBy: message.data.importedBy, in: tx)
        return row(outcome == .duplicatePayment ? "duplicate_payment" : "matched")
    }

    /// The row's content (not its position): the same transfer in another export is the same row.
    static func fingerprint(_ line: StatementLine) -> String {
        let text = [line.date, String(line.amountMinor), line.currency, line.remark].joined(separator: "\u{1F}")
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
