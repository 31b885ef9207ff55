import Contracts
import Foundation
import Messaging
@testable import Notification
import Secrets
import Testing
import TestSupport

@Suite("IM robots through the real broker, database and robot contract servers")
struct RobotTests {
    func reminder(_ topic: String, robots: [String], channels: [String]) -> SendNotification {
        SendNotification(category: "meeting.reminder", templateKey: "meeting.reminder",
                         data: ["topic": .string(topic), "startLocal": .string("2026-12-01 14:00"),
                                "timeZone": .string("Asia/Shanghai"),
                                "joinLinks": .array([.object(["platform": .string("Zoom"), "url": .string("https://zoom.example/j/1"),
                                                              "recommended": .bool(true)])])],
                         recipients: robots.map { .init(robot: $0) }, channels: channels, locale: "zh-CN")
    }

    @Test("a signed DingTalk robot gets the markdown message; one registered with a wrong secret is refused by DingTalk and not retried")
    func dingTalkSigned() async throws {
        let contracts = try ContractServer()
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"))
        defer { Task { await harness.stop() } }
        try await harness.start()
        let token = "tok" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let address = try await contracts.dingTalkRobot(token: token, secret: "SECright-\(token)")
        let good = try await harness.ask(RegisterRobot(kind: "dingtalk", name: "ops", webhookUrl: address, secret: "SECright-\(token)"),
                                         as: RobotSummary.self).get()
        let bad = try await harness.ask(RegisterRobot(kind: "dingtalk", name: "ops-typo", webhookUrl: address, secret: "SECwrong"),
                                        as: RobotSummary.self).get()
        #expect(good.signed)

        let topic = "周会-\(token.prefix(6))"
        try await harness.send(reminder(topic, robots: [good.id, bad.id], channels: ["dingtalk"]))
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.statuses() == [good.id: "sent", bad.id: "failed"] })
        let messages = try await contracts.dingTalkMessages(token)
        #expect(messages.count == 1)
        let body = try #require(messages.first?["body"] as? [String: Any])
        let markdown = try #require(body["markdown"] as? [String: Any])
        #expect(body["msgtype"] as? String == "markdown")
        #expect((markdown["title"] as? String)?.contains(topic) == true, "the zh-CN subject is the title")
        #expect((markdown["text"] as? String)?.contains("[Zoom](https://zoom.example/j/1)（推荐）") == true)
        let refused = try await harness.deliveries(channel: "dingtalk").first { $0.recipient == bad.id }
        #expect(refused?.error?.contains("310000") == true)
        #expect(refused?.attempts == 1, "a signature DingTalk refuses will not improve with retrying")
    }

    @Test("a WeCom robot gets markdown with the subject as a heading; an address of another host is refused at registration")
    func weCom() async throws {
        let contracts = try ContractServer()
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"))
        defer { Task { await harness.stop() } }
        try await harness.start()
        let key = "key-" + UUID().uuidString.lowercased()
        let robot = try await harness.ask(RegisterRobot(kind: "wecom", name: "群机器人", webhookUrl: try await contracts.weComRobot(key: key)),
                                          as: RobotSummary.self).get()
        let elsewhere = try await harness.ask(RegisterRobot(kind: "wecom", name: "evil",
                                                            webhookUrl: "http://169.254.169.254/cgi-bin/webhook/send?key=\(key)"),
                                              as: RobotSummary.self)
        #expect(elsewhere.error?.code == "notification.invalid_robot")

        try await harness.send(reminder("standup", robots: [robot.id], channels: ["wecom", "email"]))
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.statuses() == [robot.id: "sent"] }, "a robot takes only its own channel")
        let content = try #require(((try await contracts.weComMessages(key)).first?["body"] as? [String: Any])
            .flatMap { $0["markdown"] as? [String: Any] }?["content"] as? String)
        #expect(content.hasPrefix("### 会议提醒：standup"))
        #expect(try await harness.ask(ListRobots(), as: [RobotSummary].self).get().map(\.name) == ["群机器人"])
    }

    @Test("robot tokens and secrets are stored sealed, and another organization cannot use or see the robot")
    func sealedAndScoped() async throws {
        let contracts = try ContractServer()
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"))
        defer { Task { await harness.stop() } }
        try await harness.start()
        let token = "sealed" + UUID().uuidString.prefix(8).lowercased()
        let robot = try await harness.ask(RegisterRobot(kind: "dingtalk", name: "r", webhookUrl: try await contracts.dingTalkRobot(token: token, secret: "SECvery-secret"),
                                                        secret: "SECvery-secret"), as: RobotSummary.self).get()
        let stored = try await harness.pool.withConnection { try await $0.query("SELECT credentials FROM robots") }.first!.string("credentials")
        #expect(!stored.contains(token) && !stored.contains("SECvery-secret"))

        #expect(try await harness.ask(ListRobots(), as: [RobotSummary].self, organizationId: "another-org").get().isEmpty)
        #expect(try await harness.ask(RemoveRobot(id: robot.id), as: Empty.self, organizationId: "another-org").error?.code
                == "notification.not_found")
        let other = SendNotification(category: "x", templateKey: "meeting.reminder", data: ["topic": .string("t")],
                                     recipients: [.init(robot: robot.id)], channels: ["dingtalk"])
        let envelope = Envelope(type: "\(harness.name).send", source: "test", organizationId: "another-org", data: other)
        try await harness.publisher.publish(try OutgoingMessage.envelope(envelope, exchange: Exchange.commands))
        #expect(try await eventually(timeout: .seconds(60)) {
            try await harness.pool.withConnection {
                try await $0.query("SELECT status FROM deliveries WHERE recipient = $1", [.text(robot.id)])
            }.first?["status"] == "failed"
        })
        #expect(try await contracts.dingTalkMessages(token).isEmpty)
    }

    @Test("a burst of 22 messages to one robot all arrive, queued to stay within 20 a minute")
    func rateLimit() async throws {
        let contracts = try ContractServer()
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"))
        defer { Task { await harness.stop() } }
        try await harness.start()
        let token = "burst" + UUID().uuidString.prefix(8).lowercased()
        let robot = try await harness.ask(RegisterRobot(kind: "dingtalk", name: "busy",
                                                        webhookUrl: try await contracts.dingTalkRobot(token: token, secret: nil)),
                                          as: RobotSummary.self).get()
        for index in 0..<22 {
            try await harness.send(reminder("burst \(index)", robots: [robot.id], channels: ["dingtalk"]))
        }
        #expect(try await eventually(timeout: .seconds(15)) { try await contracts.dingTalkMessages(token).count == 20 })
        #expect(try await eventually(timeout: .seconds(60)) {
            let waiting = try await harness.deliveries(channel: "dingtalk").filter { $0.status != "sent" }
            return waiting.count == 2 && waiting.allSatisfy { $0.status == "waiting" || $0.status == "queued" }
        }, "the two over the limit wait instead of being dropped")
        #expect(try await eventually(timeout: .seconds(90)) { try await contracts.dingTalkMessages(token).count == 22 })
        let received = try await contracts.dingTalkMessages(token).compactMap { $0["receivedAt"] as? Double }.sorted()
        try #require(received.count == 22)
        #expect(received[20] - received[0] >= 60_000, "the 21st went out a minute after the first")
        // The provider has the last message a moment before its outcome commits.
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.deliveries(channel: "dingtalk").allSatisfy { $0.status == "sent" && $0.error == nil } })
    }

    @Test("after a key rotation the service seals robot secrets again with the new key, so the old one can go")
    func keyRotation() async throws {
        let contracts = try ContractServer()
        let (old, new) = (SecretBox.generateKey(), SecretBox.generateKey())
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"),
                                                    settings: ["NOTIFICATION_SECRET_KEY": old])
        defer { Task { await harness.stop() } }
        try await harness.start()
        let token = "rot" + UUID().uuidString.prefix(8).lowercased()
        let robot = try await harness.ask(RegisterRobot(kind: "dingtalk", name: "r", webhookUrl: try await contracts.dingTalkRobot(token: token, secret: "SECs"),
                                                        secret: "SECs"), as: RobotSummary.self).get()
        let rotated = try NotificationHarness.settings(smtpURL: "smtp://127.0.0.1:1", retryDelays: [],
                                                       extra: ["NOTIFICATION_SECRET_KEY": new, "NOTIFICATION_SECRET_KEYS_PREVIOUS": old])
        let scheduler = DeliveryScheduler(pool: harness.pool, settings: rotated, logger: TestStack.logger)
        // A robot no configured key opens stays as it is and does not stop the others.
        let lost = RobotStore(secrets: try SecretBox(current: SecretBox.generateKey()))
        _ = try await harness.pool.withTransaction {
            try await lost.insert(organizationId: harness.organizationId, kind: .wecom, name: "lost",
                                  credentials: RobotCredentials(token: "k", secret: nil), in: $0)
        }
        #expect(try await scheduler.resealSecrets() == 1)
        #expect(try await scheduler.resealSecrets() == 0, "once is enough")
        let onlyNew = RobotStore(secrets: try SecretBox(current: new))
        let opened = try await harness.pool.withTransaction { try await onlyNew.credentials(UUID(uuidString: robot.id)!, in: $0) }
        #expect(opened?.1 == RobotCredentials(token: token, secret: "SECs"))
    }

    @Test("a robot whose secret no configured key opens is skipped with the reason, and other deliveries still go out")
    func unopenableSecret() async throws {
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"))
        defer { Task { await harness.stop() } }
        try await harness.start()
        let foreign = RobotStore(secrets: try SecretBox(current: SecretBox.generateKey()))
        let robot = try await harness.pool.withTransaction {
            try await foreign.insert(organizationId: harness.organizationId, kind: .dingtalk, name: "lost key",
                                     credentials: RobotCredentials(token: "t", secret: nil), in: $0)
        }
        let email = "still-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        try await harness.send(SendNotification(category: "c", templateKey: "meeting.reminder",
                                                data: ["topic": .string("t"), "startLocal": .string("now"), "timeZone": .string("UTC")],
                                                recipients: [.init(robot: robot.id), .init(email: email)], channels: ["dingtalk", "email"]))
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.statuses() == [robot.id: "skipped", email: "sent"] })
        #expect(try await harness.deliveries(channel: "dingtalk").first?.error == DeliveryStore.unopenable)
    }
}
