import Contracts
import Foundation
import HTTPClient
import Messaging
@testable import Payment
import Persistence
import ServiceKit
import Synchronization
import Testing
import TestSupport

/// The payment service's handlers and timers wired like the real service (`PaymentParts`), on a
/// queue and schema of their own, against the test stack's broker and database and the contract
/// server's WeChat Pay, Alipay and Stripe, with a merchant, app and account of their own.
final class PaymentHarness: Sendable {
    let name = TestStack.uniqueName()
    let organizationId = "org-" + UUID().uuidString.prefix(8).lowercased()
    let pool: PGPool
    let sidePool: PGPool
    let publisher: Publisher
    let consumer: MessageConsumer
    let relay: OutboxRelay
    let timers: PaymentTimers
    let rpc: RPCClient
    let parts: PaymentParts
    let contracts: PaymentContracts
    let accounts: PaymentContracts.Accounts
    let runTimers: Bool
    let tasks: Mutex<[Task<Void, any Error>]> = Mutex([])

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    /// `timers: false` leaves the timers to `tick()` (or to nobody: a provider close never happens).
    init(settings extra: [String: String] = [:], timers runTimers: Bool = true) async throws {
        contracts = try PaymentContracts()
        accounts = try await contracts.register()
        var environment = accounts.environment(base: contracts.base)
        environment.merge(["PAYMENT_PUBLIC_URL": PaymentContracts.unreachable, "PAYMENT_TIMER_INTERVAL": "100ms",
                           "PAYMENT_RETRY_DELAYS": "200ms", "RECONCILE_AFTER": "10m",
                           "BANK_ACCOUNT_NAME": "Convene Society", "BANK_NAME": "Bank of Tests",
                           "BANK_ACCOUNT_NUMBER": "6222 0000 1111 2222"]) { _, new in new }
        environment.merge(extra) { _, new in new }
        parts = try PaymentParts(settings: try PaymentSettings(environment), client: CurlHTTPClient())
        pool = try await TestStack.migratedSchema(try Migration.load(from: Self.root + "/Services/Payment/Migrations"))
        sidePool = PaymentParts.sidePool(for: pool, logger: TestStack.logger)
        let handlers = parts.handlers(service: name, sidePool: sidePool)
        let retryDelays: [Duration] = [.milliseconds(200), .milliseconds(400)]
        let topology = Topology.service(name, events: [], retryDelays: retryDelays, deliveryLimit: 5)
        publisher = Publisher(.init(amqp: try TestStack.amqp(name: "\(name)-pub"), topology: topology), logger: TestStack.logger)
        let wired = Dispatcher(service: name, pool: pool, publisher: publisher, handlers: handlers, logger: TestStack.logger)
        consumer = MessageConsumer(
            .init(service: name, amqp: try TestStack.amqp(name: name), topology: topology, retryDelays: retryDelays),
            publisher: publisher, logger: TestStack.logger, process: wired.process, processBatch: wired.process(batch:))
        relay = OutboxRelay(pool: pool, publisher: publisher, configuration: .init(pollInterval: .milliseconds(100)),
                            logger: TestStack.logger)
        timers = parts.timers(service: name, pool: pool, logger: TestStack.logger)
        rpc = RPCClient(amqp: try TestStack.amqp(name: "\(name)-rpc"), publisher: publisher, source: "test", logger: TestStack.logger)
        self.runTimers = runTimers
    }

    func start() async throws {
        let (consumer, relay, timers, rpc) = (self.consumer, self.relay, self.timers, self.rpc)
        tasks.withLock {
            $0 += [Task { try await consumer.run() }, Task { try await relay.run() }, Task { try await rpc.run() }]
            if runTimers {
                $0.append(Task { while !Task.isCancelled { try? await timers.tick(); try await Task.sleep(for: .milliseconds(100)) } })
            }
        }
        guard await consumer.waitUntilConsuming(), await rpc.waitUntilReady() else {
            throw ConveneError.unavailable("consumer did not start")
        }
    }

    func stop() async {
        consumer.stop()
        for task in tasks.withLock({ $0 }) { task.cancel(); _ = await task.result }
        await publisher.shutdown(grace: .seconds(1))
        await pool.close()
        await sidePool.close()
    }

    // MARK: Talking to the service

    /// Sends a command as registration does (through the broker, to this harness's queue).
    func command<P: MessagePayload>(_ payload: P, id: UUID = UUID()) async throws {
        let envelope = Envelope(id: id, type: name + P.messageType.drop { $0 != "." }, source: "registration",
                                organizationId: organizationId, data: payload)
        try await publisher.publish(try OutgoingMessage.envelope(envelope, exchange: Exchange.commands))
    }

    /// Asks as the gateway does.
    func ask<Request: MessagePayload, Response: Codable & Sendable>(_ request: Request, as: Response.Type,
                                                                    organizationId: String? = nil) async throws -> Reply<Response> {
        let type = name + Request.messageType.drop { $0 != "." }
        return try await rpc.request(type, request, as: Response.self, timeout: .seconds(20),
                                     organizationId: organizationId ?? self.organizationId)
    }

    /// Creates an order for a new registration and waits for `payment.order_created`.
    func createOrder(amountMinor: Int64 = 12_800, currency: String = "CNY", expiresIn: TimeInterval = 3600,
                     methods: [String] = ["wechat_pay", "alipay", "stripe", "bank_transfer"],
                     accountId: String = "acct-" + UUID().uuidString.prefix(8).lowercased()) async throws -> (registrationId: String, order: OrderRecord) {
        let registrationId = "reg-" + UUID().uuidString.prefix(8).lowercased()
        try await command(CreateOrder(
            registrationId: registrationId, conferenceId: "conf-1",
            payer: Payer(accountId: accountId, email: "\(accountId)@example.com", name: "Li <Lei>", locale: "zh-CN"),
            amount: try Money(amountMinor: amountMinor, currency: currency), description: "ICSE 2026 registration",
            expiresAt: Date().addingTimeInterval(expiresIn), methods: methods,
            invoice: InvoiceDetails(title: "Tsinghua University", taxId: "12100000400000624D")))
        var found: OrderRecord?
        _ = try await eventually(timeout: .seconds(15)) {
            found = try await order(registrationId: registrationId)
            return found != nil
        }
        guard let found else { throw ConveneError(code: "test.no_order", message: "no order for \(registrationId)") }
        return (registrationId, found)
    }

    func checkout(_ registrationId: String, accountId: String, method: String) async throws -> CheckoutView {
        try await ask(StartCheckout(registrationId: registrationId, accountId: accountId, method: method), as: CheckoutView.self).get()
    }

    /// Feeds a provider's request to `payment.provider_callback`, as the gateway does.
    func callback(_ provider: String, _ request: PaymentContracts.CapturedRequest) async throws -> CallbackAnswer {
        try await ask(ProviderCallback(provider: provider, headers: request.headers.map { [$0.key, $0.value] },
                                       body: Data(request.body.utf8).base64EncodedString()), as: CallbackAnswer.self).get()
    }

    // MARK: Looking at its database

    struct OrderRecord: Sendable {
        var orderNumber: String
        var status: String
        var method: String?
        var receiptNumber: String?
        var bankReference: String
        var accountId: String
    }

    func order(registrationId: String) async throws -> OrderRecord? {
        try await pool.withConnection {
            try await $0.query("""
                SELECT order_number, status, method, receipt_number, bank_reference, payer_account_id FROM orders
                WHERE registration_id = $1 ORDER BY created_at DESC LIMIT 1
                """, [.text(registrationId)])
        }.first.map {
            OrderRecord(orderNumber: try $0.string("order_number"), status: try $0.string("status"), method: $0["method"],
                        receiptNumber: $0["receipt_number"], bankReference: try $0.string("bank_reference"),
                        accountId: try $0.string("payer_account_id"))
        }
    }

    /// The events of a type this harness's service wrote (its outbox), oldest first, as JSON objects.
    func events(_ type: String) async throws -> [[String: Any]] {
        try await pool.withConnection {
            try await $0.query("SELECT convert_from(body, 'UTF8') AS body FROM outbox WHERE message_type = $1 ORDER BY id",
                               [.text(type)])
        }.rows.map { row in
            let envelope = (try JSONSerialization.jsonObject(with: Data(try row.string("body").utf8))) as? [String: Any] ?? [:]
            return envelope["data"] as? [String: Any] ?? [:]
        }
    }

    func events(_ type: String, registrationId: String) async throws -> [[String: Any]] {
        try await events(type).filter { $0["registrationId"] as? String == registrationId }
    }

    func stripePaymentIntent(_ registrationId: String) async throws -> String? {
        try await pool.withConnection {
            try await $0.query("SELECT provider_transaction_id FROM orders WHERE registration_id = $1", [.text(registrationId)])
        }.first?["provider_transaction_id"]
    }

    func refundStatus(_ refundNumber: String) async throws -> String? {
        try await pool.withConnection {
            try await $0.query("SELECT status FROM refunds WHERE refund_number = $1", [.text(refundNumber)])
        }.first?["status"]
    }

    func count(_ sql: String, _ parameters: [String] = []) async throws -> Int {
        try await pool.withConnection { try await $0.query(sql, parameters.map { .text($0) }) }.first!.int("n")
    }
}
