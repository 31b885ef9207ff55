import Contracts
import Foundation
import Persistence

/// One order as stored.
struct Order: Sendable {
    var id: UUID
    var orderNumber: String
    var registrationId: String
    var conferenceId: String
    var organizationId: String?
    var payer: Payer
    var description: String
    var amount: Money
    var methods: [String]
    var status: OrderStatus
    var method: String?
    var providerReference: String?
    var providerTransactionId: String?
    var paidAmountMinor: Int64?
    var bankReference: String
    var expiresAt: Date
    var paidAt: Date?
    var receiptNumber: String?
    /// Opens the receipt through its link (`/v1/receipts/{order}?token=`).
    var receiptToken: String?
    var invoice: InvoiceDetails?
    var createdAt: Date

    init(row: PGRow) throws {
        id = try row.uuid("id")
        orderNumber = try row.string("order_number")
        registrationId = try row.string("registration_id")
        conferenceId = try row.string("conference_id")
        organizationId = row["organization_id"]
        payer = try ConveneJSON.decode(Payer.self, from: Array(try row.string("payer").utf8))
        description = try row.string("description")
        amount = try Money(amountMinor: try row.int64("amount_minor"), currency: try row.string("currency"))
        methods = OrderStore.parseTextArray(try row.string("methods"))
        guard let status = OrderStatus(rawValue: try row.string("status")) else { throw ConveneError(code: "payment.corrupt_row", message: "unknown order status") }
        self.status = status
        method = row["method"]
        providerReference = row["provider_reference"]
        providerTransactionId = row["provider_transaction_id"]
        paidAmountMinor = row["paid_amount_minor"].flatMap { Int64($0) }
        bankReference = try row.string("bank_reference")
        expiresAt = try row.date("expires_at")
        paidAt = row.isNull("paid_at") ? nil : try row.date("paid_at")
        receiptNumber = row["receipt_number"]
        receiptToken = row["receipt_token"]
        invoice = try row["invoice"].map { try ConveneJSON.decode(InvoiceDetails.self, from: Array($0.utf8)) }
        createdAt = try row.date("created_at")
    }

    /// What was paid (the order's amount unless a provider said otherwise).
    var paid: Money { amount.withAmount(paidAmountMinor ?? amount.amountMinor) }
}

struct Checkout: Sendable {
    var id: UUID
    var orderId: UUID
    var method: String
    var status: String
    var qrCode: String?
    var redirectURL: String?
    var providerReference: String?
    var attempts: Int
    var createdAt: Date

    init(row: PGRow) throws {
        id = try row.uuid("id")
        orderId = try row.uuid("order_id")
        method = try row.string("method")
        status = try row.string("status")
        qrCode = row["qr_code"]
        redirectURL = row["redirect_url"]
        providerReference = row["provider_reference"]
        attempts = try row.int("attempts")
        createdAt = try row.date("created_at")
    }
}

struct Refund: Sendable {
    enum Kind: String, Sendable {
        /// Returns (part of) the order's own payment.
        case order
        /// Returns a second payment for an order already paid another way.
        case duplicatePayment = "duplicate_payment"
    }

    var refundNumber: String
    var orderId: UUID
    var amount: Money
    var reason: String
    var status: String
    var providerRefundId: String?
    var attempts: Int
    var kind: Kind
    /// For a duplicate payment: the payment it returns (else the order's own).
    var method: String?
    var providerTransactionId: String?
    var paidAmountMinor: Int64?
    var lastError: String?
    var createdAt: Date
    var settledAt: Date?

    init(row: PGRow) throws {
        refundNumber = try row.string("refund_number")
        orderId = try row.uuid("order_id")
        amount = try Money(amountMinor: try row.int64("amount_minor"), currency: try row.string("currency"))
        reason = try row.string("reason")
        status = try row.string("status")
        providerRefundId = row["provider_refund_id"]
        attempts = try row.int("attempts")
        guard let kind = Kind(rawValue: try row.string("kind")) else {
            throw ConveneError(code: "payment.corrupt_row", message: "unknown refund kind")
        }
        self.kind = kind
        method = row["method"]
        providerTransactionId = row["provider_transaction_id"]
        paidAmountMinor = row["paid_amount_minor"].flatMap { Int64($0) }
        lastError = row["last_error"]
        createdAt = try row.date("created_at")
        settledAt = row.isNull("settled_at") ? nil : try row.date("settled_at")
    }
}

/// The SQL of orders, checkouts, refunds and provider events.
struct OrderStore: Sendable {
    static let columns = """
        id, order_number, registration_id, conference_id, organization_id, payer::text AS payer, description, amount_minor,
        currency, methods::text AS methods, status, method, provider_reference, provider_transaction_id, paid_amount_minor,
        bank_reference, expires_at, paid_at, receipt_number, receipt_token, invoice::text AS invoice, created_at
        """

    static func parseTextArray(_ text: String) -> [String] {
        // Method names are plain words: `{wechat_pay,alipay}`.
        text.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).split(separator: ",")
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
    }

    // MARK: Orders

    func insert(_ order: Order, in tx: Transaction) async throws -> Bool {
        try await tx.query("""
            INSERT INTO orders (id, order_number, registration_id, conference_id, organization_id, payer, payer_account_id,
                                description, amount_minor, currency, methods, status, bank_reference, expires_at, invoice,
                                next_check_at)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11::text[], 'pending', $12, $13, $14::jsonb, $13)
            ON CONFLICT DO NOTHING
            """, [order.id, order.orderNumber, order.registrationId, order.conferenceId, order.organizationId,
                  String(decoding: try ConveneJSON.encode(order.payer), as: UTF8.self), order.payer.accountId,
                  order.description, order.amount.amountMinor, order.amount.currency, PGTextArray(order.methods),
                  order.bankReference, order.expiresAt,
                  try order.invoice.map { String(decoding: try ConveneJSON.encode($0), as: UTF8.self) }]).affectedRows == 1
    }

    func pendingOrder(registrationId: String, locked: Bool = false, in tx: Transaction) async throws -> Order? {
        try await tx.query("SELECT \(Self.columns) FROM orders WHERE registration_id = $1 AND status = 'pending'"
                           + (locked ? " FOR UPDATE" : ""), [registrationId]).first.map(Order.init)
    }

    /// The registration's newest order.
    func latestOrder(registrationId: String, locked: Bool = false, in tx: Transaction) async throws -> Order? {
        try await tx.query("SELECT \(Self.columns) FROM orders WHERE registration_id = $1 ORDER BY created_at DESC LIMIT 1"
                           + (locked ? " FOR UPDATE" : ""), [registrationId]).first.map(Order.init)
    }

    /// The registration's order that holds money (the newest), for refunds.
    /// The registration's order that money (or a waiver) settled; `locked` for a change to it,
    /// not for a read.
    func paidOrder(registrationId: String, locked: Bool = true, in tx: Transaction) async throws -> Order? {
        try await tx.query("""
            SELECT \(Self.columns) FROM orders
            WHERE registration_id = $1 AND status IN ('paid', 'paid_late', 'partially_refunded', 'refunded', 'waived')
            ORDER BY paid_at DESC NULLS LAST LIMIT 1
            """ + (locked ? " FOR UPDATE" : ""), [registrationId]).first.map(Order.init)
    }

    func order(number: String, locked: Bool = false, in tx: Transaction) async throws -> Order? {
        try await tx.query("SELECT \(Self.columns) FROM orders WHERE order_number = $1" + (locked ? " FOR UPDATE" : ""),
                           [number]).first.map(Order.init)
    }

    func order(id: UUID, locked: Bool = false, in tx: Transaction) async throws -> Order? {
        try await tx.query("SELECT \(Self.columns) FROM orders WHERE id = $1" + (locked ? " FOR UPDATE" : ""), [id])
            .first.map(Order.init)
    }

    func order(bankReference: String, locked: Bool = false, in tx: Transaction) async throws -> Order? {
        try await tx.query("SELECT \(Self.columns) FROM orders WHERE bank_reference = $1" + (locked ? " FOR UPDATE" : ""),
                           [bankReference]).first.map(Order.init)
    }

    func setStatus(_ id: UUID, _ status: OrderStatus, in tx: Transaction) async throws {
        try await tx.query("UPDATE orders SET status = $2, updated_at = now() WHERE id = $1", [id, status.rawValue])
    }

    /// Records money received: status, method, the provider's ids and a receipt number
    /// (sequential per organization and year) allocated in this transaction, with its link token.
    func markPaid(_ order: Order, status: OrderStatus, method: String, providerReference: String?, transactionId: String?,
                  amountMinor: Int64, paidAt: Date, issueReceipt: Bool,
                  in tx: Transaction) async throws -> (number: String, token: String)? {
        var receipt: String?
        var token: String?
        if issueReceipt {
            let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: paidAt).year ?? 0
            let sequence = try await tx.query("""
                INSERT INTO receipt_sequences (organization_id, year, last_value) VALUES ($1, $2, 1)
                ON CONFLICT (organization_id, year) DO UPDATE SET last_value = receipt_sequences.last_value + 1
                RETURNING last_value
                """, [order.organizationId ?? "", year]).first!.int("last_value")
            receipt = ReceiptNumber.format(year: year, sequence: sequence)
            token = ReceiptLink.makeToken()
        }
        try await tx.query("""
            UPDATE orders SET status = $2, method = $3, provider_reference = coalesce($4, provider_reference),
                provider_transaction_id = $5, paid_amount_minor = $6, paid_at = $7, receipt_number = $8, receipt_token = $9,
                updated_at = now()
            WHERE id = $1
            """, [order.id, status.rawValue, method, providerReference, transactionId, amountMinor, paidAt, receipt, token])
        guard let receipt, let token else { return nil }
        return (receipt, token)
    }

    /// Pushes an order's next timer check.
    func scheduleCheck(_ id: UUID, at date: Date, in tx: Transaction) async throws {
        try await tx.query("UPDATE orders SET next_check_at = $2 WHERE id = $1", [id, date])
    }

    /// Claims pending orders whose check is due (expiry or reconciliation) and leases them for
    /// `lease` so that no other instance takes them while their provider is asked.
    func claimDueOrders(limit: Int, lease: Duration, in tx: Transaction) async throws -> [Order] {
        let orders = try await tx.query("""
            SELECT \(Self.columns) FROM orders WHERE status = 'pending' AND next_check_at <= now()
            ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [limit]).rows.map(Order.init)
        guard !orders.isEmpty else { return [] }
        try await tx.query("UPDATE orders SET next_check_at = now() + make_interval(secs => $2) WHERE id = ANY($1::uuid[])",
                           [PGTextArray(orders.map { $0.id.uuidString.lowercased() }), lease.seconds])
        return orders
    }

    func paidOrders(organizationId: String, conferenceId: String?, from: Date?, to: Date?, in tx: Transaction) async throws -> [Order] {
        try await tx.query("""
            SELECT \(Self.columns) FROM orders
            WHERE organization_id = $1 AND receipt_number IS NOT NULL AND ($2::text IS NULL OR conference_id = $2)
              AND ($3::timestamptz IS NULL OR paid_at >= $3) AND ($4::timestamptz IS NULL OR paid_at < $4)
            ORDER BY paid_at, receipt_number
            """, [organizationId, conferenceId, from, to]).rows.map(Order.init)
    }

    // MARK: Checkouts

    func checkouts(orderId: UUID, in tx: Transaction) async throws -> [Checkout] {
        try await tx.query("SELECT * FROM checkouts WHERE order_id = $1 ORDER BY created_at", [orderId]).rows.map(Checkout.init)
    }

    func checkout(orderId: UUID, method: String, in tx: Transaction) async throws -> Checkout? {
        try await tx.query("SELECT * FROM checkouts WHERE order_id = $1 AND method = $2", [orderId, method]).first.map(Checkout.init)
    }

    /// The intent, recorded before the provider is called.
    func insertCheckoutIntent(orderId: UUID, method: String, status: String = "creating", in tx: Transaction) async throws -> Checkout {
        try await tx.query("""
            INSERT INTO checkouts (id, order_id, method, status) VALUES ($1, $2, $3, $4)
            ON CONFLICT (order_id, method) DO UPDATE SET updated_at = now()
            RETURNING *
            """, [UUID(), orderId, method, status]).first.map(Checkout.init)!
    }

    func checkoutReady(_ id: UUID, qrCode: String?, redirectURL: String?, providerReference: String?, expiresAt: Date?,
                       in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE checkouts SET status = CASE WHEN status = 'creating' THEN 'ready' ELSE status END, qr_code = $2,
                redirect_url = $3, provider_reference = coalesce($4, provider_reference), provider_expires_at = $5,
                last_error = NULL, updated_at = now()
            WHERE id = $1
            """, [id, qrCode, redirectURL, providerReference, expiresAt])
    }

    func checkoutFailed(_ id: UUID, error: String, in tx: Transaction) async throws {
        try await tx.query("UPDATE checkouts SET attempts = attempts + 1, last_error = $2, updated_at = now() WHERE id = $1",
                           [id, error])
    }

    /// Asks the timer to close the order's provider checkouts (all, or all but `except`).
    func closeCheckouts(orderId: UUID, except method: String? = nil, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE checkouts SET status = 'closing', next_attempt_at = now(), updated_at = now()
            WHERE order_id = $1 AND status IN ('creating', 'ready') AND method <> 'bank_transfer' AND method IS DISTINCT FROM $2
            """, [orderId, method])
        try await tx.query("""
            UPDATE checkouts SET status = 'closed', updated_at = now()
            WHERE order_id = $1 AND status IN ('creating', 'ready') AND method = 'bank_transfer'
            """, [orderId])
    }

    func claimClosingCheckouts(limit: Int, lease: Duration, in tx: Transaction) async throws -> [(Checkout, Order)] {
        let rows = try await tx.query("""
            SELECT c.* FROM checkouts c WHERE c.status = 'closing' AND c.next_attempt_at <= now()
            ORDER BY c.next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [limit]).rows.map(Checkout.init)
        var claimed: [(Checkout, Order)] = []
        for checkout in rows {
            try await tx.query("UPDATE checkouts SET next_attempt_at = now() + make_interval(secs => $2) WHERE id = $1",
                               [checkout.id, lease.seconds])
            if let order = try await order(id: checkout.orderId, in: tx) { claimed.append((checkout, order)) }
        }
        return claimed
    }

    func checkoutClosed(_ id: UUID, in tx: Transaction) async throws {
        try await tx.query("UPDATE checkouts SET status = 'closed', last_error = NULL, updated_at = now() WHERE id = $1", [id])
    }

    func retryCheckoutClose(_ id: UUID, after delay: Duration, error: String, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE checkouts SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + make_interval(secs => $3),
                updated_at = now()
            WHERE id = $1
            """, [id, error, delay.seconds])
    }

    // MARK: Provider events

    /// Records a callback as handled; false when it was already.
    func recordEvent(provider: String, eventId: String, kind: String, orderNumber: String?, in tx: Transaction) async throws -> Bool {
        try await tx.query("""
            INSERT INTO provider_events (provider, provider_event_id, kind, order_number) VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING
            """, [provider, eventId, kind, orderNumber]).affectedRows == 1
    }

    func eventSeen(provider: String, eventId: String, in tx: Transaction) async throws -> Bool {
        try await tx.query("SELECT 1 FROM provider_events WHERE provider = $1 AND provider_event_id = $2", [provider, eventId])
            .first != nil
    }

    func purgeEvents(olderThan age: Duration, in tx: Transaction) async throws {
        try await tx.query("DELETE FROM provider_events WHERE received_at < now() - make_interval(secs => $1)", [age.seconds])
    }

    // MARK: Refunds

    func refund(number: String, locked: Bool = false, in tx: Transaction) async throws -> Refund? {
        try await tx.query("SELECT * FROM refunds WHERE refund_number = $1" + (locked ? " FOR UPDATE" : ""), [number])
            .first.map(Refund.init)
    }

    func refunds(orderId: UUID, in tx: Transaction) async throws -> [Refund] {
        try await tx.query("SELECT * FROM refunds WHERE order_id = $1 ORDER BY created_at", [orderId]).rows.map(Refund.init)
    }

    /// What of the order's own payment is refunded or on its way (not failed). Refunds of a
    /// duplicate payment return other money and do not count.
    func refundedTotal(orderId: UUID, in tx: Transaction) async throws -> Int64 {
        try await tx.query("""
            SELECT coalesce(sum(amount_minor), 0) AS total FROM refunds
            WHERE order_id = $1 AND kind = 'order' AND status IN ('pending', 'processing', 'succeeded', 'manual')
            """, [orderId]).first!.int64("total")
    }

    func settledRefundTotal(orderId: UUID, in tx: Transaction) async throws -> Int64 {
        try await tx.query("""
            SELECT coalesce(sum(amount_minor), 0) AS total FROM refunds
            WHERE order_id = $1 AND kind = 'order' AND status = 'succeeded'
            """, [orderId]).first!.int64("total")
    }

    /// Records the refund of a second payment (`duplicate_payment`): it returns `amount` of the
    /// payment `transactionId` made with `method`. False when that refund number exists already.
    func insertDuplicatePaymentRefund(number: String, orderId: UUID, amount: Money, method: String, transactionId: String?,
                                      reason: String, status: String, in tx: Transaction) async throws -> Bool {
        try await tx.query("""
            INSERT INTO refunds (refund_number, order_id, amount_minor, currency, reason, status, next_attempt_at, kind, method,
                                 provider_transaction_id, paid_amount_minor)
            VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 = 'pending' THEN now() END, 'duplicate_payment', $7, $8, $3)
            ON CONFLICT DO NOTHING
            """, [number, orderId, amount.amountMinor, amount.currency, reason, status, method, transactionId]).affectedRows == 1
    }

    /// Refunds of the organization's orders, newest first; only those in `status` when given.
    func refunds(organizationId: String, status: String?, limit: Int, in tx: Transaction) async throws -> [(Refund, Order)] {
        let rows = try await tx.query("""
            SELECT r.*
            FROM refunds r JOIN orders o ON o.id = r.order_id
            WHERE o.organization_id = $1 AND ($2::text IS NULL OR r.status = $2)
            ORDER BY r.created_at DESC LIMIT $3
            """, [organizationId, status, limit]).rows
        let refunds = try rows.map(Refund.init)
        let orders = Dictionary(uniqueKeysWithValues: try await tx.query(
            "SELECT \(Self.columns) FROM orders WHERE id = ANY($1::uuid[])",
            [PGTextArray(Set(refunds.map { $0.orderId.uuidString.lowercased() }).sorted())]).rows.map { row in
                let order = try Order(row: row)
                return (order.id, order)
            })
        return refunds.compactMap { refund in orders[refund.orderId].map { (refund, $0) } }
    }

    func wasSettledByStaff(_ number: String, in tx: Transaction) async throws -> Bool {
        try await tx.query("SELECT 1 FROM refunds WHERE refund_number = $1 AND settled_by IS NOT NULL", [number]).first != nil
    }

    /// A manual (bank transfer) refund paid back by staff.
    func recordManualSettlement(_ number: String, settledBy: String, note: String?, in tx: Transaction) async throws {
        try await tx.query("UPDATE refunds SET settled_by = $2, note = $3 WHERE refund_number = $1", [number, settledBy, note])
    }

    func insertRefund(number: String, orderId: UUID, amount: Money, reason: String, status: String, in tx: Transaction) async throws -> Bool {
        try await tx.query("""
            INSERT INTO refunds (refund_number, order_id, amount_minor, currency, reason, status, next_attempt_at)
            VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 = 'pending' THEN now() END)
            ON CONFLICT DO NOTHING
            """, [number, orderId, amount.amountMinor, amount.currency, reason, status]).affectedRows == 1
    }

    func claimDueRefunds(limit: Int, lease: Duration, in tx: Transaction) async throws -> [Refund] {
        let refunds = try await tx.query("""
            SELECT * FROM refunds WHERE status IN ('pending', 'processing') AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [limit]).rows.map(Refund.init)
        for refund in refunds {
            try await tx.query("""
                UPDATE refunds SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
                WHERE refund_number = $1
                """, [refund.refundNumber, lease.seconds])
        }
        return refunds
    }

    func updateRefund(_ number: String, status: String, providerRefundId: String?, nextAttempt: Duration?, error: String?,
                      in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE refunds SET status = $2, provider_refund_id = coalesce($3, provider_refund_id),
                next_attempt_at = CASE WHEN $4::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $4::double precision) END,
                last_error = $5, settled_at = CASE WHEN $2 IN ('succeeded', 'failed') THEN now() ELSE settled_at END
            WHERE refund_number = $1
            """, [number, status, providerRefundId, nextAttempt?.seconds, error])
    }

    /// After a refund settled: `refunded` or `partially_refunded`.
    func updateRefundedStatus(_ order: Order, in tx: Transaction) async throws {
        let settled = try await settledRefundTotal(orderId: order.id, in: tx)
        guard settled > 0, order.status.hasMoney else { return }
        let status: OrderStatus = settled >= order.paid.amountMinor ? .refunded : .partiallyRefunded
        try await setStatus(order.id, status, in: tx)
    }

    // MARK: Bank receipts

    func recordBankReceipt(fingerprint: String, orderId: UUID, line: StatementLine, importedBy: String,
                           in tx: Transaction) async throws -> Bool {
        try await tx.query("""
            INSERT INTO bank_receipts (fingerprint, order_id, line_date, amount_minor, currency, remark, imported_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
            """, [fingerprint, orderId, line.date, line.amountMinor, line.currency, line.remark, importedBy]).affectedRows == 1
    }

    func bankReceiptOrder(fingerprint: String, in tx: Transaction) async throws -> UUID? {
        try await tx.query("SELECT order_id FROM bank_receipts WHERE fingerprint = $1", [fingerprint]).first?.uuid("order_id")
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}

extension Double: PGEncodable {
    public var pgValue: PGValue { .text(String(self)) }
}
