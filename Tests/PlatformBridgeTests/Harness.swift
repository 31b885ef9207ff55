import Contracts
import Foundation
import HTTPClient
import Messaging
@testable import PlatformBridge
import Persistence
import Secrets
import ServiceKit
import Synchronization
import Testing
import TestSupport

/// platform-bridge's handlers and provisioning worker wired like the real service
/// (`PlatformBridgeParts`), on a queue and schema of their own, against the test stack's broker,
/// database and the contract server's Zoom, Tencent Meeting and DingTalk, with an account, app
/// and app key there of its own.
final class BridgeHarness: Sendable {
    let name = TestStack.uniqueName()
    let organizationId = "org-" + UUID().uuidString.prefix(8).lowercased()
    let pool: PGPool
    let publisher: Publisher
    let consumer: MessageConsumer
    let relay: OutboxRelay
    let worker: ProvisioningWorker
    let rpc: RPCClient
    let parts: PlatformBridgeParts
    let contracts: PaymentContracts
    let tasks: Mutex<[Task<Void, any Error>]> = Mutex([])

    // This harness's credentials at the contract server.
    let zoomAccount = "acc" + PaymentContracts.random(10)
    let zoomClient = "cli" + PaymentContracts.random(10)
    let zoomSecret = "sec" + PaymentContracts.random(20)
    let zoomWebhookSecret = "whs" + PaymentContracts.random(20)
    let tencentSecretId = "AKID" + PaymentContracts.random(12)
    let tencentSecretKey = "key" + PaymentContracts.random(20)
    let tencentAppId = "2000" + PaymentContracts.random(8)
    let tencentToken = "tok" + PaymentContracts.random(20)
    let dingtalkKey = "ding" + PaymentContracts.random(12)
    let dingtalkSecret = "dsec" + PaymentContracts.random(20)

    let secretKey = SecretBox.generateKey()

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    let runWorker: Bool

    /// `worker: false` leaves provisioning to `worker.round()` (or to nobody).
    init(settings extra: [String: String] = [:], worker runWorker: Bool = true) async throws {
        self.runWorker = runWorker
        contracts = try PaymentContracts()
        let modules = try await contracts.get("/_admin/health")["modules"] as? [String] ?? []
        guard modules.contains("zoom"), modules.contains("tencent_meeting"), modules.contains("dingtalk_open") else {
            throw ConveneError(code: "test.contracts_outdated", message: "the contract server serves \(modules): restart it from this code")
        }
        let base = contracts.base
        var environment = ["ZOOM_OAUTH_URL": base + "/zoom", "ZOOM_API_URL": base + "/zoom", "TENCENT_MEETING_URL": base + "/tencent",
                           "DINGTALK_API_URL": base + "/dingtalk", "DINGTALK_OAPI_URL": base + "/dingtalk", "PLATFORM_SECRET_KEY": secretKey,
                           "PLATFORM_RETRY_DELAYS": "100ms,200ms", "PLATFORM_POLL_INTERVAL": "50ms"]
        environment.merge(extra) { _, given in given }
        parts = PlatformBridgeParts(settings: try PlatformBridgeSettings(environment), client: CurlHTTPClient())
        pool = try await TestStack.migratedSchema(try Migration.load(from: Self.root + "/Services/PlatformBridge/Migrations"))
        let retryDelays: [Duration] = [.milliseconds(200), .milliseconds(400)]
        let topology = Topology.service(name, events: [], retryDelays: retryDelays, deliveryLimit: 5)
        publisher = Publisher(.init(amqp: try TestStack.amqp(name: "\(name)-pub"), topology: topology), logger: TestStack.logger)
        let wired = Dispatcher(service: name, pool: pool, publisher: publisher, handlers: parts.handlers(service: name),
                               logger: TestStack.logger)
        consumer = MessageConsumer(
            .init(service: name, amqp: try TestStack.amqp(name: name), topology: topology, retryDelays: retryDelays),
            publisher: publisher, logger: TestStack.logger, process: wired.process, processBatch: wired.process(batch:))
        relay = OutboxRelay(pool: pool, publisher: publisher, configuration: .init(pollInterval: .milliseconds(100)),
                            logger: TestStack.logger)
        worker = parts.worker(service: name, pool: pool, logger: TestStack.logger)
        rpc = RPCClient(amqp: try TestStack.amqp(name: "\(name)-rpc"), publisher: publisher, source: "test", logger: TestStack.logger)
    }

    func start() async throws {
        let (consumer, relay, worker, rpc) = (self.consumer, self.relay, self.worker, self.rpc)
        tasks.withLock {
            $0 += [Task { try await consumer.run() }, Task { try await relay.run() }, Task { try await rpc.run() }]
            if runWorker { $0.append(Task { try await worker.run() }) }
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
    }

    /// A started harness, stopped after `body` whatever happens.
    static func with(settings: [String: String] = [:], worker: Bool = true,
                     _ body: (BridgeHarness) async throws -> Void) async throws {
        let harness = try await BridgeHarness(settings: settings, worker: worker)
        try await harness.start()
        do {
            try await body(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    // MARK: The platforms' consoles (contract server) and the organization's settings (service)

    /// Registers this harness's apps at the contract server, and (unless left out) gives the
    /// service the organization's credentials through `platform-bridge.set_credentials`.
    func setUpPlatforms(configure: Set<String> = Set(MeetingPlatformName.all), tencentKey: String? = nil) async throws {
        try await contracts.post("/_admin/zoom/accounts", ["accountId": zoomAccount, "clientId": zoomClient,
                                                           "clientSecret": zoomSecret, "webhookSecret": zoomWebhookSecret])
        try await contracts.post("/_admin/tencent/apps", ["secretId": tencentSecretId, "secretKey": tencentSecretKey,
                                                          "appId": tencentAppId, "callbackToken": tencentToken])
        try await contracts.post("/_admin/dingtalk-open/apps", ["appKey": dingtalkKey, "appSecret": dingtalkSecret])
        if configure.contains("zoom") {
            _ = try await ask(SetPlatformCredentials(platform: "zoom", zoom: ZoomCredentials(
                accountId: zoomAccount, clientId: zoomClient, clientSecret: zoomSecret, webhookSecretToken: zoomWebhookSecret)),
                              as: PlatformCredentialStatus.self).get()
        }
        if configure.contains("tencent") {
            _ = try await ask(SetPlatformCredentials(platform: "tencent", tencent: TencentCredentials(
                secretId: tencentSecretId, secretKey: tencentKey ?? tencentSecretKey, appId: tencentAppId, creatorUserId: "host1",
                webhookToken: tencentToken)),
                              as: PlatformCredentialStatus.self).get()
        }
        if configure.contains("dingtalk") {
            _ = try await ask(SetPlatformCredentials(platform: "dingtalk", dingtalk: DingTalkCredentials(
                appKey: dingtalkKey, appSecret: dingtalkSecret, creatorUnionId: "union-host")),
                              as: PlatformCredentialStatus.self).get()
        }
    }

    func fail(_ platform: String, _ script: [String: Any]) async throws {
        switch platform {
        case "zoom": try await contracts.post("/_admin/zoom/accounts/\(zoomAccount)/failures", script)
        case "tencent": try await contracts.post("/_admin/tencent/apps/\(tencentSecretId)/failures", script)
        default: try await contracts.post("/_admin/dingtalk-open/apps/\(dingtalkKey)/failures", script)
        }
    }

    /// What the platforms hold for this harness: meetings (or conferences) and counters.
    func zoom() async throws -> [String: Any] { try await contracts.get("/_admin/zoom/accounts/\(zoomAccount)") }
    func tencent() async throws -> [String: Any] { try await contracts.get("/_admin/tencent/apps/\(tencentSecretId)") }
    func dingtalk() async throws -> [String: Any] { try await contracts.get("/_admin/dingtalk-open/apps/\(dingtalkKey)") }

    func platformMeetings(_ platform: String) async throws -> [[String: Any]] {
        switch platform {
        case "zoom": return try await zoom()["meetings"] as? [[String: Any]] ?? []
        case "tencent": return try await tencent()["meetings"] as? [[String: Any]] ?? []
        default: return try await dingtalk()["conferences"] as? [[String: Any]] ?? []
        }
    }

    // MARK: Talking to the service

    static func plan(platforms: [String], topic: String = "季度经营分析会", startsIn: TimeInterval = 86_400,
                     hostEmail: String = "host@example.com") -> MeetingPlan {
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + startsIn).rounded())
        return MeetingPlan(type: "internal", topic: topic, description: "Q4 review", startsAt: start, endsAt: start.addingTimeInterval(3600),
                           timeZone: "Asia/Shanghai", location: "3F 会议室", host: MeetingHost(
                               accountId: "acct-host", name: "王芳", email: hostEmail, locale: "zh-CN"),
                           platforms: platforms, recommendedPlatform: platforms.first)
    }

    /// Delivers an event to this harness's queue as scheduling's would arrive (the queue is not
    /// bound to the events exchange: other tests' events stay out).
    func deliver<P: MessagePayload>(_ payload: P, id: UUID = UUID()) async throws {
        let envelope = Envelope(id: id, type: P.messageType, source: "scheduling", organizationId: organizationId, data: payload)
        var message = try OutgoingMessage.envelope(envelope, exchange: Exchange.events)
        message.exchange = ""
        message.routingKey = name
        try await publisher.publish(message)
    }

    func ask<Request: MessagePayload, Response: Codable & Sendable>(_ request: Request, as: Response.Type,
                                                                    organizationId: String? = nil) async throws -> Reply<Response> {
        let type = name + Request.messageType.drop { $0 != "." }
        return try await rpc.request(type, request, as: Response.self, timeout: .seconds(20),
                                     organizationId: organizationId ?? self.organizationId)
    }

    // MARK: Its database

    /// Events of a type this service wrote (its outbox), oldest first: the envelopes' `data`.
    func events(_ type: String, meetingId: String? = nil) async throws -> [[String: Any]] {
        try await pool.withConnection {
            try await $0.query("SELECT convert_from(body, 'UTF8') AS body FROM outbox WHERE message_type = $1 ORDER BY id",
                               [.text(type)])
        }.rows.compactMap { row in
            let envelope = (try JSONSerialization.jsonObject(with: Data(try row.string("body").utf8))) as? [String: Any] ?? [:]
            let data = envelope["data"] as? [String: Any] ?? [:]
            if let meetingId, data["meetingId"] as? String != meetingId { return nil }
            return data
        }
    }

    /// Every outbox body, as text (to look for what must never be in a message).
    func outboxText() async throws -> String {
        try await pool.withConnection {
            try await $0.query("SELECT convert_from(body, 'UTF8') AS body FROM outbox")
        }.rows.map { try $0.string("body") }.joined(separator: "\n")
    }

    func provision(_ meetingId: String, _ platform: String) async throws -> [String: String?] {
        guard let row = try await pool.withConnection({
            try await $0.query("SELECT status, attempts::text AS attempts, last_error, start_url_sealed, join_url FROM provisions WHERE meeting_id = $1 AND platform = $2",
                               [.text(meetingId), .text(platform)])
        }).first else { return [:] }
        return ["status": row["status"], "attempts": row["attempts"], "last_error": row["last_error"],
                "start_url_sealed": row["start_url_sealed"], "join_url": row["join_url"]]
    }

    /// Waits until `count` events of a type about the meeting are in the outbox.
    func waitForEvents(_ type: String, meetingId: String, count: Int, timeout: Duration = .seconds(20)) async throws -> [[String: Any]] {
        var found: [[String: Any]] = []
        _ = try await eventually(timeout: timeout) {
            found = try await events(type, meetingId: meetingId)
            return found.count >= count
        }
        return found
    }
}
