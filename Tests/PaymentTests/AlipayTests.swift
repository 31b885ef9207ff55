import Foundation
import HTTPClient
@testable import Payment
import Testing
import _CryptoExtras

enum AlipayFixture {
    static let appId = "2021000000000001"

    static func configuration() -> AlipayConfiguration {
        // The app key as PEM, Alipay's key as the bare base64 its console shows: both forms load.
        AlipayConfiguration(
            gatewayURL: "https://alipay.test/gateway.do", appId: appId,
            appPrivateKey: TestKeys.alipayApp.pemRepresentation,
            alipayPublicKey: TestKeys.alipayPlatform.publicKey.derRepresentation.base64EncodedString(),
            notifyURL: "https://convene.test/webhooks/alipay", returnURL: "https://convene.test/orders/return")
    }

    static func provider(_ client: RecordingHTTPClient) throws -> Alipay {
        try Alipay(configuration: configuration(), client: client, clock: { fixedNow })
    }

    static func sign(_ text: String, key: _RSA.Signing.PrivateKey = TestKeys.alipayPlatform) throws -> String {
        try key.signature(for: Array(text.utf8), padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
    }

    /// `{"<method>_response":<inner>,"sign":"…"}` with the inner object signed by Alipay's key.
    static func answer(_ method: String, _ inner: String, signed: Bool = true) throws -> HTTPResponse {
        let key = method.replacingOccurrences(of: ".", with: "_") + "_response"
        let sign = signed ? #","sign":"\#(try sign(inner))""# : ""
        return HTTPResponse(status: 200, headers: [("Content-Type", "text/html;charset=utf-8")],
                            body: Array(#"{"\#(key)":\#(inner)\#(sign)}"#.utf8))
    }

    /// A notification form body signed by Alipay's key (over everything but `sign` and `sign_type`).
    static func notification(_ parameters: [(key: String, value: String)],
                             key: _RSA.Signing.PrivateKey = TestKeys.alipayPlatform) throws -> [UInt8] {
        let signature = try sign(AlipaySignature.canonical(parameters, excluding: ["sign", "sign_type"]), key: key)
        return Array(FormCoding.encode(parameters + [("sign_type", "RSA2"), ("sign", signature)]).utf8)
    }

    static func paidNotification(appId: String = appId, amount: String = "123.45") -> [(key: String, value: String)] {
        [("notify_time", "2026-11-22 17:30:05"), ("notify_type", "trade_status_sync"), ("notify_id", "ac05099524730693a8b330c5ecf72da9786"),
         ("charset", "utf-8"), ("version", "1.0"), ("app_id", appId), ("trade_no", "2026112222001404680501234567"),
         ("out_trade_no", "CV20261122000001"), ("trade_status", "TRADE_SUCCESS"), ("total_amount", amount),
         ("receipt_amount", amount), ("buyer_pay_amount", amount), ("subject", "Registration 注册费"),
         ("gmt_create", "2026-11-22 17:29:00"), ("gmt_payment", "2026-11-22 17:30:00"), ("fund_bill_list", #"[{"amount":"123.45","fundChannel":"ALIPAYACCOUNT"}]"#)]
    }
}

/// The request's form parameters; checks that its `sign` verifies with the app's public key.
func verifiedAlipayParameters(_ request: HTTPRequest) throws -> [String: String] {
    let pairs = try #require(FormCoding.decode(request.body))
    let sign = try #require(pairs.first { $0.key == "sign" }?.value)
    let signature = _RSA.Signing.RSASignature(rawRepresentation: try #require(Data(base64Encoded: sign)))
    let canonical = AlipaySignature.canonical(pairs)
    #expect(TestKeys.alipayApp.publicKey.isValidSignature(signature, for: Array(canonical.utf8), padding: .insecurePKCS1v1_5))
    return Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
}

@Suite("Alipay: signatures and amounts")
struct AlipaySignatureTests {
    @Test("the signed text is every non-empty parameter but sign, sorted by name, joined k=v& with raw values")
    func canonicalString() {
        let parameters: [(key: String, value: String)] = [
            ("timestamp", "2026-11-22 17:30:00"), ("method", "alipay.trade.precreate"), ("app_id", "2021"), ("sign", "abc"),
            ("notify_url", ""), ("biz_content", #"{"out_trade_no":"CV1","subject":"a&b=c"}"#), ("charset", "utf-8"), ("sign_type", "RSA2"),
        ]
        #expect(AlipaySignature.canonical(parameters) == """
            app_id=2021&biz_content={"out_trade_no":"CV1","subject":"a&b=c"}&charset=utf-8&method=alipay.trade.precreate\
            &sign_type=RSA2&timestamp=2026-11-22 17:30:00
            """)
        #expect(AlipaySignature.canonical(parameters, excluding: ["sign", "sign_type"]) == """
            app_id=2021&biz_content={"out_trade_no":"CV1","subject":"a&b=c"}&charset=utf-8&method=alipay.trade.precreate\
            &timestamp=2026-11-22 17:30:00
            """)
    }

    @Test("a signature made with the app key verifies with its public key, and not once a value changes")
    func signVerifyRoundTrip() throws {
        var parameters: [(key: String, value: String)] = [("app_id", "2021"), ("out_trade_no", "CV1"), ("total_amount", "1.00")]
        let sign = try AlipaySignature.sign(parameters, with: TestKeys.alipayApp)
        parameters.append(("sign", sign))
        parameters.append(("sign_type", "RSA2"))
        #expect(AlipaySignature.verifyNotification(parameters, with: TestKeys.alipayApp.publicKey))
        parameters[2].value = "100.00"
        #expect(!AlipaySignature.verifyNotification(parameters, with: TestKeys.alipayApp.publicKey))
        #expect(!AlipaySignature.verifyNotification([("app_id", "2021")], with: TestKeys.alipayApp.publicKey))
    }

    @Test("an answer's sign is checked over the inner object exactly as it appears in the body; altering it fails")
    func answerSignature() throws {
        let provider = try AlipayFixture.provider(RecordingHTTPClient { _ in HTTPResponse(status: 500) })
        // Spacing, escaped slashes and key order as Alipay writes them: re-serializing would change them.
        let inner = #"{"code":"10000","msg":"Success","out_trade_no":"CV1","qr_code":"https:\/\/qr.alipay.com\/bax0 1"}"#
        let body = Array(#"{"alipay_trade_precreate_response":\#(inner),  "sign":"\#(try AlipayFixture.sign(inner))"}"#.utf8)
        let content = try provider.verifiedContent(of: body, method: "alipay.trade.precreate")
        #expect(Array(content.bytes) == Array(inner.utf8))
        #expect(content.signed)

        let altered = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "CV1", with: "CV2").utf8)
        #expect(throws: PaymentProviderError.providerResponseInvalid("the answer's signature does not verify")) {
            _ = try provider.verifiedContent(of: altered, method: "alipay.trade.precreate")
        }
        let foreign = Array(#"{"alipay_trade_precreate_response":\#(inner),"sign":"\#(try AlipayFixture.sign(inner, key: TestKeys.alipayApp))"}"#.utf8)
        #expect(throws: PaymentProviderError.providerResponseInvalid("the answer's signature does not verify")) {
            _ = try provider.verifiedContent(of: foreign, method: "alipay.trade.precreate")
        }
        #expect(throws: PaymentProviderError.providerResponseInvalid("the answer is not a JSON object")) {
            _ = try provider.verifiedContent(of: Array(#"{"a":1,"a":2}"#.utf8), method: "alipay.trade.precreate")
        }
    }

    @Test("yuan ↔ minor units: 1 → 0.01, 12345 → 123.45; non-CNY or non-positive amounts are not sent")
    func yuan() throws {
        #expect(try Alipay.yuan(1, currency: "CNY") == "0.01")
        #expect(try Alipay.yuan(12345, currency: "cny") == "123.45")
        #expect(throws: PaymentProviderError.invalidRequest("Alipay takes CNY only")) { _ = try Alipay.yuan(100, currency: "USD") }
        #expect(throws: PaymentProviderError.invalidRequest("the amount must be positive")) { _ = try Alipay.yuan(0, currency: "CNY") }
        #expect(DecimalAmount.parse("100") == 10000)
        #expect(DecimalAmount.parse("0.1") == 10)
        #expect(DecimalAmount.parse("1.234") == nil)
        #expect(DecimalAmount.parse("-1") == nil)
        #expect(DecimalAmount.parse("abc") == nil)
    }
}

@Suite("Alipay: calls")
struct AlipayCallTests {
    @Test("precreate posts a signed form (RSA2, utf-8, China-time timestamp, biz_content in yuan) and returns qr_code and a signed page-pay URL")
    func precreate() async throws {
        let client = RecordingHTTPClient { _ in
            try AlipayFixture.answer("alipay.trade.precreate",
                                     #"{"code":"10000","msg":"Success","out_trade_no":"CV1","qr_code":"https:\/\/qr.alipay.com\/bax01"}"#)
        }
        let checkout = try await AlipayFixture.provider(client).createCheckout(CheckoutRequest(
            merchantOrderNumber: "CV1", amount: 12345, currency: "CNY", description: "Registration 注册费",
            expiresAt: fixedNow.addingTimeInterval(900)))
        #expect(checkout.qrCode == "https://qr.alipay.com/bax01")

        let request = try #require(client.last)
        #expect(request.method == .post)
        #expect(request.url == "https://alipay.test/gateway.do")
        #expect(request.header(named: "Content-Type") == "application/x-www-form-urlencoded;charset=utf-8")
        let parameters = try verifiedAlipayParameters(request)
        #expect(parameters["app_id"] == AlipayFixture.appId)
        #expect(parameters["method"] == "alipay.trade.precreate")
        #expect(parameters["format"] == "JSON")
        #expect(parameters["charset"] == "utf-8")
        #expect(parameters["sign_type"] == "RSA2")
        #expect(parameters["version"] == "1.0")
        #expect(parameters["timestamp"] == "2026-11-22 17:30:00")
        #expect(parameters["notify_url"] == "https://convene.test/webhooks/alipay")
        let biz = jsonObject(Array(try #require(parameters["biz_content"]).utf8))
        #expect(biz["out_trade_no"] as? String == "CV1")
        #expect(biz["total_amount"] as? String == "123.45")
        #expect(biz["subject"] as? String == "Registration 注册费")
        #expect(biz["time_expire"] as? String == "2026-11-22 17:45:00")

        let pagePay = try #require(checkout.redirectURL)
        #expect(pagePay.hasPrefix("https://alipay.test/gateway.do?"))
        let query = try #require(pagePay.split(separator: "?", maxSplits: 1).last)
        let pageRequest = HTTPRequest(url: pagePay, body: Array(query.utf8))
        let pageParameters = try verifiedAlipayParameters(pageRequest)
        #expect(pageParameters["method"] == "alipay.trade.page.pay")
        #expect(pageParameters["return_url"] == "https://convene.test/orders/return")
        let pageBiz = jsonObject(Array(try #require(pageParameters["biz_content"]).utf8))
        #expect(pageBiz["product_code"] as? String == "FAST_INSTANT_TRADE_PAY")
        #expect(pageBiz["total_amount"] as? String == "123.45")
    }

    @Test("query maps TRADE_SUCCESS to paid (yuan read exactly), WAIT_BUYER_PAY to pending, TRADE_CLOSED to closed, ACQ.TRADE_NOT_EXIST to unknown")
    func query() async throws {
        let paid = RecordingHTTPClient { _ in
            try AlipayFixture.answer("alipay.trade.query", """
                {"code":"10000","msg":"Success","trade_no":"2026112222001404680501234567","out_trade_no":"CV1",\
                "trade_status":"TRADE_SUCCESS","total_amount":"0.10","send_pay_date":"2026-11-22 17:30:00"}
                """)
        }
        #expect(try await AlipayFixture.provider(paid).query(.init(merchantOrderNumber: "CV1"))
            == .paid(amount: 10, currency: "CNY", providerTransactionId: "2026112222001404680501234567", paidAt: fixedNow))
        let parameters = try verifiedAlipayParameters(try #require(paid.last))
        #expect(parameters["method"] == "alipay.trade.query")
        #expect(parameters["biz_content"] == #"{"out_trade_no":"CV1"}"#)
        #expect(parameters["notify_url"] == nil)

        for (status, expected) in [("WAIT_BUYER_PAY", ProviderPaymentState.pending), ("TRADE_CLOSED", .closed)] {
            let client = RecordingHTTPClient { _ in
                try AlipayFixture.answer("alipay.trade.query", #"{"code":"10000","msg":"Success","out_trade_no":"CV1","trade_status":"\#(status)"}"#)
            }
            #expect(try await AlipayFixture.provider(client).query(.init(merchantOrderNumber: "CV1")) == expected)
        }
        let missing = RecordingHTTPClient { _ in
            try AlipayFixture.answer("alipay.trade.query", """
                {"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}
                """)
        }
        #expect(try await AlipayFixture.provider(missing).query(.init(merchantOrderNumber: "CV1")) == .unknown(state: "ACQ.TRADE_NOT_EXIST"))
    }

    @Test("refund sends out_request_no = our refund number and the amount in yuan; fund_change Y is succeeded, N pending")
    func refund() async throws {
        for (change, expected) in [("Y", ProviderRefundState.succeeded(providerRefundId: nil)), ("N", .pending(providerRefundId: nil))] {
            let client = RecordingHTTPClient { _ in
                try AlipayFixture.answer("alipay.trade.refund", """
                    {"code":"10000","msg":"Success","trade_no":"2026112222001404680501234567","out_trade_no":"CV1",\
                    "fund_change":"\(change)","refund_fee":"1.00"}
                    """)
            }
            let state = try await AlipayFixture.provider(client).refund(.init(
                merchantOrderNumber: "CV1", refundNumber: "RF1", amount: 100, total: 12345, currency: "CNY", reason: "seat lost"))
            #expect(state == expected)
            let parameters = try verifiedAlipayParameters(try #require(client.last))
            let biz = jsonObject(Array(try #require(parameters["biz_content"]).utf8))
            #expect(biz["out_request_no"] as? String == "RF1")
            #expect(biz["refund_amount"] as? String == "1.00")
            #expect(biz["out_trade_no"] as? String == "CV1")
        }
    }

    @Test("a business failure is provider_rejected with sub_code and sub_msg, even unsigned; an unsigned success is refused")
    func failures() async throws {
        let rejected = RecordingHTTPClient { _ in
            try AlipayFixture.answer("alipay.trade.close", """
                {"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_STATUS_ERROR","sub_msg":"交易状态不合法"}
                """, signed: false)
        }
        await #expect(throws: PaymentProviderError.providerRejected(code: "ACQ.TRADE_STATUS_ERROR", message: "交易状态不合法")) {
            try await AlipayFixture.provider(rejected).close(.init(merchantOrderNumber: "CV1"))
        }
        let unsigned = RecordingHTTPClient { _ in
            try AlipayFixture.answer("alipay.trade.close", #"{"code":"10000","msg":"Success","out_trade_no":"CV1"}"#, signed: false)
        }
        await #expect(throws: PaymentProviderError.providerResponseInvalid("an unsigned success")) {
            try await AlipayFixture.provider(unsigned).close(.init(merchantOrderNumber: "CV1"))
        }
        let busy = RecordingHTTPClient { _ in
            try AlipayFixture.answer("alipay.trade.close", #"{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error"}"#)
        }
        let error = await #expect(throws: PaymentProviderError.self) {
            try await AlipayFixture.provider(busy).close(.init(merchantOrderNumber: "CV1"))
        }
        #expect(error?.isTransient == true)
        let gatewayError = RecordingHTTPClient { _ in HTTPResponse(status: 502) }
        await #expect(throws: PaymentProviderError.providerUnavailable("Alipay answered HTTP 502")) {
            try await AlipayFixture.provider(gatewayError).close(.init(merchantOrderNumber: "CV1"))
        }
    }
}

@Suite("Alipay: notifications")
struct AlipayNotificationTests {
    let provider: Alipay

    init() throws {
        provider = try AlipayFixture.provider(RecordingHTTPClient { _ in HTTPResponse(status: 500) })
    }

    @Test("a signed TRADE_SUCCESS notification is paymentSucceeded, deduped on notify_id, answered with the plain body success")
    func paid() throws {
        let callback = try provider.verifyCallback(rawBody: try AlipayFixture.notification(AlipayFixture.paidNotification()),
                                                   headers: ProviderHeaders([:]), now: fixedNow)
        #expect(callback.kind == .paymentSucceeded)
        #expect(callback.providerEventId == "ac05099524730693a8b330c5ecf72da9786")
        #expect(callback.merchantOrderNumber == "CV20261122000001")
        #expect(callback.providerTransactionId == "2026112222001404680501234567")
        #expect(callback.amount == 12345)
        #expect(callback.currency == "CNY")
        #expect(callback.appOrMerchantId == AlipayFixture.appId)
        #expect(callback.occurredAt == fixedNow)
        #expect(callback.acknowledgement.status == 200)
        #expect(callback.acknowledgement.bodyText == "success")
    }

    @Test("a changed amount, a signature by another key, a missing sign or an RSA (SHA-1) sign_type is signature_invalid")
    func badSignatures() throws {
        let good = String(decoding: try AlipayFixture.notification(AlipayFixture.paidNotification()), as: UTF8.self)
        let bodies = [
            good.replacingOccurrences(of: "total_amount=123.45", with: "total_amount=1.00"),
            String(decoding: try AlipayFixture.notification(AlipayFixture.paidNotification(), key: TestKeys.alipayApp), as: UTF8.self),
            good.components(separatedBy: "&").filter { !$0.hasPrefix("sign=") }.joined(separator: "&"),
            good.replacingOccurrences(of: "sign_type=RSA2", with: "sign_type=RSA"),
            good + "&total_amount=1.00",
        ]
        for body in bodies {
            let error = #expect(throws: PaymentProviderError.self) {
                _ = try provider.verifyCallback(rawBody: Array(body.utf8), headers: ProviderHeaders([:]), now: fixedNow)
            }
            #expect(error?.code == "payment.signature_invalid")
        }
    }

    @Test("a genuine notification for another app_id is callback_misaddressed")
    func anotherApp() throws {
        let body = try AlipayFixture.notification(AlipayFixture.paidNotification(appId: "2021999999999999"))
        #expect(throws: PaymentProviderError.callbackMisaddressed("the notification is for another app")) {
            _ = try provider.verifyCallback(rawBody: body, headers: ProviderHeaders([:]), now: fixedNow)
        }
    }

    @Test("TRADE_CLOSED is paymentClosed; a refund notification is refundSucceeded with the total refunded and our refund number")
    func closedAndRefunded() throws {
        var closed = AlipayFixture.paidNotification()
        closed[8].value = "TRADE_CLOSED"
        closed.append(("gmt_close", "2026-11-22 17:30:00"))
        #expect(try provider.verifyCallback(rawBody: try AlipayFixture.notification(closed), headers: ProviderHeaders([:]), now: fixedNow)
            .kind == .paymentClosed)

        var refunded = AlipayFixture.paidNotification()
        refunded += [("refund_fee", "1.00"), ("gmt_refund", "2026-11-22 17:30:00.123"), ("out_biz_no", "RF1")]
        let callback = try provider.verifyCallback(rawBody: try AlipayFixture.notification(refunded), headers: ProviderHeaders([:]),
                                                   now: fixedNow)
        #expect(callback.kind == .refundSucceeded)
        #expect(callback.refundedTotal == 100)
        #expect(callback.refundNumber == "RF1")
        #expect(callback.amount == nil)
        #expect(callback.occurredAt == fixedNow, "gmt_refund, milliseconds dropped")
    }

    @Test("a failed notification is answered with a body other than success")
    func failureAcknowledgement() {
        let ack = provider.failureAcknowledgement(for: .signatureInvalid("x"))
        #expect(ack.bodyText == "fail")
        #expect(ack.bodyText != "success")
    }
}
