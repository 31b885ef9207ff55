import Foundation
import ServiceKit

/// The payment service's own settings (docs/configuration.md). A provider is enabled when its
/// settings are present, refused when only some of them are. Keys are secrets: this value's
/// description names which providers are enabled, nothing else.
struct PaymentSettings: Sendable, CustomStringConvertible {
    struct WeChatPay: Sendable {
        var url: String
        var mchid: String
        var appid: String
        var serialNo: String
        var privateKeyPEM: String
        var apiV3Key: String
        var platformSerial: String
        var platformPublicKeyPEM: String
    }

    struct Alipay: Sendable {
        var gatewayURL: String
        var appId: String
        var privateKey: String
        var alipayPublicKey: String
    }

    struct Stripe: Sendable {
        var url: String
        var secretKey: String
        var webhookSecret: String
    }

    struct BankAccount: Sendable {
        var accountName: String
        var bankName: String
        var accountNumber: String
    }

    var wechatPay: WeChatPay?
    var alipay: Alipay?
    var stripe: Stripe?
    var bank: BankAccount?
    /// The gateway's public base URL: notify URLs and Stripe's return URLs hang off it.
    var publicURL: String
    /// Pending orders with a checkout at a provider older than this are asked about.
    var reconcileAfter: Duration
    var timerInterval: Duration
    /// Back-off of refund and close calls that failed transiently (the last repeats).
    var retryDelays: [Duration]

    func notifyURL(_ provider: PaymentProviderKind) -> String {
        publicURL + "/v1/payments/callbacks/" + provider.rawValue
    }

    var stripeSuccessURL: String { publicURL + "/v1/payments/return?outcome=success&session_id={CHECKOUT_SESSION_ID}" }
    var stripeCancelURL: String { publicURL + "/v1/payments/return?outcome=cancel" }

    var description: String {
        let enabled = [wechatPay.map { _ in "wechat_pay" }, alipay.map { _ in "alipay" }, stripe.map { _ in "stripe" },
                       bank.map { _ in "bank_transfer" }].compactMap { $0 }
        return "PaymentSettings(enabled: \(enabled), publicURL: \(publicURL), keys: redacted)"
    }

    init(_ environment: [String: String]) throws {
        var env = EnvironmentReader(environment)
        func value(_ key: String) -> String? {
            environment[key].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        }
        /// `KEY`, or the contents of the file `KEY_FILE` names.
        func secret(_ key: String) -> String? {
            if let text = value(key) { return text }
            guard let path = value(key + "_FILE") else { return nil }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                env.check(false, "\(key)_FILE: cannot read \(path)")
                return nil
            }
            return text
        }
        /// All of `keys` or none: a provider half configured is refused.
        func group(_ name: String, _ keys: [String], secrets: Set<String> = []) -> [String: String]? {
            var found: [String: String] = [:]
            for key in keys { if let v = secrets.contains(key) ? secret(key) : value(key) { found[key] = v } }
            if found.isEmpty { return nil }
            let missing = keys.filter { found[$0] == nil }
            guard missing.isEmpty else {
                env.check(false, "\(name) is half configured: set \(missing.joined(separator: ", ")) too, or none of its settings")
                return nil
            }
            return found
        }
        func isHTTPURL(_ text: String) -> Bool {
            guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased() else { return false }
            return ["http", "https"].contains(scheme) && url.host?.isEmpty == false
        }

        // A base URL alone (the local stacks export them) enables nothing: it has the provider's
        // production address as its default; the credentials decide.
        let wechatURL = value("WECHATPAY_URL") ?? "https://api.mch.weixin.qq.com"
        let alipayURL = value("ALIPAY_GATEWAY_URL") ?? "https://openapi.alipay.com/gateway.do"
        let stripeURL = value("STRIPE_URL") ?? "https://api.stripe.com"
        if var w = group("WeChat Pay", ["WECHATPAY_MCHID", "WECHATPAY_APPID", "WECHATPAY_SERIAL_NO",
                                         "WECHATPAY_PRIVATE_KEY", "WECHATPAY_APIV3_KEY", "WECHATPAY_PLATFORM_SERIAL",
                                         "WECHATPAY_PLATFORM_PUBLIC_KEY"],
                         secrets: ["WECHATPAY_PRIVATE_KEY", "WECHATPAY_PLATFORM_PUBLIC_KEY"]) {
            w["WECHATPAY_URL"] = wechatURL
            env.check(isHTTPURL(w["WECHATPAY_URL"]!), "WECHATPAY_URL must be an http(s) URL")
            env.check(w["WECHATPAY_APIV3_KEY"]!.utf8.count == 32, "WECHATPAY_APIV3_KEY must be 32 bytes")
            wechatPay = WeChatPay(url: w["WECHATPAY_URL"]!, mchid: w["WECHATPAY_MCHID"]!, appid: w["WECHATPAY_APPID"]!,
                                  serialNo: w["WECHATPAY_SERIAL_NO"]!, privateKeyPEM: w["WECHATPAY_PRIVATE_KEY"]!,
                                  apiV3Key: w["WECHATPAY_APIV3_KEY"]!, platformSerial: w["WECHATPAY_PLATFORM_SERIAL"]!,
                                  platformPublicKeyPEM: w["WECHATPAY_PLATFORM_PUBLIC_KEY"]!)
        }
        if var a = group("Alipay", ["ALIPAY_APP_ID", "ALIPAY_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY"],
                         secrets: ["ALIPAY_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY"]) {
            a["ALIPAY_GATEWAY_URL"] = alipayURL
            env.check(isHTTPURL(a["ALIPAY_GATEWAY_URL"]!), "ALIPAY_GATEWAY_URL must be an http(s) URL")
            alipay = Alipay(gatewayURL: a["ALIPAY_GATEWAY_URL"]!, appId: a["ALIPAY_APP_ID"]!,
                            privateKey: a["ALIPAY_PRIVATE_KEY"]!, alipayPublicKey: a["ALIPAY_PUBLIC_KEY"]!)
        }
        if var s = group("Stripe", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]) {
            s["STRIPE_URL"] = stripeURL
            env.check(isHTTPURL(s["STRIPE_URL"]!), "STRIPE_URL must be an http(s) URL")
            env.check(s["STRIPE_SECRET_KEY"]!.hasPrefix("sk_") || s["STRIPE_SECRET_KEY"]!.hasPrefix("rk_"),
                      "STRIPE_SECRET_KEY must be a secret (sk_…) or restricted (rk_…) key")
            env.check(s["STRIPE_WEBHOOK_SECRET"]!.hasPrefix("whsec_"), "STRIPE_WEBHOOK_SECRET must start with whsec_")
            stripe = Stripe(url: s["STRIPE_URL"]!, secretKey: s["STRIPE_SECRET_KEY"]!, webhookSecret: s["STRIPE_WEBHOOK_SECRET"]!)
        }
        if let b = group("Bank transfer", ["BANK_ACCOUNT_NAME", "BANK_NAME", "BANK_ACCOUNT_NUMBER"]) {
            bank = BankAccount(accountName: b["BANK_ACCOUNT_NAME"]!, bankName: b["BANK_NAME"]!,
                               accountNumber: b["BANK_ACCOUNT_NUMBER"]!)
        }
        var base = value("PAYMENT_PUBLIC_URL") ?? ""
        while base.hasSuffix("/") { base.removeLast() }
        publicURL = base
        if wechatPay != nil || alipay != nil || stripe != nil {
            env.check(isHTTPURL(base), "PAYMENT_PUBLIC_URL (the gateway's public base URL, for provider callbacks) is required "
                      + "with WeChat Pay, Alipay or Stripe and must be an http(s) URL")
        }
        reconcileAfter = env.duration("RECONCILE_AFTER", default: .seconds(600))
        timerInterval = env.duration("PAYMENT_TIMER_INTERVAL", default: .seconds(1))
        retryDelays = env.durations("PAYMENT_RETRY_DELAYS", default: [.seconds(10), .seconds(60), .seconds(300), .seconds(1800)])
        try env.validate()
    }

    /// The methods this instance can take.
    var configuredMethods: Set<String> {
        var methods: Set<String> = []
        if wechatPay != nil { methods.insert(PaymentMethod.wechatPay.rawValue) }
        if alipay != nil { methods.insert(PaymentMethod.alipay.rawValue) }
        if stripe != nil { methods.insert(PaymentMethod.stripe.rawValue) }
        if bank != nil { methods.insert(PaymentMethod.bankTransfer.rawValue) }
        return methods
    }

    func retryDelay(afterAttempt attempt: Int) -> Duration {
        retryDelays[min(max(attempt - 1, 0), retryDelays.count - 1)]
    }
}
