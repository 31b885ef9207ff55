import Foundation
import HTTPClient
import _CryptoExtras

/// What the Alipay adapter needs. Keys are secrets: never log this value.
struct AlipayConfiguration: Sendable {
    /// `https://openapi.alipay.com/gateway.do`, or a contract server in tests.
    var gatewayURL: String
    var appId: String
    /// The app's RSA private key: PEM, or the bare base64 Alipay's key tool prints.
    var appPrivateKey: String
    /// Alipay's RSA public key (from the open platform console): PEM or bare base64.
    var alipayPublicKey: String
    /// Where Alipay posts its asynchronous notifications.
    var notifyURL: String
    /// Where the page-pay flow sends the participant back (not proof of payment).
    var returnURL: String?
    var timeout: Duration

    init(gatewayURL: String = "https://openapi.alipay.com/gateway.do", appId: String, appPrivateKey: String,
         alipayPublicKey: String, notifyURL: String, returnURL: String? = nil, timeout: Duration = .seconds(15)) {
        self.gatewayURL = gatewayURL
        self.appId = appId
        self.appPrivateKey = appPrivateKey
        self.alipayPublicKey = alipayPublicKey
        self.notifyURL = notifyURL
        self.returnURL = returnURL
        self.timeout = timeout
    }
}

/// Alipay open platform: a precreated QR code (`alipay.trade.precreate`) plus a signed
/// `alipay.trade.page.pay` URL for desktop browsers; query, close, refund; async notifications.
struct Alipay: PaymentProvider {
    let kind = PaymentProviderKind.alipay

    private let gatewayURL: String
    private let appId: String
    private let notifyURL: String
    private let returnURL: String?
    private let timeout: Duration
    private let appKey: _RSA.Signing.PrivateKey
    private let alipayKey: _RSA.Signing.PublicKey
    private let client: any HTTPExecuting
    private let clock: @Sendable () -> Date

    init(configuration: AlipayConfiguration, client: any HTTPExecuting,
         clock: @escaping @Sendable () -> Date = { Date() }) throws(PaymentProviderError) {
        guard let url = URLComponents(string: configuration.gatewayURL), let scheme = url.scheme,
              ["http", "https"].contains(scheme), url.host != nil else {
            throw .misconfigured("the Alipay gateway URL must be an http(s) URL")
        }
        gatewayURL = configuration.gatewayURL
        appId = configuration.appId
        notifyURL = configuration.notifyURL
        returnURL = configuration.returnURL
        timeout = configuration.timeout
        appKey = try RSAKeys.privateKey(configuration.appPrivateKey, name: "the Alipay app private key")
        alipayKey = try RSAKeys.publicKey(configuration.alipayPublicKey, name: "the Alipay public key")
        self.client = client
        self.clock = clock
    }

    // MARK: Calls

    func createCheckout(_ order: CheckoutRequest) async throws(PaymentProviderError) -> ProviderCheckout {
        let total = try Self.yuan(order.amount, currency: order.currency)
        let subject = String(order.description.prefix(256))
        var biz = ["out_trade_no": order.merchantOrderNumber, "total_amount": total, "subject": subject]
        if let expiresAt = order.expiresAt { biz["time_expire"] = ChinaTime.alipayString(expiresAt) }
        let answer: PrecreateAnswer = try await call("alipay.trade.precreate", biz: biz, notify: true)
        guard answer.outTradeNo == order.merchantOrderNumber, let qrCode = answer.qrCode, !qrCode.isEmpty else {
            throw .providerResponseInvalid("the answer has no qr_code for our order")
        }
        let pagePay = try pagePayURL(order)
        return ProviderCheckout(provider: kind, merchantOrderNumber: order.merchantOrderNumber, providerReference: nil,
                                qrCode: qrCode, redirectURL: pagePay, expiresAt: order.expiresAt)
    }

    /// The signed `alipay.trade.page.pay` URL the participant's browser is sent to (a GET on the gateway).
    func pagePayURL(_ order: CheckoutRequest) throws(PaymentProviderError) -> String {
        var biz = ["out_trade_no": order.merchantOrderNumber, "total_amount": try Self.yuan(order.amount, currency: order.currency),
                   "subject": String(order.description.prefix(256)), "product_code": "FAST_INSTANT_TRADE_PAY"]
        if let expiresAt = order.expiresAt { biz["time_expire"] = ChinaTime.alipayString(expiresAt) }
        return try signedURL(method: "alipay.trade.page.pay", biz: biz)
    }

    func query(_ payment: ProviderPaymentReference) async throws(PaymentProviderError) -> ProviderPaymentState {
        let answer: QueryAnswer
        do throws(PaymentProviderError) {
            answer = try await call("alipay.trade.query", biz: ["out_trade_no": payment.merchantOrderNumber])
        } catch .providerRejected(let code, _) where code == "ACQ.TRADE_NOT_EXIST" {
            return .unknown(state: code)
        }
        guard answer.outTradeNo == payment.merchantOrderNumber else {
            throw .providerResponseInvalid("the answer is about another order")
        }
        switch answer.tradeStatus {
        case "TRADE_SUCCESS", "TRADE_FINISHED":
            guard let tradeNo = answer.tradeNo, let text = answer.totalAmount, let amount = DecimalAmount.parse(text) else {
                throw .providerResponseInvalid("a paid trade without trade_no or a readable total_amount")
            }
            return .paid(amount: amount, currency: "CNY", providerTransactionId: tradeNo,
                         paidAt: answer.sendPayDate.flatMap(ChinaTime.parseAlipay))
        case "WAIT_BUYER_PAY":
            return .pending
        case "TRADE_CLOSED":
            return .closed
        default:
            return .unknown(state: answer.tradeStatus ?? "")
        }
    }

    /// Alipay knows a precreated trade only once its QR code was scanned: closing one nobody
    /// scanned throws `providerRejected(code: "ACQ.TRADE_NOT_EXIST")` (`time_expire` still ends it).
    func close(_ payment: ProviderPaymentReference) async throws(PaymentProviderError) {
        let _: CommonAnswer = try await call("alipay.trade.close", biz: ["out_trade_no": payment.merchantOrderNumber])
    }

    /// `fund_change = Y` is a refund done; `N` (also the answer to a repeated `out_request_no`)
    /// is reported as pending: Alipay's notification or a later query settles it.
    func refund(_ request: ProviderRefundRequest) async throws(PaymentProviderError) -> ProviderRefundState {
        guard request.amount > 0, request.amount <= request.total else {
            throw .invalidRequest("the refund must be positive and at most the amount paid")
        }
        var biz = ["out_trade_no": request.merchantOrderNumber, "out_request_no": request.refundNumber,
                   "refund_amount": try Self.yuan(request.amount, currency: request.currency)]
        if let reason = request.reason, !reason.isEmpty { biz["refund_reason"] = String(reason.prefix(256)) }
        let answer: RefundAnswer = try await call("alipay.trade.refund", biz: biz)
        guard answer.outTradeNo == nil || answer.outTradeNo == request.merchantOrderNumber else {
            throw .providerResponseInvalid("the answer is about another order")
        }
        return answer.fundChange == "Y" ? .succeeded(providerRefundId: nil) : .pending(providerRefundId: nil)
    }

    // MARK: Notifications

    func verifyCallback(rawBody: [UInt8], headers: ProviderHeaders, now: Date) throws(PaymentProviderError) -> VerifiedCallback {
        guard let parameters = FormCoding.decode(rawBody) else { throw .signatureInvalid("the body is not a UTF-8 form") }
        guard Set(parameters.map(\.key)).count == parameters.count else {
            throw .signatureInvalid("a parameter appears twice")
        }
        if let type = parameters.first(where: { $0.key == "sign_type" })?.value, type != "RSA2" {
            throw .signatureInvalid("only RSA2 signatures are accepted")
        }
        guard AlipaySignature.verifyNotification(parameters, with: alipayKey) else {
            throw .signatureInvalid("the signature is missing or does not verify")
        }
        let value = { (name: String) -> String? in
            parameters.first { $0.key == name }.flatMap { $0.value.isEmpty ? nil : $0.value }
        }
        guard value("app_id") == appId else { throw .callbackMisaddressed("the notification is for another app") }
        guard let notifyId = value("notify_id"), let outTradeNo = value("out_trade_no") else {
            throw .callbackMalformed("notify_id and out_trade_no are required")
        }
        let status = value("trade_status") ?? ""
        var callback = VerifiedCallback(
            provider: kind, providerEventId: notifyId, kind: .ignored(type: status), merchantOrderNumber: outTradeNo,
            providerTransactionId: value("trade_no"), currency: "CNY", appOrMerchantId: appId,
            occurredAt: value("notify_time").flatMap(ChinaTime.parseAlipay),
            acknowledgement: CallbackAcknowledgement(status: 200, contentType: "text/plain; charset=utf-8",
                                                     body: Array("success".utf8)))
        let amount = { (name: String) throws(PaymentProviderError) -> Int? in
            guard let text = value(name) else { return nil }
            guard let minor = DecimalAmount.parse(text) else { throw .callbackMalformed("\(name) is not an amount") }
            return minor
        }
        if let refunded = try amount("refund_fee"), refunded > 0 || value("gmt_refund") != nil {
            // Refunds are notified as a change of the trade (still TRADE_SUCCESS, or TRADE_CLOSED
            // once fully refunded) carrying the total refunded so far.
            callback.kind = .refundSucceeded
            callback.refundedTotal = refunded
            callback.refundNumber = value("out_biz_no")
            callback.occurredAt = value("gmt_refund").flatMap(ChinaTime.parseAlipay) ?? callback.occurredAt
            return callback
        }
        switch status {
        case "TRADE_SUCCESS", "TRADE_FINISHED":
            guard let paid = try amount("total_amount"), callback.providerTransactionId != nil else {
                throw .callbackMalformed("a paid trade without trade_no or total_amount")
            }
            callback.kind = .paymentSucceeded
            callback.amount = paid
            callback.occurredAt = value("gmt_payment").flatMap(ChinaTime.parseAlipay) ?? callback.occurredAt
        case "TRADE_CLOSED":
            callback.kind = .paymentClosed
            callback.occurredAt = value("gmt_close").flatMap(ChinaTime.parseAlipay) ?? callback.occurredAt
        default:
            break
        }
        return callback
    }

    /// Anything but `success` makes Alipay send the notification again.
    func failureAcknowledgement(for error: PaymentProviderError) -> CallbackAcknowledgement {
        let status = switch error {
        case .signatureInvalid, .callbackStale, .callbackMisaddressed: 401
        case .callbackMalformed: 400
        default: 500
        }
        return CallbackAcknowledgement(status: status, contentType: "text/plain; charset=utf-8", body: Array("fail".utf8))
    }

    // MARK: Requests

    /// The common parameters of a call, `biz_content` and `sign`, in signing order.
    func signedParameters(method: String, biz: [String: String], notify: Bool,
                          returnTo: Bool = false) throws(PaymentProviderError) -> [(key: String, value: String)] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let bizContent = try? encoder.encode(biz) else { throw .invalidRequest("biz_content cannot be encoded") }
        var parameters: [(key: String, value: String)] = [
            ("app_id", appId), ("method", method), ("format", "JSON"), ("charset", "utf-8"), ("sign_type", "RSA2"),
            ("timestamp", ChinaTime.alipayString(clock())), ("version", "1.0"),
        ]
        if notify { parameters.append(("notify_url", notifyURL)) }
        if returnTo, let returnURL { parameters.append(("return_url", returnURL)) }
        parameters.append(("biz_content", String(decoding: bizContent, as: UTF8.self)))
        parameters.append(("sign", try AlipaySignature.sign(parameters, with: appKey)))
        return parameters
    }

    private func signedURL(method: String, biz: [String: String]) throws(PaymentProviderError) -> String {
        let parameters = try signedParameters(method: method, biz: biz, notify: true, returnTo: true)
        return gatewayURL + (gatewayURL.contains("?") ? "&" : "?") + FormCoding.encode(parameters)
    }

    /// Sends one call and returns the verified `<method>_response` object, decoded. Code 10000
    /// is success; 20000 and `ACQ.SYSTEM_ERROR` are `providerUnavailable`; any other code is
    /// `providerRejected` with `sub_code` / `sub_msg`.
    private func call<Answer: Decodable>(_ method: String, biz: [String: String],
                                         notify: Bool = false) async throws(PaymentProviderError) -> Answer {
        let parameters = try signedParameters(method: method, biz: biz, notify: notify)
        let request = HTTPRequest(method: .post, url: gatewayURL,
                                  headers: [("Content-Type", "application/x-www-form-urlencoded;charset=utf-8"),
                                            ("Accept", "application/json")],
                                  body: Array(FormCoding.encode(parameters).utf8))
        let response: HTTPResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch {
            throw PaymentProviderError.transport(error)
        }
        guard response.isSuccess else {
            if response.status >= 500 || response.status == 408 || response.status == 429 {
                throw .providerUnavailable("Alipay answered HTTP \(response.status)")
            }
            throw .providerResponseInvalid("Alipay answered HTTP \(response.status)")
        }
        let content = try verifiedContent(of: response.body, method: method)
        let common: CommonAnswer
        do {
            common = try JSONDecoder().decode(CommonAnswer.self, from: Data(content.bytes))
        } catch {
            throw .providerResponseInvalid("the answer has no code")
        }
        guard common.code == "10000" else {
            if common.code == "20000" || common.subCode == "ACQ.SYSTEM_ERROR" {
                throw .providerUnavailable("Alipay: \(common.subCode ?? common.code)")
            }
            throw .providerRejected(code: common.subCode ?? common.code, message: common.subMsg ?? common.msg ?? "")
        }
        guard content.signed else { throw .providerResponseInvalid("an unsigned success") }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(content.bytes))
        } catch {
            throw .providerResponseInvalid("the answer is not the expected JSON")
        }
    }

    /// The `<method>_response` (or `error_response`) object exactly as it appears in the body,
    /// and whether its `sign` verified. A present `sign` that does not verify throws; an absent
    /// one is allowed for errors only (Alipay leaves some of them unsigned).
    func verifiedContent(of body: [UInt8], method: String) throws(PaymentProviderError) -> (bytes: ArraySlice<UInt8>, signed: Bool) {
        guard let members = RawJSONObject.members(body) else { throw .providerResponseInvalid("the answer is not a JSON object") }
        let key = method.replacingOccurrences(of: ".", with: "_") + "_response"
        guard let content = members[key] ?? members["error_response"], content.first == UInt8(ascii: "{") else {
            throw .providerResponseInvalid("the answer has no \(key)")
        }
        guard let rawSign = members["sign"] else { return (content, false) }
        guard let sign = try? JSONDecoder().decode(String.self, from: Data(rawSign)),
              RSAKeys.isValid(signature: sign, for: Array(content), with: alipayKey) else {
            throw .providerResponseInvalid("the answer's signature does not verify")
        }
        return (content, true)
    }

    /// Minor units of CNY as Alipay's yuan with 2 decimals.
    static func yuan(_ minorUnits: Int, currency: String) throws(PaymentProviderError) -> String {
        guard currency.uppercased() == "CNY" else { throw .invalidRequest("Alipay takes CNY only") }
        guard minorUnits > 0, let text = DecimalAmount.format(minorUnits: minorUnits) else {
            throw .invalidRequest("the amount must be positive")
        }
        return text
    }
}

// MARK: - Wire types

extension Alipay {
    struct CommonAnswer: Decodable {
        var code: String
        var msg: String?
        var subCode: String?
        var subMsg: String?

        enum CodingKeys: String, CodingKey {
            case code, msg
            case subCode = "sub_code"
            case subMsg = "sub_msg"
        }
    }

    struct PrecreateAnswer: Decodable {
        var outTradeNo: String
        var qrCode: String?

        enum CodingKeys: String, CodingKey {
            case outTradeNo = "out_trade_no"
            case qrCode = "qr_code"
        }
    }

    struct QueryAnswer: Decodable {
        var outTradeNo: String
        var tradeNo: String?
        var tradeStatus: String?
        var totalAmount: String?
        var sendPayDate: String?

        enum CodingKeys: String, CodingKey {
            case outTradeNo = "out_trade_no"
            case tradeNo = "trade_no"
            case tradeStatus = "trade_status"
            case totalAmount = "total_amount"
            case sendPayDate = "send_pay_date"
        }
    }

    struct RefundAnswer: Decodable {
        var outTradeNo: String?
        var fundChange: String?

        enum CodingKeys: String, CodingKey {
            case outTradeNo = "out_trade_no"
            case fundChange = "fund_change"
        }
    }
}

extension AlipayConfiguration: RedactedDescription {
    var visibleFields: KeyValuePairs<String, String> { ["gatewayURL": gatewayURL, "appId": appId] }
}

extension Alipay: RedactedDescription {
    var visibleFields: KeyValuePairs<String, String> { ["gatewayURL": gatewayURL, "appId": appId] }
}
