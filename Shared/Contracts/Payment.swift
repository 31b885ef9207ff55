import Foundation

// The payment service: orders for registrations, checkout at a provider, provider callbacks,
// refunds and receipts. Registration sends the commands (through its outbox); the gateway sends
// the requests on behalf of participants, staff and providers' callbacks.

/// Invoice details a participant gives for the finance team (发票抬头 / 税号).
public struct InvoiceDetails: Codable, Sendable, Equatable {
    /// The invoice title: a person's or a company's name.
    public var title: String
    /// The payer's tax id (统一社会信用代码), for a company.
    public var taxId: String?
    public var address: String?
    public var email: String?
    public init(title: String, taxId: String? = nil, address: String? = nil, email: String? = nil) {
        self.title = title
        self.taxId = taxId
        self.address = address
        self.email = email
    }
}

/// Who pays, as the receipt and the provider see them.
public struct Payer: Codable, Sendable, Equatable {
    public var accountId: String
    public var email: String
    public var name: String
    public var locale: String
    public init(accountId: String, email: String, name: String, locale: String) {
        self.accountId = accountId
        self.email = email
        self.name = name
        self.locale = locale
    }
}

/// `payment.create_order` (command from registration): one open order per registration. A repeated
/// command for a registration that already has an open order changes nothing.
public struct CreateOrder: MessagePayload, Equatable {
    public static let messageType = "payment.create_order"
    public var registrationId: String
    public var conferenceId: String
    public var payer: Payer
    public var amount: Money
    /// Shown at the provider and on the receipt, e.g. the conference's title and the category.
    public var description: String
    /// When an unpaid order expires and its seat is released.
    public var expiresAt: Date
    /// Among `wechat_pay`, `alipay`, `stripe`, `bank_transfer`: what the participant may choose.
    public var methods: [String]
    public var invoice: InvoiceDetails?
    public init(registrationId: String, conferenceId: String, payer: Payer, amount: Money, description: String, expiresAt: Date,
                methods: [String], invoice: InvoiceDetails?) {
        self.registrationId = registrationId
        self.conferenceId = conferenceId
        self.payer = payer
        self.amount = amount
        self.description = description
        self.expiresAt = expiresAt
        self.methods = methods
        self.invoice = invoice
    }
}

/// `payment.cancel_order` (command from registration): the registration no longer waits for the
/// payment (withdrawn, cancelled). The provider's order is closed; money arriving later is refunded.
public struct CancelOrder: MessagePayload, Equatable {
    public static let messageType = "payment.cancel_order"
    public var registrationId: String
    public init(registrationId: String) { self.registrationId = registrationId }
}

/// `payment.refund` (command from registration): give back `amount` of what the registration's
/// order collected. `refundNumber` is the idempotency key at the provider.
public struct RequestRefund: MessagePayload, Equatable {
    public static let messageType = "payment.refund"
    public var registrationId: String
    public var refundNumber: String
    public var amount: Money
    /// `withdrawal`, `cancellation`, `late_payment`, `duplicate_payment`.
    public var reason: String
    public init(registrationId: String, refundNumber: String, amount: Money, reason: String) {
        self.registrationId = registrationId
        self.refundNumber = refundNumber
        self.amount = amount
        self.reason = reason
    }
}

/// `payment.start_checkout` (request) → `CheckoutView`: the participant picks a method.
public struct StartCheckout: MessagePayload, Equatable {
    public static let messageType = "payment.start_checkout"
    public var registrationId: String
    /// Only the registration's own participant may pay it.
    public var accountId: String
    public var method: String
    public init(registrationId: String, accountId: String, method: String) {
        self.registrationId = registrationId
        self.accountId = accountId
        self.method = method
    }
}

public struct BankTransferInstructions: Codable, Sendable, Equatable {
    public var accountName: String
    public var bankName: String
    public var accountNumber: String
    /// Unique per order: the payer writes it in the transfer's remark.
    public var reference: String
    public init(accountName: String, bankName: String, accountNumber: String, reference: String) {
        self.accountName = accountName
        self.bankName = bankName
        self.accountNumber = accountNumber
        self.reference = reference
    }
}

public struct CheckoutView: Codable, Sendable, Equatable {
    public var orderNumber: String
    public var method: String
    public var amount: Money
    public var expiresAt: Date
    /// WeChat Pay `code_url` or Alipay `qr_code`: to render as a QR code.
    public var qrCode: String?
    /// Alipay page pay or Stripe Checkout.
    public var redirectUrl: String?
    public var bankTransfer: BankTransferInstructions?
    public init(orderNumber: String, method: String, amount: Money, expiresAt: Date, qrCode: String? = nil,
                redirectUrl: String? = nil, bankTransfer: BankTransferInstructions? = nil) {
        self.orderNumber = orderNumber
        self.method = method
        self.amount = amount
        self.expiresAt = expiresAt
        self.qrCode = qrCode
        self.redirectUrl = redirectUrl
        self.bankTransfer = bankTransfer
    }
}

/// `payment.get_order` (request) → `OrderView`. With `accountId`, only that participant's.
public struct GetOrder: MessagePayload, Equatable {
    public static let messageType = "payment.get_order"
    public var registrationId: String
    public var accountId: String?
    public init(registrationId: String, accountId: String?) {
        self.registrationId = registrationId
        self.accountId = accountId
    }
}

public struct OrderView: Codable, Sendable, Equatable {
    public var orderNumber: String
    public var registrationId: String
    public var conferenceId: String
    public var amount: Money
    /// `pending`, `paid`, `expired`, `cancelled`, `refunded`, `partially_refunded`, `waived`.
    public var status: String
    public var method: String?
    public var expiresAt: Date
    public var paidAt: Date?
    public var receiptNumber: String?
    public var refunded: Money?
    public var invoice: InvoiceDetails?
    public init(orderNumber: String, registrationId: String, conferenceId: String, amount: Money, status: String, method: String?,
                expiresAt: Date, paidAt: Date?, receiptNumber: String?, refunded: Money?, invoice: InvoiceDetails?) {
        self.orderNumber = orderNumber
        self.registrationId = registrationId
        self.conferenceId = conferenceId
        self.amount = amount
        self.status = status
        self.method = method
        self.expiresAt = expiresAt
        self.paidAt = paidAt
        self.receiptNumber = receiptNumber
        self.refunded = refunded
        self.invoice = invoice
    }
}

/// `payment.provider_callback` (request from the gateway) → `CallbackAnswer`: a provider's
/// notification exactly as it arrived. Verified over the raw body before anything is read.
public struct ProviderCallback: MessagePayload, Equatable {
    public static let messageType = "payment.provider_callback"
    /// `wechat_pay`, `alipay` or `stripe`.
    public var provider: String
    public var headers: [[String]]
    /// Base64 of the raw body.
    public var body: String
    public init(provider: String, headers: [[String]], body: String) {
        self.provider = provider
        self.headers = headers
        self.body = body
    }
}

/// What the gateway answers the provider.
public struct CallbackAnswer: Codable, Sendable, Equatable {
    public var status: Int
    public var contentType: String?
    /// Base64.
    public var body: String
    public init(status: Int, contentType: String?, body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// `payment.confirm_bank_transfer` (request, staff) → `OrderView`: staff saw the transfer arrive.
public struct ConfirmBankTransfer: MessagePayload, Equatable {
    public static let messageType = "payment.confirm_bank_transfer"
    public var reference: String
    public var amount: Money
    public var confirmedBy: String
    public init(reference: String, amount: Money, confirmedBy: String) {
        self.reference = reference
        self.amount = amount
        self.confirmedBy = confirmedBy
    }
}

/// `payment.import_bank_statement` (request, staff) → `BankStatementReport`: a bank's CSV export;
/// rows whose remark holds an order's reference and whose amount matches complete that order.
public struct ImportBankStatement: MessagePayload, Equatable {
    public static let messageType = "payment.import_bank_statement"
    public var csv: String
    public var importedBy: String
    public init(csv: String, importedBy: String) {
        self.csv = csv
        self.importedBy = importedBy
    }
}

public struct BankStatementReport: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var line: Int
        /// `matched`, `already_paid` (this row was imported before), `duplicate_payment` (a transfer for an order paid
        /// already: recorded with a manual refund), `amount_mismatch`, `no_reference`, `unknown_reference`, `invalid`.
        public var outcome: String
        public var reference: String?
        public var orderNumber: String?
        public init(line: Int, outcome: String, reference: String?, orderNumber: String?) {
            self.line = line
            self.outcome = outcome
            self.reference = reference
            self.orderNumber = orderNumber
        }
    }
    public var rows: [Row]
    public init(rows: [Row]) { self.rows = rows }
}

/// `payment.waive` (request, staff) → `OrderView`: the fee is waived; the registration is confirmed.
public struct WaiveOrder: MessagePayload, Equatable {
    public static let messageType = "payment.waive"
    public var registrationId: String
    public var reason: String
    public var waivedBy: String
    public init(registrationId: String, reason: String, waivedBy: String) {
        self.registrationId = registrationId
        self.reason = reason
        self.waivedBy = waivedBy
    }
}

// MARK: Events

/// `payment.order_created`
public struct OrderCreated: MessagePayload, Equatable {
    public static let messageType = "payment.order_created"
    public var registrationId: String
    public var orderNumber: String
    public var amount: Money
    public var expiresAt: Date
    public var payer: Payer
    public init(registrationId: String, orderNumber: String, amount: Money, expiresAt: Date, payer: Payer) {
        self.registrationId = registrationId
        self.orderNumber = orderNumber
        self.amount = amount
        self.expiresAt = expiresAt
        self.payer = payer
    }
}

/// `payment.succeeded`: money arrived for the registration's order (whatever the order's state:
/// registration decides whether it confirms a seat or is refunded).
public struct PaymentSucceeded: MessagePayload, Equatable {
    public static let messageType = "payment.succeeded"
    public var registrationId: String
    public var orderNumber: String
    public var amount: Money
    /// `wechat_pay`, `alipay`, `stripe`, `bank_transfer`, `waiver`.
    public var method: String
    public var paidAt: Date
    public var receiptNumber: String?
    public var payer: Payer
    /// Opens this payment's receipt without signing in (`/v1/receipts/{order}?token=…`), for the
    /// payer's email; absent when the deployment has no public URL. Like a provider's hosted
    /// receipt URL it grants reading that one receipt, nothing else.
    public var receiptUrl: String?
    public init(registrationId: String, orderNumber: String, amount: Money, method: String, paidAt: Date,
                receiptNumber: String?, payer: Payer, receiptUrl: String? = nil) {
        self.registrationId = registrationId
        self.orderNumber = orderNumber
        self.amount = amount
        self.method = method
        self.paidAt = paidAt
        self.receiptNumber = receiptNumber
        self.payer = payer
        self.receiptUrl = receiptUrl
    }
}

/// `payment.order_expired`: the order was not paid in time (its provider order is closed).
public struct OrderExpired: MessagePayload, Equatable {
    public static let messageType = "payment.order_expired"
    public var registrationId: String
    public var orderNumber: String
    public init(registrationId: String, orderNumber: String) {
        self.registrationId = registrationId
        self.orderNumber = orderNumber
    }
}

/// `payment.refunded` / `payment.refund_failed`
public struct RefundSettled: MessagePayload, Equatable {
    public static let messageType = "payment.refunded"
    public var registrationId: String
    public var refundNumber: String
    public var amount: Money
    public var reason: String
    public var payer: Payer
    /// `order` (absent in older messages): the registration's own payment;
    /// `duplicate_payment`: a second payment for an order already paid, returned by `payment` on
    /// its own (registration never asked for it and does not count it).
    public var kind: String?
    public init(registrationId: String, refundNumber: String, amount: Money, reason: String, payer: Payer,
                kind: String? = nil) {
        self.registrationId = registrationId
        self.refundNumber = refundNumber
        self.amount = amount
        self.reason = reason
        self.payer = payer
        self.kind = kind
    }
}

public struct RefundFailed: MessagePayload, Equatable {
    public static let messageType = "payment.refund_failed"
    public var registrationId: String
    public var refundNumber: String
    public var amount: Money
    public var error: String
    /// As in `RefundSettled`.
    public var kind: String?
    public init(registrationId: String, refundNumber: String, amount: Money, error: String, kind: String? = nil) {
        self.registrationId = registrationId
        self.refundNumber = refundNumber
        self.amount = amount
        self.error = error
        self.kind = kind
    }
}

// MARK: Accounting

/// `payment.list_paid_orders` (request, staff) → `PaidOrdersExport`: the organization's paid
/// orders (the envelope's `organizationId`) as CSV for accounting, optionally one conference's
/// and within `[from, to)` of their payment time.
public struct ListPaidOrders: MessagePayload, Equatable {
    public static let messageType = "payment.list_paid_orders"
    public var conferenceId: String?
    public var from: Date?
    public var to: Date?
    public init(conferenceId: String? = nil, from: Date? = nil, to: Date? = nil) {
        self.conferenceId = conferenceId
        self.from = from
        self.to = to
    }
}

public struct PaidOrdersExport: Codable, Sendable, Equatable {
    /// RFC 4180 CSV with a header row: `order_number, receipt_number, paid_at, method, amount,
    /// currency, payer_name, payer_email, invoice_title, tax_id` (amount in major units).
    public var csv: String
    public var count: Int
    public init(csv: String, count: Int) {
        self.csv = csv
        self.count = count
    }
}

/// `payment.get_receipt` (request) → `ReceiptDocument`: the numbered receipt of a paid order,
/// named by its order number or by its registration. Who may read it: staff of the envelope's
/// organization; with `accountId`, only that participant; with `token`, whoever holds the
/// receipt link (`PaymentSucceeded.receiptUrl`).
public struct GetReceipt: MessagePayload, Equatable {
    public static let messageType = "payment.get_receipt"
    public var orderNumber: String?
    public var registrationId: String?
    public var accountId: String?
    public var token: String?
    public init(orderNumber: String? = nil, registrationId: String? = nil, accountId: String? = nil, token: String? = nil) {
        self.orderNumber = orderNumber
        self.registrationId = registrationId
        self.accountId = accountId
        self.token = token
    }
}

public struct ReceiptDocument: Codable, Sendable, Equatable {
    public var receiptNumber: String
    /// A complete HTML document (every value escaped).
    public var html: String
    public init(receiptNumber: String, html: String) {
        self.receiptNumber = receiptNumber
        self.html = html
    }
}

// MARK: Refunds for staff

/// `payment.list_refunds` (request, staff) → `[RefundView]`: the organization's refunds, newest
/// first; with `status`, only those (`manual`: bank transfers waiting to be paid back by hand).
public struct ListRefunds: MessagePayload, Equatable {
    public static let messageType = "payment.list_refunds"
    public var status: String?
    public var limit: Int
    public init(status: String? = nil, limit: Int = 100) {
        self.status = status
        self.limit = limit
    }
}

/// `payment.settle_manual_refund` (request, staff) → `RefundView`: staff paid a `manual` refund
/// (a bank transfer's) back; it becomes `succeeded` and `payment.refunded` tells the participant.
/// Settling one already settled answers it again.
public struct SettleManualRefund: MessagePayload, Equatable {
    public static let messageType = "payment.settle_manual_refund"
    public var refundNumber: String
    public var settledBy: String
    /// How it was paid back (the bank's reference), for the finance team.
    public var note: String?
    public init(refundNumber: String, settledBy: String, note: String?) {
        self.refundNumber = refundNumber
        self.settledBy = settledBy
        self.note = note
    }
}

public struct RefundView: Codable, Sendable, Equatable {
    public var refundNumber: String
    public var orderNumber: String
    public var registrationId: String
    public var amount: Money
    /// `withdrawal`, `cancellation`, `late_payment`, `duplicate_payment`, …
    public var reason: String
    /// `pending`, `processing`, `succeeded`, `failed`, `manual`, `none`.
    public var status: String
    /// `order` or `duplicate_payment`.
    public var kind: String
    /// The payment it returns: the method it was made with.
    public var method: String?
    public var payer: Payer
    public var lastError: String?
    public var createdAt: Date
    public var settledAt: Date?
    public init(refundNumber: String, orderNumber: String, registrationId: String, amount: Money, reason: String,
                status: String, kind: String, method: String?, payer: Payer, lastError: String?, createdAt: Date,
                settledAt: Date?) {
        self.refundNumber = refundNumber
        self.orderNumber = orderNumber
        self.registrationId = registrationId
        self.amount = amount
        self.reason = reason
        self.status = status
        self.kind = kind
        self.method = method
        self.payer = payer
        self.lastError = lastError
        self.createdAt = createdAt
        self.settledAt = settledAt
    }
}
