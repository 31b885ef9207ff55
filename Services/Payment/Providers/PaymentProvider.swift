import Foundation

/// The payment providers Convene reaches through an API. (Bank transfer has no API: staff confirm it.)
enum PaymentProviderKind: String, Sendable, Codable, CaseIterable {
    case wechatPay = "wechat_pay"
    case alipay
    case stripe
}

/// One payment provider's API: create what the participant pays with, ask about it, close it,
/// refund it, and verify the provider's signed callbacks.
///
/// Every call signs its request and verifies the provider's answer; every failure is a
/// `PaymentProviderError`. Nothing here retries: `PaymentProviderError.providerUnavailable` tells
/// the caller that trying again later is safe (each request is idempotent on the provider's side,
/// keyed by our order or refund number). Nothing here logs: keys, signatures and payer details
/// never leave the adapter.
protocol PaymentProvider: Sendable {
    var kind: PaymentProviderKind { get }

    /// What the participant pays with: a QR code, a page to open, or both.
    func createCheckout(_ order: CheckoutRequest) async throws(PaymentProviderError) -> ProviderCheckout

    /// The provider's view of one payment.
    func query(_ payment: ProviderPaymentReference) async throws(PaymentProviderError) -> ProviderPaymentState

    /// Stops the payment from being paid (an expired or cancelled order).
    func close(_ payment: ProviderPaymentReference) async throws(PaymentProviderError)

    /// Asks for a refund. Sending the same `refundNumber` again never refunds twice.
    func refund(_ request: ProviderRefundRequest) async throws(PaymentProviderError) -> ProviderRefundState

    /// Verifies a callback's signature over the raw body before reading anything in it, then
    /// normalizes it. `now` bounds the clock skew of providers that sign a timestamp.
    func verifyCallback(rawBody: [UInt8], headers: ProviderHeaders, now: Date) throws(PaymentProviderError) -> VerifiedCallback

    /// What to answer the provider when `verifyCallback` (or handling the callback) failed, so
    /// that it sends the callback again later.
    func failureAcknowledgement(for error: PaymentProviderError) -> CallbackAcknowledgement
}

/// An order to be paid.
struct CheckoutRequest: Sendable, Equatable {
    /// Our order number: the provider's `out_trade_no` / Stripe's `client_reference_id`. The same
    /// number on a retry makes the provider answer with the same checkout.
    var merchantOrderNumber: String
    /// Minor units of `currency` (fen for CNY).
    var amount: Int
    /// ISO 4217, upper case (`CNY`).
    var currency: String
    /// What the participant sees at the provider (order title).
    var description: String
    /// When the provider should stop accepting payment. Stripe requires 30 minutes to 24 hours ahead.
    var expiresAt: Date?

    init(merchantOrderNumber: String, amount: Int, currency: String, description: String, expiresAt: Date? = nil) {
        self.merchantOrderNumber = merchantOrderNumber
        self.amount = amount
        self.currency = currency
        self.description = description
        self.expiresAt = expiresAt
    }
}

/// What the participant gets to pay with.
struct ProviderCheckout: Sendable, Equatable {
    var provider: PaymentProviderKind
    var merchantOrderNumber: String
    /// The provider's id for this checkout, needed to query or close it: the Stripe Checkout
    /// Session id. nil for WeChat Pay and Alipay, which are addressed by our order number.
    var providerReference: String?
    /// Text to show as a QR code: WeChat Pay's `code_url`, Alipay's precreate `qr_code`.
    var qrCode: String?
    /// A page to send the participant to: Alipay's signed page-pay URL, Stripe Checkout's `url`.
    var redirectURL: String?
    var expiresAt: Date?
}

/// Which payment a query, close or refund is about.
struct ProviderPaymentReference: Sendable, Equatable {
    var merchantOrderNumber: String
    /// Stripe: the Checkout Session id (required). WeChat Pay and Alipay: not needed.
    var providerReference: String?

    init(merchantOrderNumber: String, providerReference: String? = nil) {
        self.merchantOrderNumber = merchantOrderNumber
        self.providerReference = providerReference
    }
}

/// The provider's view of a payment.
enum ProviderPaymentState: Sendable, Equatable {
    /// Not paid yet; may still be paid.
    case pending
    /// Paid. `amount` is in minor units of `currency` (upper case); `paidAt` when the provider says.
    case paid(amount: Int, currency: String, providerTransactionId: String, paidAt: Date?)
    /// Closed or expired unpaid: it can no longer be paid.
    case closed
    /// The provider does not know the payment (e.g. an Alipay QR code nobody scanned yet) or
    /// answered a state with no mapping (kept in `state`). Not paid, as far as we can tell.
    case unknown(state: String)
}

/// A refund to ask for.
struct ProviderRefundRequest: Sendable, Equatable {
    var merchantOrderNumber: String
    /// The provider's id of the payment: required by Stripe (the PaymentIntent id, as
    /// `providerTransactionId` of the payment); WeChat Pay and Alipay use the order number.
    var providerPaymentReference: String?
    /// Our refund number, unique per refund: the provider's idempotency key (`out_refund_no`,
    /// `out_request_no`, Stripe's `Idempotency-Key`). Reuse it when retrying.
    var refundNumber: String
    /// Minor units to refund.
    var amount: Int
    /// Minor units originally paid.
    var total: Int
    var currency: String
    var reason: String?

    init(merchantOrderNumber: String, providerPaymentReference: String? = nil, refundNumber: String, amount: Int,
         total: Int, currency: String, reason: String? = nil) {
        self.merchantOrderNumber = merchantOrderNumber
        self.providerPaymentReference = providerPaymentReference
        self.refundNumber = refundNumber
        self.amount = amount
        self.total = total
        self.currency = currency
        self.reason = reason
    }
}

/// What the provider said about a refund. A refund it refused outright throws
/// `PaymentProviderError.providerRejected` instead.
enum ProviderRefundState: Sendable, Equatable {
    /// Accepted, money not moved yet: a callback or a later query tells the outcome.
    case pending(providerRefundId: String?)
    case succeeded(providerRefundId: String?)
    /// Accepted, then failed (e.g. the payer's card or account could not take it back).
    case failed(providerRefundId: String?, reason: String)
}

/// A provider callback whose signature was verified, normalized.
struct VerifiedCallback: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case paymentSucceeded
        /// Closed or expired unpaid.
        case paymentClosed
        case refundSucceeded
        case refundFailed
        /// A genuine event we have no use for (its provider type is kept).
        case ignored(type: String)
    }

    var provider: PaymentProviderKind
    /// The provider's id of this notification, the same on every resend: dedupe on it.
    var providerEventId: String
    var kind: Kind
    var merchantOrderNumber: String?
    /// The provider's payment id (WeChat `transaction_id`, Alipay `trade_no`, Stripe PaymentIntent id).
    var providerTransactionId: String?
    /// Payments: minor units paid. Refunds: minor units of this refund when the provider says it (WeChat Pay).
    var amount: Int?
    /// Refunds: minor units refunded on the payment so far, when the provider says it (Alipay, Stripe).
    var refundedTotal: Int?
    /// ISO 4217, upper case.
    var currency: String?
    /// Our refund number, when the provider echoes it (WeChat `out_refund_no`, Alipay `out_biz_no`).
    var refundNumber: String?
    /// The app or merchant the callback is addressed to (already checked against ours).
    var appOrMerchantId: String?
    var occurredAt: Date?
    /// What to answer the provider now that the callback is verified.
    var acknowledgement: CallbackAcknowledgement
}

/// The HTTP answer a provider expects to a callback.
struct CallbackAcknowledgement: Sendable, Equatable {
    var status: Int
    var contentType: String?
    var body: [UInt8]

    init(status: Int, contentType: String? = nil, body: [UInt8] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Request headers, looked up case-insensitively (the first of repeated names wins).
struct ProviderHeaders: Sendable, Equatable {
    private var values: [String: String] = [:]

    init(_ pairs: [(name: String, value: String)]) {
        for (name, value) in pairs where values[name.lowercased()] == nil {
            values[name.lowercased()] = value
        }
    }

    init(_ dictionary: [String: String]) {
        self.init(dictionary.map { (name: $0.key, value: $0.value) })
    }

    subscript(name: String) -> String? { values[name.lowercased()] }
}

/// Configurations and adapters hold keys: their descriptions and mirrors (what string
/// interpolation, `dump` and debuggers show) name only what is not secret.
protocol RedactedDescription: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The fields safe to show.
    var visibleFields: KeyValuePairs<String, String> { get }
}

extension RedactedDescription {
    var description: String {
        "\(type(of: self))(" + visibleFields.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ", keys: redacted)"
    }

    var debugDescription: String { description }

    var customMirror: Mirror { Mirror(self, children: visibleFields.map { (label: $0.key, value: $0.value as Any) }) }
}
