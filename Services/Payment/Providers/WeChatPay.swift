import Foundation
import HTTPClient
import _CryptoExtras

/// What the WeChat Pay adapter needs. Keys are secrets: never log this value.
struct WeChatPayConfiguration: Sendable {
    /// `https://api.mch.weixin.qq.com`, or a contract server in tests.
    var baseURL: String
    var mchid: String
    var appid: String
    /// Serial number of the merchant API certificate (`serial_no` in `Authorization`).
    var merchantSerialNo: String
    /// The merchant API private key (`apiclient_key.pem`).
    var merchantPrivateKeyPEM: String
    /// The APIv3 key: 32 characters, used as AES-256 key bytes.
    var apiV3Key: String
    /// Serial of the platform certificate (or WeChat Pay public key id) and its public key.
    var platformSerial: String
    var platformPublicKeyPEM: String
    /// Further platform keys (serial → PEM), accepted while WeChat Pay rotates its certificates.
    var additionalPlatformKeys: [String: String]
    /// Where WeChat Pay sends payment and refund notifications.
    var notifyURL: String
    /// Total time allowed for one call.
    var timeout: Duration
    /// Signed timestamps this many seconds or more from now are refused.
    var clockTolerance: TimeInterval

    init(baseURL: String = "https://api.mch.weixin.qq.com", mchid: String, appid: String, merchantSerialNo: String,
         merchantPrivateKeyPEM: String, apiV3Key: String, platformSerial: String, platformPublicKeyPEM: String,
         additionalPlatformKeys: [String: String] = [:], notifyURL: String, timeout: Duration = .seconds(15),
         clockTolerance: TimeInterval = 300) {
        self.baseURL = baseURL
        self.mchid = mchid
        self.appid = appid
        self.merchantSerialNo = merchantSerialNo
        self.merchantPrivateKeyPEM = merchantPrivateKeyPEM
        self.apiV3Key = apiV3Key
        self.platformSerial = platformSerial
        self.platformPublicKeyPEM = platformPublicKeyPEM
        self.additionalPlatformKeys = additionalPlatformKeys
        self.notifyURL = notifyURL
        self.timeout = timeout
        self.clockTolerance = clockTolerance
    }
}

/// WeChat Pay API v3, Native (QR code) payments.
struct WeChatPay: PaymentProvider {
    let kind = PaymentProviderKind.wechatPay

    private let baseURL: String
    /// The path part of `baseURL` (signed with the request path), without a trailing slash.
    private let basePath: String
    private let mchid: String
    private let appid: String
    private let notifyURL: String
    private let timeout: Duration
    private let apiV3Key: [UInt8]
    private let signer: WeChatPaySigner
    private let verifier: WeChatPayVerifier
    private let client: any HTTPExecuting
    private let clock: @Sendable () -> Date

    init(configuration: WeChatPayConfiguration, client: any HTTPExecuting,
         clock: @escaping @Sendable () -> Date = { Date() }) throws(PaymentProviderError) {
        let base = configuration.baseURL.hasSuffix("/") ? String(configuration.baseURL.dropLast()) : configuration.baseURL
        guard let components = URLComponents(string: base), let scheme = components.scheme, ["http", "https"].contains(scheme),
              components.host != nil, components.query == nil else {
            throw .misconfigured("the WeChat Pay base URL must be an http(s) URL without a query")
        }
        baseURL = base
        basePath = components.percentEncodedPath
        mchid = configuration.mchid
        appid = configuration.appid
        notifyURL = configuration.notifyURL
        timeout = configuration.timeout
        apiV3Key = Array(configuration.apiV3Key.utf8)
        guard apiV3Key.count == 32 else { throw .misconfigured("the WeChat Pay APIv3 key must be 32 bytes") }
        signer = WeChatPaySigner(mchid: configuration.mchid, serialNo: configuration.merchantSerialNo,
                                 key: try RSAKeys.privateKey(configuration.merchantPrivateKeyPEM, name: "the WeChat Pay merchant key"))
        var keys = [configuration.platformSerial: try RSAKeys.publicKey(configuration.platformPublicKeyPEM,
                                                                         name: "the WeChat Pay platform key")]
        for (serial, pem) in configuration.additionalPlatformKeys {
            keys[serial] = try RSAKeys.publicKey(pem, name: "the WeChat Pay platform key \(serial)")
        }
        verifier = WeChatPayVerifier(keys: keys, tolerance: configuration.clockTolerance)
        self.client = client
        self.clock = clock
    }

    // MARK: Calls

    func createCheckout(_ order: CheckoutRequest) async throws(PaymentProviderError) -> ProviderCheckout {
        try Self.checkCNY(order.currency)
        guard order.amount > 0 else { throw .invalidRequest("the amount must be positive") }
        let body = NativeOrder(
            appid: appid, mchid: mchid, description: String(order.description.prefix(127)),
            outTradeNo: order.merchantOrderNumber, timeExpire: order.expiresAt.map(ChinaTime.rfc3339String),
            notifyURL: notifyURL, amount: .init(total: order.amount, currency: "CNY"))
        let answer = try await call(.post, "/v3/pay/transactions/native", body: try Self.encode(body))
        let created: NativeOrderCreated = try Self.decodeAnswer(answer)
        guard !created.codeURL.isEmpty else { throw .providerResponseInvalid("the answer has no code_url") }
        return ProviderCheckout(provider: kind, merchantOrderNumber: order.merchantOrderNumber, providerReference: nil,
                                qrCode: created.codeURL, redirectURL: nil, expiresAt: order.expiresAt)
    }

    func query(_ payment: ProviderPaymentReference) async throws(PaymentProviderError) -> ProviderPaymentState {
        let path = "/v3/pay/transactions/out-trade-no/\(FormCoding.percentEncode(payment.merchantOrderNumber))"
            + "?mchid=\(FormCoding.percentEncode(mchid))"
        let answer = try await call(.get, path, body: nil, notFoundIsAnswer: true)
        if answer.status == 404 { return .unknown(state: Self.errorCode(answer.body) ?? "ORDER_NOT_EXIST") }
        let transaction: TransactionBody = try Self.decodeAnswer(answer)
        guard transaction.mchid == mchid, transaction.appid == appid,
              transaction.outTradeNo == payment.merchantOrderNumber else {
            throw .providerResponseInvalid("the answer is about another merchant, app or order")
        }
        switch transaction.tradeState {
        case "SUCCESS", "REFUND":
            guard let transactionId = transaction.transactionId, let amount = transaction.amount?.total else {
                throw .providerResponseInvalid("a paid transaction without transaction_id or amount")
            }
            return .paid(amount: amount, currency: transaction.amount?.currency ?? "CNY", providerTransactionId: transactionId,
                         paidAt: transaction.successTime.flatMap(ChinaTime.parseRFC3339))
        case "NOTPAY", "USERPAYING":
            return .pending
        case "CLOSED", "REVOKED":
            return .closed
        default:
            return .unknown(state: transaction.tradeState)
        }
    }

    func close(_ payment: ProviderPaymentReference) async throws(PaymentProviderError) {
        let path = "/v3/pay/transactions/out-trade-no/\(FormCoding.percentEncode(payment.merchantOrderNumber))/close"
        _ = try await call(.post, path, body: try Self.encode(["mchid": mchid]))
    }

    func refund(_ request: ProviderRefundRequest) async throws(PaymentProviderError) -> ProviderRefundState {
        try Self.checkCNY(request.currency)
        guard request.amount > 0, request.amount <= request.total else {
            throw .invalidRequest("the refund must be positive and at most the amount paid")
        }
        let body = RefundBody(outTradeNo: request.merchantOrderNumber, outRefundNo: request.refundNumber,
                              reason: request.reason.map { String($0.prefix(80)) }, notifyURL: notifyURL,
                              amount: .init(refund: request.amount, total: request.total, currency: "CNY"))
        let answer = try await call(.post, "/v3/refund/domestic/refunds", body: try Self.encode(body))
        let refund: RefundAnswer = try Self.decodeAnswer(answer)
        guard refund.outRefundNo == request.refundNumber else {
            throw .providerResponseInvalid("the answer is about another refund")
        }
        switch refund.status {
        case "SUCCESS": return .succeeded(providerRefundId: refund.refundId)
        case "PROCESSING": return .pending(providerRefundId: refund.refundId)
        case "CLOSED": return .failed(providerRefundId: refund.refundId, reason: "CLOSED")
        case "ABNORMAL": return .failed(providerRefundId: refund.refundId, reason: "ABNORMAL")
        default: throw .providerResponseInvalid("unknown refund status")
        }
    }

    // MARK: Notifications

    func verifyCallback(rawBody: [UInt8], headers: ProviderHeaders, now: Date) throws(PaymentProviderError) -> VerifiedCallback {
        try verifier.verify(body: rawBody, headers: headers, now: now)
        let notification: NotificationBody
        do {
            notification = try JSONDecoder().decode(NotificationBody.self, from: Data(rawBody))
        } catch {
            throw .callbackMalformed("the body is not a WeChat Pay notification")
        }
        var callback = VerifiedCallback(
            provider: kind, providerEventId: notification.id, kind: .ignored(type: notification.eventType),
            appOrMerchantId: nil, occurredAt: notification.createTime.flatMap(ChinaTime.parseRFC3339),
            acknowledgement: CallbackAcknowledgement(status: 204))
        switch notification.eventType {
        case "TRANSACTION.SUCCESS":
            let transaction: TransactionBody = try decryptResource(notification.resource)
            guard transaction.mchid == mchid, transaction.appid == appid else {
                throw .callbackMisaddressed("the notification is for another merchant or app")
            }
            guard transaction.tradeState == "SUCCESS", let transactionId = transaction.transactionId,
                  let amount = transaction.amount?.total else {
                throw .callbackMalformed("a TRANSACTION.SUCCESS resource without a successful transaction")
            }
            callback.kind = .paymentSucceeded
            callback.merchantOrderNumber = transaction.outTradeNo
            callback.providerTransactionId = transactionId
            callback.amount = amount
            callback.currency = transaction.amount?.currency ?? "CNY"
            callback.appOrMerchantId = transaction.mchid
            callback.occurredAt = transaction.successTime.flatMap(ChinaTime.parseRFC3339) ?? callback.occurredAt
        case "REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED":
            let refund: RefundNotification = try decryptResource(notification.resource)
            guard refund.mchid == mchid else { throw .callbackMisaddressed("the notification is for another merchant") }
            callback.kind = notification.eventType == "REFUND.SUCCESS" ? .refundSucceeded : .refundFailed
            callback.merchantOrderNumber = refund.outTradeNo
            callback.providerTransactionId = refund.transactionId
            callback.refundNumber = refund.outRefundNo
            callback.amount = refund.amount?.refund
            callback.currency = "CNY"
            callback.appOrMerchantId = refund.mchid
            callback.occurredAt = refund.successTime.flatMap(ChinaTime.parseRFC3339) ?? callback.occurredAt
        default:
            break
        }
        return callback
    }

    /// 401 for a signature, address or timestamp WeChat Pay should not have sent, 400 for a body
    /// it should not have sent, 500 otherwise; always `{"code":"FAIL","message":"<our code>"}`.
    func failureAcknowledgement(for error: PaymentProviderError) -> CallbackAcknowledgement {
        let status = switch error {
        case .signatureInvalid, .callbackStale, .callbackMisaddressed: 401
        case .callbackMalformed: 400
        default: 500
        }
        let body = (try? JSONEncoder().encode(["code": "FAIL", "message": error.code])).map(Array.init) ?? []
        return CallbackAcknowledgement(status: status, contentType: "application/json", body: body)
    }

    private func decryptResource<T: Decodable>(_ resource: WeChatPayResource?) throws(PaymentProviderError) -> T {
        guard let resource else { throw .callbackMalformed("the notification has no resource") }
        let plain = try resource.decrypt(apiV3Key: apiV3Key)
        do {
            return try JSONDecoder().decode(T.self, from: Data(plain))
        } catch {
            // Nothing of the plaintext goes into the error: it carries the payer's details.
            throw .callbackMalformed("the decrypted resource is not what the event type says")
        }
    }

    // MARK: HTTP

    private struct Answer {
        var status: Int
        var body: [UInt8]
    }

    /// Signs and sends one call; verifies the signature of any answer with a body. 5xx, 408 and
    /// 429 are `providerUnavailable`; other non-2xx answers are `providerRejected` with WeChat
    /// Pay's `code` and `message` (a 404 is returned instead when `notFoundIsAnswer`).
    private func call(_ method: HTTPMethod, _ pathAndQuery: String, body: [UInt8]?,
                      notFoundIsAnswer: Bool = false) async throws(PaymentProviderError) -> Answer {
        let bytes = body ?? []
        let authorization = try signer.authorization(method: method.rawValue, pathAndQuery: basePath + pathAndQuery, body: bytes,
                                                     timestamp: Int64(clock().timeIntervalSince1970), nonce: Nonce.make())
        var request = HTTPRequest(method: method, url: baseURL + pathAndQuery,
                                  headers: [("Accept", "application/json"), ("Authorization", authorization)], body: bytes)
        if body != nil { request.addHeader("Content-Type", "application/json") }
        let response: HTTPResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch {
            throw PaymentProviderError.transport(error)
        }
        if response.status >= 500 || response.status == 408 || response.status == 429 {
            throw .providerUnavailable("WeChat Pay answered HTTP \(response.status)")
        }
        if !response.body.isEmpty {
            do throws(PaymentProviderError) {
                try verifier.verify(body: response.body, headers: ProviderHeaders(response.headers), now: clock())
            } catch {
                throw .providerResponseInvalid("the answer's signature does not verify (\(error.code))")
            }
        }
        if response.isSuccess || (notFoundIsAnswer && response.status == 404) {
            return Answer(status: response.status, body: response.body)
        }
        let failure = try? JSONDecoder().decode(ErrorAnswer.self, from: Data(response.body))
        throw .providerRejected(code: failure?.code ?? "HTTP_\(response.status)", message: failure?.message ?? "")
    }

    private static func decodeAnswer<T: Decodable>(_ answer: Answer) throws(PaymentProviderError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(answer.body))
        } catch {
            throw .providerResponseInvalid("the answer is not the expected JSON")
        }
    }

    private static func errorCode(_ body: [UInt8]) -> String? {
        (try? JSONDecoder().decode(ErrorAnswer.self, from: Data(body)))?.code
    }

    private static func encode(_ value: some Encodable) throws(PaymentProviderError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(value)) } catch { throw .invalidRequest("the request cannot be encoded") }
    }

    private static func checkCNY(_ currency: String) throws(PaymentProviderError) {
        guard currency.uppercased() == "CNY" else { throw .invalidRequest("WeChat Pay Native takes CNY only") }
    }
}

// MARK: - Wire types

extension WeChatPay {
    struct Amount: Codable, Sendable {
        var total: Int
        var currency: String
    }

    struct NativeOrder: Encodable {
        var appid: String
        var mchid: String
        var description: String
        var outTradeNo: String
        var timeExpire: String?
        var notifyURL: String
        var amount: Amount

        enum CodingKeys: String, CodingKey {
            case appid, mchid, description, amount
            case outTradeNo = "out_trade_no"
            case timeExpire = "time_expire"
            case notifyURL = "notify_url"
        }
    }

    struct NativeOrderCreated: Decodable {
        var codeURL: String
        enum CodingKeys: String, CodingKey { case codeURL = "code_url" }
    }

    /// A transaction as queried or notified. `payer` is deliberately not decoded.
    struct TransactionBody: Decodable {
        struct PaidAmount: Decodable {
            var total: Int?
            var currency: String?
        }

        var appid: String?
        var mchid: String?
        var outTradeNo: String
        var transactionId: String?
        var tradeState: String
        var successTime: String?
        var amount: PaidAmount?

        enum CodingKeys: String, CodingKey {
            case appid, mchid, amount
            case outTradeNo = "out_trade_no"
            case transactionId = "transaction_id"
            case tradeState = "trade_state"
            case successTime = "success_time"
        }
    }

    struct RefundBody: Encodable {
        struct RefundAmount: Encodable {
            var refund: Int
            var total: Int
            var currency: String
        }

        var outTradeNo: String
        var outRefundNo: String
        var reason: String?
        var notifyURL: String
        var amount: RefundAmount

        enum CodingKeys: String, CodingKey {
            case reason, amount
            case outTradeNo = "out_trade_no"
            case outRefundNo = "out_refund_no"
            case notifyURL = "notify_url"
        }
    }

    struct RefundAnswer: Decodable {
        var refundId: String?
        var outRefundNo: String
        var status: String

        enum CodingKeys: String, CodingKey {
            case status
            case refundId = "refund_id"
            case outRefundNo = "out_refund_no"
        }
    }

    struct RefundNotification: Decodable {
        struct RefundAmount: Decodable {
            var refund: Int?
            var total: Int?
        }

        var mchid: String
        var outTradeNo: String
        var transactionId: String?
        var outRefundNo: String
        var refundId: String?
        var refundStatus: String?
        var successTime: String?
        var amount: RefundAmount?

        enum CodingKeys: String, CodingKey {
            case mchid, amount
            case outTradeNo = "out_trade_no"
            case transactionId = "transaction_id"
            case outRefundNo = "out_refund_no"
            case refundId = "refund_id"
            case refundStatus = "refund_status"
            case successTime = "success_time"
        }
    }

    struct NotificationBody: Codable {
        var id: String
        var createTime: String?
        var eventType: String
        var resourceType: String?
        var resource: WeChatPayResource?
        var summary: String?

        enum CodingKeys: String, CodingKey {
            case id, resource, summary
            case createTime = "create_time"
            case eventType = "event_type"
            case resourceType = "resource_type"
        }
    }

    struct ErrorAnswer: Decodable {
        var code: String
        var message: String?
    }
}

extension WeChatPayConfiguration: RedactedDescription {
    var visibleFields: KeyValuePairs<String, String> {
        ["baseURL": baseURL, "mchid": mchid, "appid": appid, "merchantSerialNo": merchantSerialNo, "platformSerial": platformSerial]
    }
}

extension WeChatPay: RedactedDescription {
    var visibleFields: KeyValuePairs<String, String> { ["baseURL": baseURL, "mchid": mchid, "appid": appid] }
}
