import Foundation
import HTTPClient

/// What the Stripe adapter needs. Keys are secrets: never log this value.
struct StripeConfiguration: Sendable {
    /// `https://api.stripe.com`, or a contract server in tests.
    var apiURL: String
    /// `sk_…` (or a restricted `rk_…` key).
    var secretKey: String
    /// The webhook endpoint's `whsec_…` signing secret.
    var webhookSecret: String
    /// Where Checkout sends the participant back; `{CHECKOUT_SESSION_ID}` is filled in by Stripe.
    var successURL: String
    var cancelURL: String
    /// Webhook timestamps more than this many seconds from now are refused.
    var tolerance: TimeInterval
    /// Sent as `Stripe-Version` when set; otherwise the account's default API version applies.
    var apiVersion: String?
    var timeout: Duration

    init(apiURL: String = "https://api.stripe.com", secretKey: String, webhookSecret: String, successURL: String,
         cancelURL: String, tolerance: TimeInterval = 300, apiVersion: String? = nil, timeout: Duration = .seconds(20)) {
        self.apiURL = apiURL
        self.secretKey = secretKey
        self.webhookSecret = webhookSecret
        self.successURL = successURL
        self.cancelURL = cancelURL
        self.tolerance = tolerance
        self.apiVersion = apiVersion
        self.timeout = timeout
    }
}

/// Stripe Checkout (hosted payment page): one session per order, expired when the order ends.
struct Stripe: PaymentProvider {
    let kind = PaymentProviderKind.stripe

    private let apiURL: String
    private let secretKey: String
    private let webhookSecret: String
    private let successURL: String
    private let cancelURL: String
    private let tolerance: TimeInterval
    private let apiVersion: String?
    private let timeout: Duration
    private let client: any HTTPExecuting

    init(configuration: StripeConfiguration, client: any HTTPExecuting) throws(PaymentProviderError) {
        let base = configuration.apiURL.hasSuffix("/") ? String(configuration.apiURL.dropLast()) : configuration.apiURL
        guard let url = URLComponents(string: base), let scheme = url.scheme, ["http", "https"].contains(scheme),
              url.host != nil, url.query == nil else {
            throw .misconfigured("the Stripe API URL must be an http(s) URL without a query")
        }
        guard !configuration.secretKey.isEmpty, !configuration.webhookSecret.isEmpty else {
            throw .misconfigured("the Stripe secret key and webhook secret are required")
        }
        apiURL = base
        secretKey = configuration.secretKey
        webhookSecret = configuration.webhookSecret
        successURL = configuration.successURL
        cancelURL = configuration.cancelURL
        tolerance = configuration.tolerance
        apiVersion = configuration.apiVersion
        timeout = configuration.timeout
        self.client = client
    }

    // MARK: Calls

    func createCheckout(_ order: CheckoutRequest) async throws(PaymentProviderError) -> ProviderCheckout {
        let currency = try Self.currency(order.currency)
        guard order.amount > 0 else { throw .invalidRequest("the amount must be positive") }
        let orderMetadata = StripeForm.Value.object([("order", .string(order.merchantOrderNumber))])
        var parameters: [(String, StripeForm.Value)] = [
            ("mode", .string("payment")),
            ("line_items", .array([.object([
                ("price_data", .object([
                    ("currency", .string(currency)),
                    ("unit_amount", .string(String(order.amount))),
                    ("product_data", .object([("name", .string(order.description))])),
                ])),
                ("quantity", .string("1")),
            ])])),
            ("success_url", .string(successURL)),
            ("cancel_url", .string(cancelURL)),
            ("client_reference_id", .string(order.merchantOrderNumber)),
            ("metadata", orderMetadata),
            ("payment_intent_data", .object([("metadata", orderMetadata)])),
        ]
        if let expiresAt = order.expiresAt {
            parameters.append(("expires_at", .string(String(Int64(expiresAt.timeIntervalSince1970)))))
        }
        let session: Session = try await call(.post, "/v1/checkout/sessions", form: parameters,
                                              idempotencyKey: "convene-checkout-\(order.merchantOrderNumber)")
        guard session.clientReferenceId == order.merchantOrderNumber, let url = session.url, !url.isEmpty else {
            throw .providerResponseInvalid("the session is not for our order or has no url")
        }
        return ProviderCheckout(provider: kind, merchantOrderNumber: order.merchantOrderNumber, providerReference: session.id,
                                qrCode: nil, redirectURL: url,
                                expiresAt: session.expiresAt.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? order.expiresAt)
    }

    func query(_ payment: ProviderPaymentReference) async throws(PaymentProviderError) -> ProviderPaymentState {
        let id = try Self.sessionId(payment)
        let session: Session = try await call(.get, "/v1/checkout/sessions/\(FormCoding.percentEncode(id))")
        guard session.clientReferenceId == payment.merchantOrderNumber else {
            throw .providerResponseInvalid("the session is not for our order")
        }
        if session.paymentStatus == "paid" {
            guard let intent = session.paymentIntent, let amount = session.amountTotal, let currency = session.currency else {
                throw .providerResponseInvalid("a paid session without payment_intent, amount_total or currency")
            }
            return .paid(amount: amount, currency: currency.uppercased(), providerTransactionId: intent, paidAt: nil)
        }
        switch session.status {
        case "open", "complete": return .pending
        case "expired": return .closed
        default: return .unknown(state: session.status ?? "")
        }
    }

    func close(_ payment: ProviderPaymentReference) async throws(PaymentProviderError) {
        let id = try Self.sessionId(payment)
        let _: Session = try await call(.post, "/v1/checkout/sessions/\(FormCoding.percentEncode(id))/expire", form: [],
                                        idempotencyKey: "convene-expire-\(id)")
    }

    func refund(_ request: ProviderRefundRequest) async throws(PaymentProviderError) -> ProviderRefundState {
        _ = try Self.currency(request.currency)
        guard let intent = request.providerPaymentReference, !intent.isEmpty else {
            throw .invalidRequest("a Stripe refund needs the PaymentIntent id")
        }
        guard request.amount > 0, request.amount <= request.total else {
            throw .invalidRequest("the refund must be positive and at most the amount paid")
        }
        var metadata: [(String, StripeForm.Value)] = [("order", .string(request.merchantOrderNumber)),
                                                       ("refund", .string(request.refundNumber))]
        if let reason = request.reason, !reason.isEmpty { metadata.append(("reason", .string(String(reason.prefix(500))))) }
        let refund: Refund = try await call(.post, "/v1/refunds", form: [
            ("payment_intent", .string(intent)),
            ("amount", .string(String(request.amount))),
            ("metadata", .object(metadata)),
        ], idempotencyKey: "convene-refund-\(request.refundNumber)")
        switch refund.status {
        case "succeeded": return .succeeded(providerRefundId: refund.id)
        case "pending", "requires_action": return .pending(providerRefundId: refund.id)
        case "failed", "canceled": return .failed(providerRefundId: refund.id, reason: refund.failureReason ?? refund.status)
        default: throw .providerResponseInvalid("unknown refund status")
        }
    }

    // MARK: Webhooks

    func verifyCallback(rawBody: [UInt8], headers: ProviderHeaders, now: Date) throws(PaymentProviderError) -> VerifiedCallback {
        try StripeWebhookSignature.verify(header: headers["Stripe-Signature"], body: rawBody, secret: webhookSecret,
                                          now: now, tolerance: tolerance)
        let event: Event
        do {
            event = try JSONDecoder().decode(Event.self, from: Data(rawBody))
        } catch {
            throw .callbackMalformed("the body is not a Stripe event")
        }
        let handled: Set = ["checkout.session.completed", "checkout.session.async_payment_succeeded",
                            "checkout.session.expired", "checkout.session.async_payment_failed", "charge.refunded"]
        if handled.contains(event.type) && event.data.object == nil {
            throw .callbackMalformed("the event's object cannot be read")
        }
        let object = event.data.object ?? EventObject()
        var callback = VerifiedCallback(
            provider: kind, providerEventId: event.id, kind: .ignored(type: event.type),
            merchantOrderNumber: object.clientReferenceId ?? object.metadata?["order"],
            providerTransactionId: object.paymentIntent, currency: object.currency?.uppercased(),
            appOrMerchantId: event.account,
            occurredAt: event.created.map { Date(timeIntervalSince1970: TimeInterval($0)) },
            acknowledgement: CallbackAcknowledgement(status: 200))
        switch event.type {
        case "checkout.session.completed", "checkout.session.async_payment_succeeded":
            // A completed session with a delayed payment method is not paid yet.
            guard object.paymentStatus == "paid" else { return callback }
            guard callback.merchantOrderNumber != nil, object.paymentIntent != nil, let amount = object.amountTotal,
                  callback.currency != nil else {
                throw .callbackMalformed("a paid session without client_reference_id, payment_intent, amount_total or currency")
            }
            callback.kind = .paymentSucceeded
            callback.amount = amount
        case "checkout.session.expired", "checkout.session.async_payment_failed":
            guard callback.merchantOrderNumber != nil else { throw .callbackMalformed("a session without client_reference_id") }
            callback.kind = .paymentClosed
        case "charge.refunded":
            guard object.paymentIntent != nil, let refunded = object.amountRefunded else {
                throw .callbackMalformed("a refunded charge without payment_intent or amount_refunded")
            }
            callback.kind = .refundSucceeded
            callback.refundedTotal = refunded
        default:
            break
        }
        return callback
    }

    /// Stripe retries anything but a 2xx.
    func failureAcknowledgement(for error: PaymentProviderError) -> CallbackAcknowledgement {
        switch error {
        case .signatureInvalid, .callbackStale, .callbackMalformed, .callbackMisaddressed:
            CallbackAcknowledgement(status: 400)
        default:
            CallbackAcknowledgement(status: 500)
        }
    }

    // MARK: HTTP

    /// One call: `Authorization: Bearer`, a form body and an `Idempotency-Key` on POST. 5xx, 408,
    /// 409 (a concurrent request with the same key) and 429 are `providerUnavailable`; other
    /// errors are `providerRejected` with Stripe's `code` (or `type`) and message.
    private func call<Answer: Decodable>(_ method: HTTPMethod, _ path: String, form: [(String, StripeForm.Value)] = [],
                                         idempotencyKey: String? = nil) async throws(PaymentProviderError) -> Answer {
        var request = HTTPRequest(method: method, url: apiURL + path,
                                  headers: [("Authorization", "Bearer \(secretKey)"), ("Accept", "application/json")])
        if method == .post {
            request.addHeader("Content-Type", "application/x-www-form-urlencoded")
            request.body = Array(StripeForm.encode(form).utf8)
        }
        if let idempotencyKey { request.addHeader("Idempotency-Key", idempotencyKey) }
        if let apiVersion { request.addHeader("Stripe-Version", apiVersion) }
        let response: HTTPResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch {
            throw PaymentProviderError.transport(error)
        }
        if response.status >= 500 || [408, 409, 429].contains(response.status) {
            throw .providerUnavailable("Stripe answered HTTP \(response.status)")
        }
        guard response.isSuccess else {
            let failure = (try? JSONDecoder().decode(ErrorAnswer.self, from: Data(response.body)))?.error
            let message = (failure?.message ?? "").replacingOccurrences(of: secretKey, with: "[redacted]")
            throw .providerRejected(code: failure?.code ?? failure?.type ?? "http_\(response.status)", message: message)
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(response.body))
        } catch {
            throw .providerResponseInvalid("the answer is not the expected JSON")
        }
    }

    private static func currency(_ code: String) throws(PaymentProviderError) -> String {
        guard code.count == 3, code.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw .invalidRequest("a currency is a three-letter ISO 4217 code")
        }
        return code.lowercased()
    }

    private static func sessionId(_ payment: ProviderPaymentReference) throws(PaymentProviderError) -> String {
        guard let id = payment.providerReference, !id.isEmpty else {
            throw .invalidRequest("a Stripe payment is addressed by its Checkout Session id")
        }
        return id
    }
}

// MARK: - Wire types

extension Stripe {
    struct Session: Decodable {
        var id: String
        var url: String?
        var status: String?
        var paymentStatus: String?
        var clientReferenceId: String?
        var amountTotal: Int?
        var currency: String?
        var paymentIntent: String?
        var expiresAt: Int64?

        enum CodingKeys: String, CodingKey {
            case id, url, status, currency
            case paymentStatus = "payment_status"
            case clientReferenceId = "client_reference_id"
            case amountTotal = "amount_total"
            case paymentIntent = "payment_intent"
            case expiresAt = "expires_at"
        }
    }

    struct Refund: Decodable {
        var id: String
        var status: String
        var failureReason: String?

        enum CodingKeys: String, CodingKey {
            case id, status
            case failureReason = "failure_reason"
        }
    }

    /// The fields of a Checkout Session or a Charge that the handled events need.
    struct EventObject: Decodable {
        var id: String?
        var clientReferenceId: String?
        var paymentStatus: String?
        var amountTotal: Int?
        var amountRefunded: Int?
        var currency: String?
        var paymentIntent: String?
        var metadata: [String: String]?

        enum CodingKeys: String, CodingKey {
            case id, currency, metadata
            case clientReferenceId = "client_reference_id"
            case paymentStatus = "payment_status"
            case amountTotal = "amount_total"
            case amountRefunded = "amount_refunded"
            case paymentIntent = "payment_intent"
        }
    }

    struct Event: Decodable {
        /// `object` is nil when it does not have the shape of the handled objects: an event type
        /// we ignore must not fail to decode.
        struct Payload: Decodable {
            var object: EventObject?

            enum CodingKeys: String, CodingKey { case object }

            init(from decoder: any Decoder) throws {
                object = try? decoder.container(keyedBy: CodingKeys.self).decode(EventObject.self, forKey: .object)
            }
        }

        var id: String
        var type: String
        var created: Int64?
        var account: String?
        var data: Payload
    }

    struct ErrorAnswer: Decodable {
        struct Detail: Decodable {
            var type: String?
            var code: String?
            var message: String?
            var param: String?
        }

        var error: Detail
    }
}

extension StripeConfiguration: RedactedDescription {
    var visibleFields: KeyValuePairs<String, String> { ["apiURL": apiURL] }
}

extension Stripe: RedactedDescription {
    var visibleFields: KeyValuePairs<String, String> { ["apiURL": apiURL] }
}
