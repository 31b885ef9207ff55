import Foundation
import HTTPClient
import Logging
import Persistence
import ServiceKit
import ServiceLifecycle
import Synchronization

/// The service assembled from its settings: adapters, handlers and timers. The executable and
/// the tests build it the same way.
struct PaymentParts: Sendable {
    let settings: PaymentSettings
    let providers: Providers

    init(settings: PaymentSettings, client: any HTTPExecuting) throws(PaymentProviderError) {
        self.settings = settings
        var all: [PaymentProviderKind: any PaymentProvider] = [:]
        if let w = settings.wechatPay {
            all[.wechatPay] = try WeChatPay(configuration: WeChatPayConfiguration(
                baseURL: w.url, mchid: w.mchid, appid: w.appid, merchantSerialNo: w.serialNo, merchantPrivateKeyPEM: w.privateKeyPEM,
                apiV3Key: w.apiV3Key, platformSerial: w.platformSerial, platformPublicKeyPEM: w.platformPublicKeyPEM,
                notifyURL: settings.notifyURL(.wechatPay)), client: client)
        }
        if let a = settings.alipay {
            all[.alipay] = try Alipay(configuration: AlipayConfiguration(
                gatewayURL: a.gatewayURL, appId: a.appId, appPrivateKey: a.privateKey, alipayPublicKey: a.alipayPublicKey,
                notifyURL: settings.notifyURL(.alipay)), client: client)
        }
        if let s = settings.stripe {
            all[.stripe] = try Stripe(configuration: StripeConfiguration(
                apiURL: s.url, secretKey: s.secretKey, webhookSecret: s.webhookSecret, successURL: settings.stripeSuccessURL,
                cancelURL: settings.stripeCancelURL), client: client)
        }
        providers = Providers(all: all)
    }

    private static let built = Mutex<PaymentParts?>(nil)

    /// From the environment, once per process (one HTTP client for every adapter); exits with a
    /// plain message for the operator when something is wrong.
    static func build(_ context: ServiceContext) -> PaymentParts {
        built.withLock { parts in
            if let parts { return parts }
            let made = make(context)
            parts = made
            return made
        }
    }

    private static func make(_ context: ServiceContext) -> PaymentParts {
        do {
            let settings = try PaymentSettings(context.configuration.environment)
            let parts = try PaymentParts(settings: settings, client: CurlHTTPClient())
            context.logger.info("payment settings", metadata: ["settings": "\(settings)"])
            return parts
        } catch {
            ServiceMain.fail("payment: \(error)")
        }
    }

    var ledger: Ledger { Ledger(publicURL: settings.publicURL) }

    /// `sidePool`: connections for the short transactions a handler runs besides its own.
    func handlers(service: String, sidePool: PGPool) -> [any MessageHandler] {
        [
            CreateOrderHandler(service: service), CancelOrderHandler(service: service), GetOrderHandler(service: service),
            StartCheckoutHandler(service: service, settings: settings, providers: providers, sidePool: sidePool),
            ProviderCallbackHandler(service: service, providers: providers, clock: { Date() }, ledger: ledger),
            RefundHandler(service: service), ConfirmBankTransferHandler(service: service, ledger: ledger),
            ImportBankStatementHandler(service: service, ledger: ledger), WaiveOrderHandler(service: service),
            ListRefundsHandler(service: service), SettleManualRefundHandler(service: service, ledger: ledger),
            ListPaidOrdersHandler(service: service), GetReceiptHandler(service: service),
        ]
    }

    func timers(service: String, pool: PGPool, logger: Logger) -> PaymentTimers {
        PaymentTimers(pool: pool, settings: settings, providers: providers, logger: logger, source: service)
    }

    static func sidePool(for pool: PGPool, logger: Logger) -> PGPool {
        var configuration = pool.configuration
        configuration.size = max(2, configuration.size / 2)
        configuration.applicationName += "-side"
        return PGPool(configuration, logger: logger)
    }
}
