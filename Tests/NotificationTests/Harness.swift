import Contracts
import Foundation
import HTTPClient
import Messaging
@testable import Notification
import Persistence
import Secrets
import ServiceKit
import Synchronization
import Testing
import TestSupport
import ThreadExecutor

/// The notification service's handlers, delivery workers and scheduler wired like the real service
/// (`NotificationParts`), on a queue and schema of their own, against the test stack's broker,
/// database, SMTP sink and contract servers.
final class NotificationHarness: Sendable {
    let name = TestStack.uniqueName()
    let organizationId = "org-" + UUID().uuidString.prefix(8).lowercased()
    let pool: PGPool
    let publisher: Publisher
    let consumer: MessageConsumer
    let relay: OutboxRelay
    let scheduler: DeliveryScheduler
    let worker: DeliveryWorker
    let rpc: RPCClient
    let parts: NotificationParts
    let tasks: Mutex<[Task<Void, any Error>]> = Mutex([])

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    /// Settings as the service reads them, pointed at the test stack.
    static func settings(smtpURL: String, retryDelays: [Duration], extra: [String: String] = [:]) throws -> NotificationSettings {
        var environment = ["SMTP_URL": smtpURL, "MAIL_FROM": "noreply@convene.test",
                           "NOTIFICATION_SECRET_KEY": SecretBox.generateKey(),
                           "SCHEDULER_INTERVAL": "100ms", "WEBHOOK_ALLOW_HTTP": "true",
                           "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"]
        for key in ["DINGTALK_ROBOT_URL", "WECOM_ROBOT_URL"] {
            if let value = ProcessInfo.processInfo.environment[key] { environment[key] = value }
        }
        environment.merge(extra) { _, given in given }
        return try NotificationSettings(environment, retryDelays: retryDelays)
    }

    /// `events`: bind the queue to other services' events (rules and webhooks). Off by default,
    /// since every harness that listens hears every test's events.
    init(smtpURL: String, retryDelays: [Duration] = [.milliseconds(200), .milliseconds(400)],
         settings extra: [String: String] = [:], events listening: Bool = false) async throws {
        pool = try await TestStack.migratedSchema(try Migration.load(from: Self.root + "/Services/Notification/Migrations"))
        let settings = try Self.settings(smtpURL: smtpURL, retryDelays: retryDelays, extra: extra)
        let templates = try TemplateLibrary(directory: Self.root + "/Services/Notification/Templates")
        parts = NotificationParts(settings: settings, templates: templates,
                                  rules: try RuleBook(file: Self.root + "/Services/Notification/Rules/rules.json", templates: templates))
        let handlers = parts.handlers(service: name, logger: TestStack.logger)
        let prefix = name + "."
        let events = listening ? handlers.map(\.messageType).filter { !$0.hasPrefix(prefix) } : []
        let topology = Topology.service(name, events: events, retryDelays: retryDelays, deliveryLimit: 5)
        publisher = Publisher(.init(amqp: try TestStack.amqp(name: "\(name)-pub"), topology: topology), logger: TestStack.logger)
        let wired = Dispatcher(service: name, pool: pool, publisher: publisher, handlers: handlers, logger: TestStack.logger)
        consumer = MessageConsumer(
            .init(service: name, amqp: try TestStack.amqp(name: name), topology: topology, retryDelays: retryDelays),
            publisher: publisher, logger: TestStack.logger, process: wired.process, processBatch: wired.process(batch:))
        relay = OutboxRelay(pool: pool, publisher: publisher, configuration: .init(pollInterval: .milliseconds(100)),
                            logger: TestStack.logger)
        scheduler = parts.scheduler(pool: pool, logger: TestStack.logger)
        worker = parts.worker(service: name, pool: pool, logger: TestStack.logger)
        rpc = RPCClient(amqp: try TestStack.amqp(name: "\(name)-rpc"), publisher: publisher, source: "test", logger: TestStack.logger)
    }

    func start() async throws {
        let (consumer, relay, scheduler, worker, rpc) = (self.consumer, self.relay, self.scheduler, self.worker, self.rpc)
        tasks.withLock {
            $0 += [Task { try await consumer.run() }, Task { try await relay.run() }, Task { try await rpc.run() },
                   Task { try await worker.run() },
                   Task { while !Task.isCancelled { try? await scheduler.tick(); try await Task.sleep(for: .milliseconds(100)) } }]
        }
        guard await consumer.waitUntilConsuming(), await rpc.waitUntilReady() else {
            throw ConveneError.unavailable("consumer did not start")
        }
    }

    func send(_ request: SendNotification, id: UUID = UUID()) async throws {
        let envelope = Envelope(id: id, type: "\(name).send", source: "test", organizationId: organizationId, data: request)
        try await publisher.publish(try OutgoingMessage.envelope(envelope, exchange: Exchange.commands))
    }

    /// Publishes a domain event as another service would.
    func publishEvent(_ type: String, data: JSONValue, id: UUID = UUID()) async throws {
        let envelope = Envelope(id: id, type: type, source: String(type.prefix { $0 != "." }), organizationId: organizationId, data: data)
        try await publisher.publish(try OutgoingMessage.envelope(envelope, exchange: Exchange.events))
    }

    /// Asks the service as the gateway does; `notification.x` goes to this harness's queue.
    func ask<Request: MessagePayload, Response: Codable & Sendable>(_ request: Request, as: Response.Type,
                                                                    organizationId: String? = nil) async throws -> Reply<Response> {
        let type = name + Request.messageType.drop { $0 != "." }
        return try await rpc.request(type, request, as: Response.self, timeout: .seconds(30),
                                     organizationId: organizationId ?? self.organizationId)
    }

    /// Only this harness's organization's deliveries: a listening harness also handles other
    /// tests' events.
    private static let own = "FROM deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.organization_id = $1"

    func statuses() async throws -> [String: String] {
        let rows = try await pool.withConnection {
            try await $0.query("SELECT d.recipient, d.status \(Self.own)", [.text(self.organizationId)])
        }.rows
        return Dictionary(try rows.map { (try $0.string("recipient"), try $0.string("status")) }, uniquingKeysWith: { a, b in a + "," + b })
    }

    func deliveries(channel: String) async throws -> [(recipient: String, status: String, error: String?, attempts: Int)] {
        try await pool.withConnection {
            try await $0.query("SELECT d.recipient, d.status, d.last_error, d.attempts \(Self.own) AND d.channel = $2 ORDER BY d.created_at",
                               [.text(self.organizationId), .text(channel)])
        }.rows.map { (try $0.string("recipient"), try $0.string("status"), $0["last_error"], try $0.int("attempts")) }
    }

    /// The mails sent for this harness's deliveries: their Message-ID holds the delivery id.
    func mails(in maildir: String) async throws -> [String] {
        let ids = Set(try await pool.withConnection { try await $0.query("SELECT d.id \(Self.own)", [.text(self.organizationId)]) }
            .rows.map { try $0.string("id") })
        return await MailIndex.shared.mails(in: maildir + "/new") { messageID in
            messageID.split(separator: "@").first.map { ids.contains(String($0)) } ?? false
        }
    }

    func events(_ type: String) async throws -> Int {
        try await pool.withConnection {
            try await $0.query("SELECT count(*) AS n FROM outbox WHERE message_type = $1 AND convert_from(body, 'UTF8')::jsonb->>'organizationId' = $2",
                               [.text(type), .text(self.organizationId)])
        }.first!.int("n")
    }

    func stop() async {
        consumer.stop()
        for task in tasks.withLock({ $0 }) { task.cancel(); _ = await task.result }
        await publisher.shutdown(grace: .seconds(1))
        await pool.close()
    }
}

/// The SMTP sink's Maildir, shared by every test: each file's Message-ID is read once, so
/// looking for a harness's mails does not reread (or search) thousands of others' each time.
/// Files are read on a thread of their own, one scan at a time, never on the cooperative pool.
final class MailIndex: Sendable {
    static let shared = MailIndex()
    static let startedAt = Date().timeIntervalSince1970
    private let messageIDs = Mutex<[String: String]>([:])
    private let scanning = Mutex<Void>(())

    func mails(in folder: String, where wanted: @escaping @Sendable (String) -> Bool) async -> [String] {
        await withCheckedContinuation { continuation in
            spawnDedicatedThread(name: "maildir-scan") {
                continuation.resume(returning: self.scanning.withLock { _ in self.scan(folder, where: wanted) })
            }
        }
    }

    private func scan(_ folder: String, where wanted: (String) -> Bool) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let known = messageIDs.withLock { $0 }
        var found: [String: String] = [:]
        for name in names where known[name] == nil {
            // Mail from well before this test run (a benchmark's thousands, say) is never a test's.
            var info = stat()
            if stat(folder + "/" + name, &info) == 0, Double(info.st_mtim.tv_sec) < Self.startedAt - 600 {
                found[name] = ""
                continue
            }
            guard let handle = FileHandle(forReadingAtPath: folder + "/" + name) else { continue }
            let head = String(decoding: handle.readData(ofLength: 4096), as: UTF8.self)
            try? handle.close()
            guard let line = head.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("Message-ID: <") }) else { continue }
            found[name] = String(line.dropFirst("Message-ID: <".count).prefix { $0 != ">" })
        }
        let all = messageIDs.withLock { index in
            index.merge(found) { old, _ in old }
            return index
        }
        return names.filter { all[$0].map(wanted) == true }
            .compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
    }
}
