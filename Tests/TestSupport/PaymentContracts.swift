import Foundation
import HTTPClient
import _CryptoExtras

/// The contract server's payment side (compose/local/contracts): what a merchant does in the
/// providers' consoles, the providers' triggers (a payer paying, a refund settling), and what the
/// providers received and sent.
public struct PaymentContracts: Sendable {
    /// Notify URLs point here: nobody listens, so the providers' deliveries fail and are kept,
    /// with their exact headers and body, for the test to hand to the service as the gateway would.
    public static let unreachable = "http://127.0.0.1:9"
    public let base: String
    public let http = CurlHTTPClient()

    public init() throws {
        base = try TestStack.environment("CONTRACTS_URL")
    }

    public struct Accounts: Sendable {
        public var mchid: String
        public var wechatAppId: String
        public var serialNo: String
        public var apiV3Key: String
        public var platformSerial: String
        public var platformPublicKeyPEM: String
        public var alipayAppId: String
        public var alipayPublicKeyPEM: String
        public var stripeSecretKey: String
        public var stripeWebhookSecret: String

        public func environment(base: String) -> [String: String] {
            ["WECHATPAY_URL": base, "WECHATPAY_MCHID": mchid, "WECHATPAY_APPID": wechatAppId, "WECHATPAY_SERIAL_NO": serialNo,
             "WECHATPAY_PRIVATE_KEY": PaymentTestKeys.wechatMerchant.pemRepresentation, "WECHATPAY_APIV3_KEY": apiV3Key,
             "WECHATPAY_PLATFORM_SERIAL": platformSerial, "WECHATPAY_PLATFORM_PUBLIC_KEY": platformPublicKeyPEM,
             "ALIPAY_GATEWAY_URL": base + "/gateway.do", "ALIPAY_APP_ID": alipayAppId,
             "ALIPAY_PRIVATE_KEY": PaymentTestKeys.alipayApp.pemRepresentation, "ALIPAY_PUBLIC_KEY": alipayPublicKeyPEM,
             "STRIPE_URL": base + "/stripe", "STRIPE_SECRET_KEY": stripeSecretKey, "STRIPE_WEBHOOK_SECRET": stripeWebhookSecret]
        }
    }

    public static func random(_ count: Int) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        return String((0..<count).map { _ in alphabet.randomElement()! })
    }

    /// A WeChat Pay merchant, an Alipay app and a Stripe account of this test's own. Stripe sends
    /// its events to `stripeWebhookURL` (by default nowhere: the tests hand them over themselves).
    public func register(stripeWebhookURL: String = Self.unreachable + "/v1/payments/callbacks/stripe") async throws -> Accounts {
        let modules = try await get("/_admin/health")["modules"] as? [String] ?? []
        guard modules.contains("wechatpay"), modules.contains("alipay"), modules.contains("stripe_api") else {
            throw PaymentContractsError(description: "the contract server at \(base) serves \(modules), not the payment providers: "
                                        + "it was started from older code; restart it (compose/local/stack.sh) or point CONTRACTS_URL at one that does")
        }
        let mchid = "M" + Self.random(10)
        let wechatAppId = "wx" + Self.random(12)
        let serialNo = "SN" + Self.random(16)
        let apiV3Key = Self.random(32)
        let wechat = try await post("/_admin/wechatpay/merchants", [
            "mchid": mchid, "appid": wechatAppId, "serialNo": serialNo,
            "publicKeyPem": PaymentTestKeys.wechatMerchant.publicKey.pemRepresentation, "apiV3Key": apiV3Key,
        ])
        let alipayAppId = "2021" + Self.random(12)
        let alipay = try await post("/_admin/alipay/apps", ["appId": alipayAppId,
                                                             "appPublicKeyPem": PaymentTestKeys.alipayApp.publicKey.pemRepresentation])
        let secretKey = "sk_test_" + Self.random(24)
        let webhookSecret = "whsec_" + Self.random(24)
        try await post("/_admin/stripe/accounts", ["secretKey": secretKey, "webhookSecret": webhookSecret,
                                                   "webhookUrl": stripeWebhookURL])
        return Accounts(mchid: mchid, wechatAppId: wechatAppId, serialNo: serialNo, apiV3Key: apiV3Key,
                        platformSerial: wechat["platformSerial"] as? String ?? "",
                        platformPublicKeyPEM: wechat["platformPublicKeyPem"] as? String ?? "",
                        alipayAppId: alipayAppId, alipayPublicKeyPEM: alipay["alipayPublicKeyPem"] as? String ?? "",
                        stripeSecretKey: secretKey, stripeWebhookSecret: webhookSecret)
    }

    /// The accounts every payment process of this test run uses. Processes started by different
    /// suites consume the same `payment` queue, so any of them may serve any request: they must
    /// all hold the same merchant keys.
    public static func shared() async throws -> (contracts: PaymentContracts, accounts: Accounts) {
        try await SharedAccounts.instance.value()
    }

    /// A provider's HTTP request as it left the provider.
    public struct CapturedRequest: Sendable {
        public var headers: [String: String]
        public var body: String
    }

    /// Runs a trigger without notifying (`notify: false`): the state changes, the notification
    /// is held. Returns the notification's id.
    public func trigger(_ path: String) async throws -> String {
        let answer = try await post(path, ["notify": false])
        guard let event = answer["event"] as? [String: Any], let id = event["id"] as? String else {
            throw PaymentContractsError(description: "\(path): no event in \(answer)")
        }
        return id
    }

    /// Sends a held notification (to the unreachable notify URL, `tamper` applied) and returns
    /// the request it made, exactly.
    public func deliver(_ provider: String, notification id: String, tamper: String? = nil) async throws -> CapturedRequest {
        var body: [String: Any] = [:]
        if let tamper { body["tamper"] = tamper }
        try await post("/_admin/\(provider)/notifications/\(id)/resend", body)
        let all = try await get("/_admin/\(provider)/notifications")["notifications"] as? [[String: Any]] ?? []
        guard let notification = all.last(where: { $0["id"] as? String == id }),
              let delivery = (notification["deliveries"] as? [[String: Any]])?.last,
              let request = delivery["request"] as? [String: Any] else {
            throw PaymentContractsError(description: "no delivery of \(id)")
        }
        return CapturedRequest(headers: request["headers"] as? [String: String] ?? [:], body: request["body"] as? String ?? "")
    }

    /// The API requests a provider received.
    public func requests(_ provider: String) async throws -> [[String: Any]] {
        try await get("/_admin/\(provider)/requests")["requests"] as? [[String: Any]] ?? []
    }

    public func notifications(_ provider: String) async throws -> [[String: Any]] {
        try await get("/_admin/\(provider)/notifications")["notifications"] as? [[String: Any]] ?? []
    }

    @discardableResult
    public func post(_ path: String, _ body: [String: Any]) async throws -> [String: Any] {
        let response = try await http.execute(HTTPRequest(
            method: .post, url: base + path, headers: [("Content-Type", "application/json")],
            body: Array(try JSONSerialization.data(withJSONObject: body))))
        guard (200..<300).contains(response.status) else {
            throw PaymentContractsError(description: "\(path): HTTP \(response.status) \(response.bodyString)")
        }
        return (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    public func get(_ path: String) async throws -> [String: Any] {
        let response = try await http.execute(HTTPRequest(url: base + path))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }
}

public struct PaymentContractsError: Error, CustomStringConvertible {
    public let description: String
}

private actor SharedAccounts {
    static let instance = SharedAccounts()
    /// A task, not its result: concurrent first callers (suites start in parallel) must all wait
    /// for the one registration rather than each start their own across the actor's suspension.
    private var registration: Task<(PaymentContracts, PaymentContracts.Accounts), any Error>?

    func value() async throws -> (contracts: PaymentContracts, accounts: PaymentContracts.Accounts) {
        if registration == nil {
            registration = Task {
                let contracts = try PaymentContracts()
                return (contracts, try await contracts.register())
            }
        }
        return try await registration!.value
    }
}

/// The merchant's keys registered with the contract server: generated once per test process.
public enum PaymentTestKeys {
    public static let wechatMerchant = generate()
    public static let alipayApp = generate()

    static func generate() -> _RSA.Signing.PrivateKey {
        // A failure here is a broken test environment, not a test result.
        try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    }
}
