import Foundation
import HTTPClient
@testable import Payment
import Testing

enum StripeFixture {
    static let secretKey = "sk_test_51Convene0000000000000000000000"
    static let webhookSecret = "whsec_test_0123456789abcdefghijklmnopqrstuv"

    static func provider(_ client: RecordingHTTPClient) throws -> Stripe {
        try Stripe(configuration: StripeConfiguration(
            apiURL: "https://stripe.test", secretKey: secretKey, webhookSecret: webhookSecret,
            successURL: "https://convene.test/orders/done?session={CHECKOUT_SESSION_ID}",
            cancelURL: "https://convene.test/orders/cancelled"), client: client)
    }

    static func signatureHeader(_ body: [UInt8], secret: String = webhookSecret, at date: Date = fixedNow) -> String {
        let timestamp = Int64(date.timeIntervalSince1970)
        return "t=\(timestamp),v1=\(StripeWebhookSignature.signature(secret: secret, timestamp: timestamp, body: body))"
    }

    static func event(_ type: String, object: String) -> [UInt8] {
        json(#"{"id":"evt_1Q2w3E4r5T6y","object":"event","api_version":"2024-06-20","created":1795339800,"type":"\#(type)","livemode":false,"data":{"object":\#(object)}}"#)
    }

    static let paidSession = """
        {"id":"cs_test_a1b2c3","object":"checkout.session","amount_total":12345,"currency":"cny",\
        "client_reference_id":"CV20261122000001","metadata":{"order":"CV20261122000001"},"mode":"payment",\
        "payment_intent":"pi_3Q2w3E4r5T6y","payment_status":"paid","status":"complete","url":null,\
        "customer_details":{"email":"someone@example.com"}}
        """
}

@Suite("Stripe: webhook signatures")
struct StripeSignatureTests {
    let body = StripeFixture.event("checkout.session.completed", object: StripeFixture.paidSession)

    @Test("a v1 HMAC of t.body under the endpoint secret verifies")
    func valid() throws {
        try StripeWebhookSignature.verify(header: StripeFixture.signatureHeader(body), body: body, secret: StripeFixture.webhookSecret,
                                          now: fixedNow, tolerance: 300)
    }

    @Test("a signature made with another secret, or over another body, is signature_invalid")
    func wrongSecret() {
        for (header, body) in [(StripeFixture.signatureHeader(body, secret: "whsec_other"), body),
                               (StripeFixture.signatureHeader(body), body + [UInt8(ascii: " ")])] {
            #expect(throws: PaymentProviderError.signatureInvalid("no v1 signature matches")) {
                try StripeWebhookSignature.verify(header: header, body: body, secret: StripeFixture.webhookSecret,
                                                  now: fixedNow, tolerance: 300)
            }
        }
    }

    @Test("a timestamp more than the tolerance away is callback_stale; at the tolerance it passes")
    func stale() throws {
        for offset in [-301.0, 301, 86400] {
            #expect(throws: PaymentProviderError.callbackStale) {
                try StripeWebhookSignature.verify(header: StripeFixture.signatureHeader(body, at: fixedNow.addingTimeInterval(offset)),
                                                  body: body, secret: StripeFixture.webhookSecret, now: fixedNow, tolerance: 300)
            }
        }
        try StripeWebhookSignature.verify(header: StripeFixture.signatureHeader(body, at: fixedNow.addingTimeInterval(-300)),
                                          body: body, secret: StripeFixture.webhookSecret, now: fixedNow, tolerance: 300)
    }

    @Test("with several v1 values (a secret being rolled) one match is enough; v0 values are not considered")
    func multipleSignatures() throws {
        let timestamp = Int64(fixedNow.timeIntervalSince1970)
        let good = StripeWebhookSignature.signature(secret: StripeFixture.webhookSecret, timestamp: timestamp, body: body)
        let old = StripeWebhookSignature.signature(secret: "whsec_old", timestamp: timestamp, body: body)
        try StripeWebhookSignature.verify(header: "t=\(timestamp),v1=\(old),v1=\(good),v0=deadbeef", body: body,
                                          secret: StripeFixture.webhookSecret, now: fixedNow, tolerance: 300)
        #expect(throws: PaymentProviderError.signatureInvalid("no v1 signature matches")) {
            try StripeWebhookSignature.verify(header: "t=\(timestamp),v1=\(old),v0=\(good)", body: body,
                                              secret: StripeFixture.webhookSecret, now: fixedNow, tolerance: 300)
        }
    }

    @Test("a missing or malformed Stripe-Signature header is signature_invalid")
    func malformed() {
        let timestamp = Int64(fixedNow.timeIntervalSince1970)
        let good = StripeWebhookSignature.signature(secret: StripeFixture.webhookSecret, timestamp: timestamp, body: body)
        for header in [nil, "", "garbage", "v1=\(good)", "t=\(timestamp)", "t=abc,v1=\(good)", "t=\(timestamp),t=\(timestamp),v1=\(good)"] {
            #expect(throws: PaymentProviderError.signatureInvalid("the Stripe-Signature header is missing or malformed")) {
                try StripeWebhookSignature.verify(header: header, body: body, secret: StripeFixture.webhookSecret,
                                                  now: fixedNow, tolerance: 300)
            }
        }
    }
}

@Suite("Stripe: calls")
struct StripeCallTests {
    @Test("nested parameters flatten to bracket notation in order and values are percent-encoded")
    func formEncoding() {
        let form = StripeForm.encode([
            ("mode", .string("payment")),
            ("line_items", .array([.object([
                ("price_data", .object([("currency", .string("cny")), ("unit_amount", .string("12345")),
                                        ("product_data", .object([("name", .string("Registration & dinner 注册"))]))])),
                ("quantity", .string("1")),
            ])])),
            ("metadata", .object([("order", .string("CV1"))])),
            ("success_url", .string("https://x.test/done?s={CHECKOUT_SESSION_ID}")),
        ])
        #expect(form == "mode=payment"
            + "&line_items[0][price_data][currency]=cny"
            + "&line_items[0][price_data][unit_amount]=12345"
            + "&line_items[0][price_data][product_data][name]=Registration%20%26%20dinner%20%E6%B3%A8%E5%86%8C"
            + "&line_items[0][quantity]=1"
            + "&metadata[order]=CV1"
            + "&success_url=https%3A%2F%2Fx.test%2Fdone%3Fs%3D%7BCHECKOUT_SESSION_ID%7D")
    }

    @Test("creating a session posts mode=payment, the line item in minor units, lower-case currency, client_reference_id, metadata and expires_at, with Bearer auth and an Idempotency-Key from the order number")
    func createSession() async throws {
        let client = RecordingHTTPClient { _ in
            HTTPResponse(status: 200, body: json("""
                {"id":"cs_test_a1b2c3","object":"checkout.session","url":"https://checkout.stripe.com/c/pay/cs_test_a1b2c3",\
                "client_reference_id":"CV1","payment_status":"unpaid","status":"open","expires_at":1795341600}
                """))
        }
        let checkout = try await StripeFixture.provider(client).createCheckout(CheckoutRequest(
            merchantOrderNumber: "CV1", amount: 12345, currency: "CNY", description: "Registration",
            expiresAt: fixedNow.addingTimeInterval(1800)))
        #expect(checkout.providerReference == "cs_test_a1b2c3")
        #expect(checkout.redirectURL == "https://checkout.stripe.com/c/pay/cs_test_a1b2c3")
        #expect(checkout.expiresAt == fixedNow.addingTimeInterval(1800))

        let request = try #require(client.last)
        #expect(request.method == .post)
        #expect(request.url == "https://stripe.test/v1/checkout/sessions")
        #expect(request.header(named: "Authorization") == "Bearer \(StripeFixture.secretKey)")
        #expect(request.header(named: "Idempotency-Key") == "convene-checkout-CV1")
        #expect(request.header(named: "Content-Type") == "application/x-www-form-urlencoded")
        let form = Dictionary(try #require(FormCoding.decode(request.body)).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(form["mode"] == "payment")
        #expect(form["line_items[0][price_data][currency]"] == "cny")
        #expect(form["line_items[0][price_data][unit_amount]"] == "12345")
        #expect(form["line_items[0][price_data][product_data][name]"] == "Registration")
        #expect(form["line_items[0][quantity]"] == "1")
        #expect(form["client_reference_id"] == "CV1")
        #expect(form["metadata[order]"] == "CV1")
        #expect(form["payment_intent_data[metadata][order]"] == "CV1")
        #expect(form["expires_at"] == "1795341600")
        #expect(form["success_url"] == "https://convene.test/orders/done?session={CHECKOUT_SESSION_ID}")
        #expect(form["cancel_url"] == "https://convene.test/orders/cancelled")
    }

    @Test("retrieving a paid session is paid with amount_total, upper-case currency and the PaymentIntent; an expired one is closed")
    func query() async throws {
        let paid = RecordingHTTPClient { _ in HTTPResponse(status: 200, body: json(StripeFixture.paidSession)) }
        let reference = ProviderPaymentReference(merchantOrderNumber: "CV20261122000001", providerReference: "cs_test_a1b2c3")
        #expect(try await StripeFixture.provider(paid).query(reference)
            == .paid(amount: 12345, currency: "CNY", providerTransactionId: "pi_3Q2w3E4r5T6y", paidAt: nil))
        let request = try #require(paid.last)
        #expect(request.method == .get)
        #expect(request.url == "https://stripe.test/v1/checkout/sessions/cs_test_a1b2c3")
        #expect(request.header(named: "Idempotency-Key") == nil)

        let expired = RecordingHTTPClient { _ in
            HTTPResponse(status: 200, body: json(#"{"id":"cs_test_a1b2c3","client_reference_id":"CV20261122000001","payment_status":"unpaid","status":"expired"}"#))
        }
        #expect(try await StripeFixture.provider(expired).query(reference) == .closed)
        await #expect(throws: PaymentProviderError.invalidRequest("a Stripe payment is addressed by its Checkout Session id")) {
            _ = try await StripeFixture.provider(expired).query(.init(merchantOrderNumber: "CV20261122000001"))
        }
    }

    @Test("close expires the session with an Idempotency-Key")
    func close() async throws {
        let client = RecordingHTTPClient { _ in
            HTTPResponse(status: 200, body: json(#"{"id":"cs_test_a1b2c3","client_reference_id":"CV1","status":"expired"}"#))
        }
        try await StripeFixture.provider(client).close(.init(merchantOrderNumber: "CV1", providerReference: "cs_test_a1b2c3"))
        let request = try #require(client.last)
        #expect(request.url == "https://stripe.test/v1/checkout/sessions/cs_test_a1b2c3/expire")
        #expect(request.header(named: "Idempotency-Key") == "convene-expire-cs_test_a1b2c3")
    }

    @Test("a refund posts payment_intent and amount with an Idempotency-Key from our refund number")
    func refund() async throws {
        let client = RecordingHTTPClient { _ in
            HTTPResponse(status: 200, body: json(#"{"id":"re_1Abc","object":"refund","amount":100,"status":"succeeded"}"#))
        }
        let state = try await StripeFixture.provider(client).refund(.init(
            merchantOrderNumber: "CV1", providerPaymentReference: "pi_3Q2w3E4r5T6y", refundNumber: "RF1", amount: 100, total: 12345,
            currency: "CNY", reason: "seat lost"))
        #expect(state == .succeeded(providerRefundId: "re_1Abc"))
        let request = try #require(client.last)
        #expect(request.url == "https://stripe.test/v1/refunds")
        #expect(request.header(named: "Idempotency-Key") == "convene-refund-RF1")
        #expect(request.bodyText == "payment_intent=pi_3Q2w3E4r5T6y&amount=100&metadata[order]=CV1&metadata[refund]=RF1&metadata[reason]=seat%20lost")

        await #expect(throws: PaymentProviderError.invalidRequest("a Stripe refund needs the PaymentIntent id")) {
            _ = try await StripeFixture.provider(client).refund(.init(merchantOrderNumber: "CV1", refundNumber: "RF2", amount: 1,
                                                                      total: 1, currency: "CNY"))
        }
    }

    @Test("a Stripe error is provider_rejected with its code and message (never the key); 429 and 5xx are provider_unavailable")
    func errors() async throws {
        let declined = RecordingHTTPClient { _ in
            HTTPResponse(status: 400, body: json("""
                {"error":{"type":"invalid_request_error","code":"charge_already_refunded",\
                "message":"Charge ch_1 has already been refunded.","param":"payment_intent"}}
                """))
        }
        await #expect(throws: PaymentProviderError.providerRejected(code: "charge_already_refunded", message: "Charge ch_1 has already been refunded.")) {
            _ = try await StripeFixture.provider(declined).refund(.init(merchantOrderNumber: "CV1", providerPaymentReference: "pi_1",
                                                                        refundNumber: "RF1", amount: 1, total: 1, currency: "CNY"))
        }
        let badKey = RecordingHTTPClient { _ in
            HTTPResponse(status: 401, body: json(#"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: \#(StripeFixture.secretKey)"}}"#))
        }
        let error = await #expect(throws: PaymentProviderError.self) {
            try await StripeFixture.provider(badKey).close(.init(merchantOrderNumber: "CV1", providerReference: "cs_1"))
        }
        #expect(error?.code == "payment.provider_rejected")
        #expect(!"\(String(describing: error))".contains(StripeFixture.secretKey))
        for status in [429, 500, 503] {
            let client = RecordingHTTPClient { _ in HTTPResponse(status: status, body: json(#"{"error":{"type":"api_error"}}"#)) }
            await #expect(throws: PaymentProviderError.providerUnavailable("Stripe answered HTTP \(status)")) {
                try await StripeFixture.provider(client).close(.init(merchantOrderNumber: "CV1", providerReference: "cs_1"))
            }
        }
    }
}

@Suite("Stripe: webhook events")
struct StripeEventTests {
    let provider: Stripe

    init() throws {
        provider = try StripeFixture.provider(RecordingHTTPClient { _ in HTTPResponse(status: 500) })
    }

    func verify(_ body: [UInt8]) throws -> VerifiedCallback {
        try provider.verifyCallback(rawBody: body, headers: ProviderHeaders([("stripe-signature", StripeFixture.signatureHeader(body))]),
                                    now: fixedNow)
    }

    @Test("checkout.session.completed and paid is paymentSucceeded with the order from client_reference_id, deduped on the event id, answered 200")
    func completed() throws {
        let callback = try verify(StripeFixture.event("checkout.session.completed", object: StripeFixture.paidSession))
        #expect(callback.kind == .paymentSucceeded)
        #expect(callback.providerEventId == "evt_1Q2w3E4r5T6y")
        #expect(callback.merchantOrderNumber == "CV20261122000001")
        #expect(callback.providerTransactionId == "pi_3Q2w3E4r5T6y")
        #expect(callback.amount == 12345)
        #expect(callback.currency == "CNY")
        #expect(callback.occurredAt == fixedNow)
        #expect(callback.acknowledgement.status == 200)
    }

    @Test("a completed session still unpaid (a delayed payment method) is ignored; its async_payment_succeeded is paymentSucceeded")
    func delayedPayment() throws {
        let unpaid = StripeFixture.paidSession.replacingOccurrences(of: #""payment_status":"paid""#, with: #""payment_status":"unpaid""#)
        #expect(try verify(StripeFixture.event("checkout.session.completed", object: unpaid)).kind
            == .ignored(type: "checkout.session.completed"))
        #expect(try verify(StripeFixture.event("checkout.session.async_payment_succeeded", object: StripeFixture.paidSession)).kind
            == .paymentSucceeded)
    }

    @Test("checkout.session.expired is paymentClosed; charge.refunded is refundSucceeded with the total refunded")
    func expiredAndRefunded() throws {
        let expired = try verify(StripeFixture.event("checkout.session.expired", object: """
            {"id":"cs_test_a1b2c3","object":"checkout.session","client_reference_id":"CV1","payment_status":"unpaid","status":"expired"}
            """))
        #expect(expired.kind == .paymentClosed)
        #expect(expired.merchantOrderNumber == "CV1")

        let refunded = try verify(StripeFixture.event("charge.refunded", object: """
            {"id":"ch_3Q2w","object":"charge","amount":12345,"amount_refunded":100,"currency":"cny","payment_intent":"pi_3Q2w3E4r5T6y",\
            "metadata":{"order":"CV1"},"refunded":false}
            """))
        #expect(refunded.kind == .refundSucceeded)
        #expect(refunded.refundedTotal == 100)
        #expect(refunded.providerTransactionId == "pi_3Q2w3E4r5T6y")
        #expect(refunded.merchantOrderNumber == "CV1")
        #expect(refunded.currency == "CNY")
    }

    @Test("other event types are ignored, whatever their object looks like")
    func ignored() throws {
        let callback = try verify(StripeFixture.event("customer.created", object: #"{"id":"cus_1","metadata":{"n":1},"currency":7}"#))
        #expect(callback.kind == .ignored(type: "customer.created"))
    }

    @Test("a verified body that is not an event, or a handled event without its fields, is callback_malformed; failures are answered 400")
    func malformed() throws {
        for body in [json("not json"), StripeFixture.event("checkout.session.completed", object: #"{"payment_status":"paid"}"#),
                     StripeFixture.event("charge.refunded", object: #"{"amount_refunded":"a lot"}"#)] {
            let error = #expect(throws: PaymentProviderError.self) { _ = try verify(body) }
            #expect(error?.code == "payment.callback_malformed")
        }
        #expect(provider.failureAcknowledgement(for: .signatureInvalid("x")).status == 400)
        #expect(provider.failureAcknowledgement(for: .providerUnavailable("x")).status == 500)
    }
}
