import Foundation
import HTTPClient
@testable import Payment
import Testing
import _CryptoExtras

/// A merchant, its keys and WeChat Pay's answers, as a test builds them.
enum WeChatFixture {
    static let mchid = "1900000001"
    static let appid = "wx8888888888888888"
    static let apiV3Key = "0123456789abcdefghijABCDEFGHIJ01"
    static let merchantSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    static let platformSerial = "PUB_KEY_ID_0119000000012025010100000000000001"

    static func configuration(baseURL: String = "https://wechat.test") -> WeChatPayConfiguration {
        WeChatPayConfiguration(
            baseURL: baseURL, mchid: mchid, appid: appid, merchantSerialNo: merchantSerial,
            merchantPrivateKeyPEM: TestKeys.wechatMerchant.pemRepresentation, apiV3Key: apiV3Key,
            platformSerial: platformSerial, platformPublicKeyPEM: TestKeys.wechatPlatform.publicKey.pemRepresentation,
            notifyURL: "https://convene.test/webhooks/wechat-pay")
    }

    static func provider(_ client: RecordingHTTPClient, baseURL: String = "https://wechat.test") throws -> WeChatPay {
        try WeChatPay(configuration: configuration(baseURL: baseURL), client: client, clock: { fixedNow })
    }

    /// Headers WeChat Pay signs a body with.
    static func signatureHeaders(body: [UInt8], key: _RSA.Signing.PrivateKey = TestKeys.wechatPlatform,
                                 serial: String = platformSerial, at date: Date = fixedNow,
                                 nonce: String = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS") throws -> [(name: String, value: String)] {
        let timestamp = String(Int64(date.timeIntervalSince1970))
        let message = WeChatPayVerifier.message(timestamp: timestamp, nonce: nonce, body: body)
        let signature = try key.signature(for: message, padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
        return [("Wechatpay-Timestamp", timestamp), ("Wechatpay-Nonce", nonce), ("Wechatpay-Signature", signature),
                ("Wechatpay-Serial", serial)]
    }

    /// An answer signed with the platform key.
    static func answer(_ status: Int, _ body: String) throws -> HTTPResponse {
        let bytes = Array(body.utf8)
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + (try signatureHeaders(body: bytes)),
                            body: bytes)
    }

    static func transactionPlaintext(mchid: String = mchid, appid: String = appid) -> String {
        """
        {"mchid":"\(mchid)","appid":"\(appid)","out_trade_no":"CV20261122000001","transaction_id":"4200000000202611220000000001",\
        "trade_type":"NATIVE","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"CMC",\
        "success_time":"2026-11-22T17:29:40+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},\
        "amount":{"total":12345,"payer_total":12345,"currency":"CNY","payer_currency":"CNY"}}
        """
    }

    /// A notification body with `plaintext` encrypted the way WeChat Pay does it.
    static func notificationBody(eventType: String = "TRANSACTION.SUCCESS", plaintext: String,
                                 originalType: String = "transaction", tamper: Bool = false) throws -> [UInt8] {
        var resource = try WeChatPayResource.encrypt(Array(plaintext.utf8), apiV3Key: Array(apiV3Key.utf8),
                                                     nonce: "fdasflkja484", associatedData: "transaction",
                                                     originalType: originalType)
        if tamper {
            var bytes = Array(Data(base64Encoded: resource.ciphertext)!)
            bytes[0] ^= 0x01
            resource.ciphertext = Data(bytes).base64EncodedString()
        }
        let notification = WeChatPay.NotificationBody(
            id: "EV-2018022511223320873", createTime: "2026-11-22T17:29:41+08:00", eventType: eventType,
            resourceType: "encrypt-resource", resource: resource, summary: "支付成功")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(notification))
    }
}

/// The fields of `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",…`.
func authorizationFields(_ header: String) -> [String: String] {
    guard header.hasPrefix(WeChatPaySigner.scheme + " ") else { return [:] }
    var fields: [String: String] = [:]
    for item in header.dropFirst(WeChatPaySigner.scheme.count + 1).split(separator: ",") {
        let parts = item.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { continue }
        fields[String(parts[0])] = String(parts[1].dropFirst().dropLast())
    }
    return fields
}

@Suite("WeChat Pay v3: requests")
struct WeChatPayRequestTests {
    @Test("our Authorization header verifies with the merchant public key over METHOD, path and query, timestamp, nonce and body")
    func authorizationVerifies() async throws {
        let client = RecordingHTTPClient { _ in try WeChatFixture.answer(200, #"{"code_url":"weixin://wxpay/bizpayurl?pr=abc123"}"#) }
        let provider = try WeChatFixture.provider(client, baseURL: "https://wechat.test/prefix")
        _ = try await provider.createCheckout(CheckoutRequest(merchantOrderNumber: "CV20261122000001", amount: 12345,
                                                              currency: "CNY", description: "Registration"))
        let request = try #require(client.last)
        let fields = authorizationFields(try #require(request.header(named: "Authorization")))
        #expect(fields["mchid"] == WeChatFixture.mchid)
        #expect(fields["serial_no"] == WeChatFixture.merchantSerial)
        #expect(fields["timestamp"] == String(Int64(fixedNow.timeIntervalSince1970)))
        let nonce = try #require(fields["nonce_str"])
        #expect(nonce.count == 32)
        #expect(request.pathAndQuery == "/prefix/v3/pay/transactions/native")
        let message = Array("POST\n/prefix/v3/pay/transactions/native\n\(fields["timestamp"]!)\n\(nonce)\n".utf8) + request.body
            + [UInt8(ascii: "\n")]
        let signature = _RSA.Signing.RSASignature(rawRepresentation: try #require(Data(base64Encoded: fields["signature"] ?? "")))
        #expect(TestKeys.wechatMerchant.publicKey.isValidSignature(signature, for: message, padding: .insecurePKCS1v1_5))
        #expect(!TestKeys.wechatMerchant.publicKey.isValidSignature(signature, for: message.dropLast(), padding: .insecurePKCS1v1_5))
    }

    @Test("a Native order posts appid, mchid, out_trade_no, notify_url, the amount in fen and the expiry in China time, and returns code_url")
    func createNativeOrder() async throws {
        let client = RecordingHTTPClient { _ in try WeChatFixture.answer(200, #"{"code_url":"weixin://wxpay/bizpayurl?pr=abc123"}"#) }
        let provider = try WeChatFixture.provider(client)
        let checkout = try await provider.createCheckout(CheckoutRequest(
            merchantOrderNumber: "CV20261122000001", amount: 12345, currency: "CNY", description: "Registration",
            expiresAt: fixedNow.addingTimeInterval(1800)))
        #expect(checkout.qrCode == "weixin://wxpay/bizpayurl?pr=abc123")
        #expect(checkout.redirectURL == nil)
        let request = try #require(client.last)
        #expect(request.method == .post)
        #expect(request.url == "https://wechat.test/v3/pay/transactions/native")
        #expect(request.header(named: "Content-Type") == "application/json")
        let body = jsonObject(request.body)
        #expect(body["appid"] as? String == WeChatFixture.appid)
        #expect(body["mchid"] as? String == WeChatFixture.mchid)
        #expect(body["out_trade_no"] as? String == "CV20261122000001")
        #expect(body["notify_url"] as? String == "https://convene.test/webhooks/wechat-pay")
        #expect(body["time_expire"] as? String == "2026-11-22T18:00:00+08:00")
        let amount = try #require(body["amount"] as? [String: Any])
        #expect(amount["total"] as? Int == 12345)
        #expect(amount["currency"] as? String == "CNY")
    }

    @Test("an answer not signed by the platform key, or signed under another serial, is refused")
    func unsignedAnswerRefused() async throws {
        let body = Array(#"{"code_url":"weixin://wxpay/bizpayurl?pr=forged"}"#.utf8)
        for headers in [try WeChatFixture.signatureHeaders(body: body, key: TestKeys.wechatOtherPlatform),
                        try WeChatFixture.signatureHeaders(body: body, serial: "UNKNOWN"), []] {
            let client = RecordingHTTPClient { _ in HTTPResponse(status: 200, headers: headers, body: body) }
            let provider = try WeChatFixture.provider(client)
            let error = await #expect(throws: PaymentProviderError.self) {
                _ = try await provider.createCheckout(CheckoutRequest(merchantOrderNumber: "CV1", amount: 100, currency: "CNY",
                                                                      description: "x"))
            }
            #expect(error?.code == "payment.provider_response_invalid")
        }
    }

    @Test("query maps SUCCESS to paid with amount, transaction id and time, NOTPAY to pending, CLOSED to closed, ORDER_NOT_EXIST to unknown")
    func query() async throws {
        let paid = WeChatFixture.transactionPlaintext()
        let client = RecordingHTTPClient { _ in try WeChatFixture.answer(200, paid) }
        let state = try await WeChatFixture.provider(client).query(ProviderPaymentReference(merchantOrderNumber: "CV20261122000001"))
        #expect(state == .paid(amount: 12345, currency: "CNY", providerTransactionId: "4200000000202611220000000001",
                               paidAt: Date(timeIntervalSince1970: 1_795_339_780)))
        let request = try #require(client.last)
        #expect(request.method == .get)
        #expect(request.pathAndQuery == "/v3/pay/transactions/out-trade-no/CV20261122000001?mchid=1900000001")
        #expect(request.body.isEmpty)

        for (answer, expected) in [("NOTPAY", ProviderPaymentState.pending), ("CLOSED", .closed), ("PAYERROR", .unknown(state: "PAYERROR"))] {
            let text = paid.replacingOccurrences(of: #""trade_state":"SUCCESS""#, with: #""trade_state":"\#(answer)""#)
            let client = RecordingHTTPClient { _ in try WeChatFixture.answer(200, text) }
            #expect(try await WeChatFixture.provider(client).query(.init(merchantOrderNumber: "CV20261122000001")) == expected)
        }
        let missing = RecordingHTTPClient { _ in
            try WeChatFixture.answer(404, #"{"code":"ORDER_NOT_EXIST","message":"订单不存在"}"#)
        }
        #expect(try await WeChatFixture.provider(missing).query(.init(merchantOrderNumber: "CV404")) == .unknown(state: "ORDER_NOT_EXIST"))
    }

    @Test("a queried transaction of another merchant or order is refused")
    func queryOfAnotherMerchant() async throws {
        let client = RecordingHTTPClient { _ in try WeChatFixture.answer(200, WeChatFixture.transactionPlaintext(mchid: "1900000999")) }
        await #expect(throws: PaymentProviderError.providerResponseInvalid("the answer is about another merchant, app or order")) {
            _ = try await WeChatFixture.provider(client).query(.init(merchantOrderNumber: "CV20261122000001"))
        }
    }

    @Test("close posts the mchid to …/close and accepts 204 without a body")
    func close() async throws {
        let client = RecordingHTTPClient { _ in HTTPResponse(status: 204) }
        try await WeChatFixture.provider(client).close(.init(merchantOrderNumber: "CV20261122000001"))
        let request = try #require(client.last)
        #expect(request.method == .post)
        #expect(request.pathAndQuery == "/v3/pay/transactions/out-trade-no/CV20261122000001/close")
        #expect(request.bodyText == #"{"mchid":"1900000001"}"#)
    }

    @Test("a refund posts out_trade_no, out_refund_no and the amounts; PROCESSING is pending, SUCCESS succeeded, ABNORMAL failed")
    func refund() async throws {
        for (status, expected) in [("PROCESSING", ProviderRefundState.pending(providerRefundId: "50000000382019052709732678859")),
                                   ("SUCCESS", .succeeded(providerRefundId: "50000000382019052709732678859")),
                                   ("ABNORMAL", .failed(providerRefundId: "50000000382019052709732678859", reason: "ABNORMAL"))] {
            let client = RecordingHTTPClient { _ in
                try WeChatFixture.answer(200, """
                    {"refund_id":"50000000382019052709732678859","out_refund_no":"RF1","out_trade_no":"CV1","status":"\(status)",\
                    "amount":{"refund":100,"total":12345,"currency":"CNY"}}
                    """)
            }
            let state = try await WeChatFixture.provider(client).refund(ProviderRefundRequest(
                merchantOrderNumber: "CV1", refundNumber: "RF1", amount: 100, total: 12345, currency: "CNY", reason: "seat lost"))
            #expect(state == expected)
            let request = try #require(client.last)
            #expect(request.pathAndQuery == "/v3/refund/domestic/refunds")
            let body = jsonObject(request.body)
            #expect(body["out_trade_no"] as? String == "CV1")
            #expect(body["out_refund_no"] as? String == "RF1")
            #expect(body["reason"] as? String == "seat lost")
            let amount = try #require(body["amount"] as? [String: Any])
            #expect(amount["refund"] as? Int == 100)
            #expect(amount["total"] as? Int == 12345)
            #expect(amount["currency"] as? String == "CNY")
        }
    }

    @Test("a 4xx is provider_rejected with WeChat Pay's code; a 5xx, 429 or timeout is provider_unavailable")
    func errors() async throws {
        let rejected = RecordingHTTPClient { _ in try WeChatFixture.answer(400, #"{"code":"ORDERPAID","message":"订单已支付"}"#) }
        await #expect(throws: PaymentProviderError.providerRejected(code: "ORDERPAID", message: "订单已支付")) {
            try await WeChatFixture.provider(rejected).close(.init(merchantOrderNumber: "CV1"))
        }
        for respond in [{ @Sendable (_: HTTPRequest) throws -> HTTPResponse in HTTPResponse(status: 500, body: json("oops")) },
                        { @Sendable (_: HTTPRequest) throws -> HTTPResponse in HTTPResponse(status: 429) },
                        { @Sendable (_: HTTPRequest) throws -> HTTPResponse in throw HTTPClientError.timedOut },
                        { @Sendable (_: HTTPRequest) throws -> HTTPResponse in throw HTTPClientError.connectFailed("refused") }] {
            let provider = try WeChatFixture.provider(RecordingHTTPClient(respond))
            let error = await #expect(throws: PaymentProviderError.self) {
                try await provider.close(.init(merchantOrderNumber: "CV1"))
            }
            #expect(error?.code == "payment.provider_unavailable")
            #expect(error?.isTransient == true)
            #expect(error?.conveneError.retryable == true)
        }
    }

    @Test("only CNY is sent to WeChat Pay Native")
    func currency() async throws {
        let client = RecordingHTTPClient { _ in HTTPResponse(status: 500) }
        await #expect(throws: PaymentProviderError.invalidRequest("WeChat Pay Native takes CNY only")) {
            _ = try await WeChatFixture.provider(client).createCheckout(.init(merchantOrderNumber: "CV1", amount: 100,
                                                                              currency: "USD", description: "x"))
        }
        #expect(client.recorded.isEmpty)
    }

    @Test("an APIv3 key that is not 32 bytes, or an unreadable key, is a configuration error")
    func configuration() throws {
        var short = WeChatFixture.configuration()
        short.apiV3Key = "too-short"
        #expect(throws: PaymentProviderError.misconfigured("the WeChat Pay APIv3 key must be 32 bytes")) {
            _ = try WeChatPay(configuration: short, client: RecordingHTTPClient { _ in HTTPResponse(status: 500) })
        }
        var broken = WeChatFixture.configuration()
        broken.merchantPrivateKeyPEM = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
        #expect(throws: PaymentProviderError.misconfigured("the WeChat Pay merchant key is not a readable RSA private key of at least 2048 bits")) {
            _ = try WeChatPay(configuration: broken, client: RecordingHTTPClient { _ in HTTPResponse(status: 500) })
        }
    }
}

@Suite("WeChat Pay v3: notifications")
struct WeChatPayNotificationTests {
    let provider: WeChatPay

    init() throws {
        provider = try WeChatFixture.provider(RecordingHTTPClient { _ in HTTPResponse(status: 500) })
    }

    @Test("a signed TRANSACTION.SUCCESS notification verifies, decrypts and becomes paymentSucceeded, answered 204")
    func transactionSuccess() throws {
        let body = try WeChatFixture.notificationBody(plaintext: WeChatFixture.transactionPlaintext())
        let callback = try provider.verifyCallback(rawBody: body, headers: ProviderHeaders(try WeChatFixture.signatureHeaders(body: body)),
                                                   now: fixedNow)
        #expect(callback.providerEventId == "EV-2018022511223320873")
        #expect(callback.kind == .paymentSucceeded)
        #expect(callback.merchantOrderNumber == "CV20261122000001")
        #expect(callback.providerTransactionId == "4200000000202611220000000001")
        #expect(callback.amount == 12345)
        #expect(callback.currency == "CNY")
        #expect(callback.appOrMerchantId == WeChatFixture.mchid)
        #expect(callback.occurredAt == Date(timeIntervalSince1970: 1_795_339_780))
        #expect(callback.acknowledgement == CallbackAcknowledgement(status: 204))
    }

    @Test("header names are matched case-insensitively")
    func lowerCaseHeaders() throws {
        let body = try WeChatFixture.notificationBody(plaintext: WeChatFixture.transactionPlaintext())
        let headers = try WeChatFixture.signatureHeaders(body: body).map { (name: $0.name.lowercased(), value: $0.value) }
        #expect(try provider.verifyCallback(rawBody: body, headers: ProviderHeaders(headers), now: fixedNow).kind == .paymentSucceeded)
    }

    @Test("a wrong signature, a body changed after signing, an unknown serial or missing headers are signature_invalid")
    func badSignatures() throws {
        let body = try WeChatFixture.notificationBody(plaintext: WeChatFixture.transactionPlaintext())
        let cases: [(body: [UInt8], headers: [(name: String, value: String)])] = [
            (body, try WeChatFixture.signatureHeaders(body: body, key: TestKeys.wechatOtherPlatform)),
            (body + [UInt8(ascii: " ")], try WeChatFixture.signatureHeaders(body: body)),
            (body, try WeChatFixture.signatureHeaders(body: body, serial: "UNKNOWN-SERIAL")),
            (body, Array(try WeChatFixture.signatureHeaders(body: body).dropLast())),
            (body, try WeChatFixture.signatureHeaders(body: body).map {
                $0.name == "Wechatpay-Signature" ? ($0.name, "WECHATPAY/SIGNTEST/" + $0.value) : $0
            }),
        ]
        for (body, headers) in cases {
            let error = #expect(throws: PaymentProviderError.self) {
                _ = try provider.verifyCallback(rawBody: body, headers: ProviderHeaders(headers), now: fixedNow)
            }
            #expect(error?.code == "payment.signature_invalid")
        }
    }

    @Test("a timestamp 300 s or more away is callback_stale; 299 s is accepted")
    func staleTimestamp() throws {
        let body = try WeChatFixture.notificationBody(plaintext: WeChatFixture.transactionPlaintext())
        for offset in [300.0, -300, 3600] {
            let headers = try WeChatFixture.signatureHeaders(body: body, at: fixedNow.addingTimeInterval(offset))
            #expect(throws: PaymentProviderError.callbackStale) {
                _ = try provider.verifyCallback(rawBody: body, headers: ProviderHeaders(headers), now: fixedNow)
            }
        }
        let headers = try WeChatFixture.signatureHeaders(body: body, at: fixedNow.addingTimeInterval(-299))
        #expect(try provider.verifyCallback(rawBody: body, headers: ProviderHeaders(headers), now: fixedNow).kind == .paymentSucceeded)
    }

    @Test("a ciphertext modified (and signed again) does not decrypt: callback_malformed")
    func modifiedCiphertext() throws {
        let body = try WeChatFixture.notificationBody(plaintext: WeChatFixture.transactionPlaintext(), tamper: true)
        #expect(throws: PaymentProviderError.callbackMalformed("the resource does not decrypt with the APIv3 key")) {
            _ = try provider.verifyCallback(rawBody: body, headers: ProviderHeaders(try WeChatFixture.signatureHeaders(body: body)),
                                            now: fixedNow)
        }
    }

    @Test("a notification for another mchid or appid is callback_misaddressed")
    func anotherMerchant() throws {
        for plaintext in [WeChatFixture.transactionPlaintext(mchid: "1900000999"), WeChatFixture.transactionPlaintext(appid: "wx0000")] {
            let body = try WeChatFixture.notificationBody(plaintext: plaintext)
            let headers = ProviderHeaders(try WeChatFixture.signatureHeaders(body: body))
            let error = #expect(throws: PaymentProviderError.self) {
                _ = try provider.verifyCallback(rawBody: body, headers: headers, now: fixedNow)
            }
            #expect(error?.code == "payment.callback_misaddressed")
        }
    }

    @Test("REFUND.SUCCESS becomes refundSucceeded with our refund number and the refunded fen")
    func refundSuccess() throws {
        let plaintext = """
            {"mchid":"1900000001","out_trade_no":"CV1","transaction_id":"4200000000202611220000000001",\
            "out_refund_no":"RF1","refund_id":"50000000382019052709732678859","refund_status":"SUCCESS",\
            "success_time":"2026-11-22T17:29:40+08:00","user_received_account":"招商银行信用卡0403",\
            "amount":{"total":12345,"refund":100,"payer_total":12345,"payer_refund":100}}
            """
        let body = try WeChatFixture.notificationBody(eventType: "REFUND.SUCCESS", plaintext: plaintext, originalType: "refund")
        let callback = try provider.verifyCallback(rawBody: body, headers: ProviderHeaders(try WeChatFixture.signatureHeaders(body: body)),
                                                   now: fixedNow)
        #expect(callback.kind == .refundSucceeded)
        #expect(callback.refundNumber == "RF1")
        #expect(callback.amount == 100)
        #expect(callback.merchantOrderNumber == "CV1")
    }

    @Test("an event type without a use is ignored, not decrypted")
    func ignoredEvent() throws {
        let body = try WeChatFixture.notificationBody(eventType: "TRANSACTION.SOMETHING_NEW", plaintext: "not json", tamper: true)
        let callback = try provider.verifyCallback(rawBody: body, headers: ProviderHeaders(try WeChatFixture.signatureHeaders(body: body)),
                                                   now: fixedNow)
        #expect(callback.kind == .ignored(type: "TRANSACTION.SOMETHING_NEW"))
        #expect(callback.acknowledgement.status == 204)
    }

    @Test("a failed callback is answered with a 4xx or 5xx and {\"code\":\"FAIL\"} naming only our error code")
    func failureAcknowledgement() throws {
        let ack = provider.failureAcknowledgement(for: .signatureInvalid("the signature does not verify"))
        #expect(ack.status == 401)
        #expect(ack.contentType == "application/json")
        #expect(jsonObject(ack.body)["code"] as? String == "FAIL")
        #expect(jsonObject(ack.body)["message"] as? String == "payment.signature_invalid")
        #expect(provider.failureAcknowledgement(for: .callbackMalformed("x")).status == 400)
        #expect(provider.failureAcknowledgement(for: .providerUnavailable("db")).status == 500)
    }
}
