import Contracts
import Foundation
@testable import Notification
import Persistence
import Secrets
import Testing

@Suite("Channel and rule decisions (no I/O)")
struct ChannelRuleTests {
    @Test("topic patterns match like RabbitMQ's: * one word, # any number")
    func topicPatterns() {
        let star = TopicPattern("registration.*")!
        #expect(star.matches("registration.confirmed") && !star.matches("registration.a.b") && !star.matches("payment.confirmed"))
        let hash = TopicPattern("registration.#")!
        #expect(hash.matches("registration") && hash.matches("registration.a.b") && !hash.matches("registrations.a"))
        #expect(TopicPattern("#.failed")!.matches("payment.refund.failed"))
        #expect(TopicPattern("registration.confirmed") == nil, "a plain key is not a pattern")
    }

    @Test("a robot's token comes only from the provider's own address")
    func robotAddress() throws {
        let base = "https://oapi.dingtalk.com/robot/send"
        #expect(try RobotAPI.token(fromWebhookURL: base + "?access_token=abc123", kind: .dingtalk, base: base) == "abc123")
        for address in ["https://evil.example/robot/send?access_token=abc", base, base + "?access_token=a%0Ab",
                        "https://oapi.dingtalk.com/robot/other?access_token=abc", "http://oapi.dingtalk.com/robot/send?access_token=abc"] {
            #expect(throws: RobotAPI.Refusal.self, "\(address)") { try RobotAPI.token(fromWebhookURL: address, kind: .dingtalk, base: base) }
        }
    }

    @Test("a signed DingTalk request carries timestamp and sign; WeCom content is cut to 4,096 bytes at a character")
    func robotRequests() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000.123)
        let signed = try RobotAPI.request(kind: .dingtalk, base: "https://d.example/robot/send",
                                          credentials: .init(token: "t", secret: "SECx"), title: "T", markdown: "M", now: now)
        #expect(signed.url.hasPrefix("https://d.example/robot/send?access_token=t&timestamp=1700000000123&sign="))
        let body = try JSONSerialization.jsonObject(with: Data(signed.body)) as? [String: Any]
        #expect((body?["markdown"] as? [String: String]) == ["title": "T", "text": "M"])
        let long = RobotAPI.weComContent(title: "标题", markdown: String(repeating: "会", count: 3000))
        #expect(long.utf8.count <= 4096 && long.hasSuffix("…") && long.hasPrefix("### 标题\n"))
    }

    @Test("robot answers: errcode 0 is sent, too fast waits a minute, anything else refused is final")
    func robotAnswers() {
        func answer(_ code: Int) -> [UInt8] { Array("{\"errcode\":\(code),\"errmsg\":\"m\"}".utf8) }
        #expect(RobotAPI.interpret(kind: .dingtalk, status: 200, body: answer(0)) == .sent(answer: "errcode 0: m"))
        #expect(RobotAPI.interpret(kind: .dingtalk, status: 200, body: answer(130101)) == .transient(reason: "errcode 130101: m", after: .seconds(60)))
        #expect(RobotAPI.interpret(kind: .wecom, status: 200, body: answer(45009)) == .transient(reason: "errcode 45009: m", after: .seconds(60)))
        #expect(RobotAPI.interpret(kind: .dingtalk, status: 200, body: answer(310000)) == .permanent(reason: "errcode 310000: m"))
        #expect(RobotAPI.interpret(kind: .wecom, status: 502, body: []) == .transient(reason: "HTTP 502"))
    }

    @Test("webhook answers: 2xx sent; 408, 429 and 5xx retried; other 4xx and redirects final")
    func webhookAnswers() {
        #expect(DeliveryResult.webhookAnswer(status: 204, body: []) == .sent(answer: "HTTP 204"))
        for status in [408, 429, 500, 503] {
            #expect(DeliveryResult.webhookAnswer(status: status, body: []) == .transient(reason: "HTTP \(status): "))
        }
        for status in [301, 307, 400, 401, 404, 410] {
            if case .permanent = DeliveryResult.webhookAnswer(status: status, body: []) {} else { Issue.record("\(status) should be final") }
        }
        #expect(Backoff(delays: [.seconds(1), .seconds(5)]).delay(afterAttempt: 1) == .seconds(1))
        #expect(Backoff(delays: [.seconds(1), .seconds(5)]).delay(afterAttempt: 2) == .seconds(5))
        #expect(Backoff(delays: [.seconds(1), .seconds(5)]).delay(afterAttempt: 3) == nil)
    }

    @Test("webhooks may subscribe to other services' events by type or pattern, never to notification events")
    func webhookEventTypes() {
        #expect(WebhookEvents.validate(["registration.confirmed", "payment.*", "scheduling.#"]) == nil)
        for bad in [["notification.delivered"], ["registration"], ["registration.con firmed"], []] {
            #expect(WebhookEvents.validate(bad) != nil, "\(bad)")
        }
        #expect(WebhookEvents.matches(["registration.*"], event: "registration.confirmed"))
        #expect(!WebhookEvents.matches(["#"], event: "notification.delivered"))
        #expect(WebhookEvents.matches(["#.succeeded"], event: "payment.succeeded"))
    }

    @Test("a rule's audience is found by JSON pointer, as one recipient or a list")
    func audience() {
        let data: JSONValue = .object([
            "registrant": .object(["accountId": .string("a1"), "email": .string("a@example.com"), "locale": .string("zh-CN")]),
            "attendees": .array([.object(["email": .string("b@example.com")]), .object(["name": .string("nobody")]),
                                 .object(["accountId": .string("c3")])]),
            "a/b": .object(["email": .string("slash@example.com")]),
        ])
        #expect(RuleBook.recipients(in: data, at: "/registrant") == [.init(accountId: "a1", email: "a@example.com", locale: "zh-CN")])
        #expect(RuleBook.recipients(in: data, at: "/attendees").map { $0.email ?? $0.accountId } == ["b@example.com", "c3"],
                "entries without an address are left out")
        #expect(RuleBook.recipients(in: data, at: "/a~1b").first?.email == "slash@example.com")
        #expect(RuleBook.recipients(in: data, at: "/missing").isEmpty)
    }

    @Test("the shipped rules name existing templates and channels")
    func shippedRules() throws {
        let root = NotificationHarness.root + "/Services/Notification"
        let templates = try TemplateLibrary(directory: root + "/Templates")
        let book = try RuleBook(file: root + "/Rules/rules.json", templates: templates)
        #expect(!book.rules.isEmpty)
        let broken = RuleBook(version: 1, rules: [.init(id: "x", event: "e.f", template: "no.such", category: "c",
                                                         transactional: false, channels: ["email"], audience: "/a")])
        #expect(throws: RuleBook.Invalid.self) { try broken.validate(templates: templates) }
    }

    @Test("each person gets the channels they have an address for; a robot only its own; opt-outs are skipped")
    func plans() throws {
        let intake = NotificationIntake(templates: try TemplateLibrary(directory: NotificationHarness.root + "/Services/Notification/Templates"),
                                        robots: RobotStore(secrets: try SecretBox(current: SecretBox.generateKey())))
        let person = SendNotification.Recipient(accountId: "a1", email: "p@example.com")
        #expect(intake.plans(for: person, channels: ["email", "inbox", "dingtalk"], robotKinds: [:], optedOut: [], category: "c")
                .map(\.channel) == ["email", "inbox"])
        #expect(intake.plans(for: person, channels: ["email"], robotKinds: [:], optedOut: ["a1"], category: "c")
                .map(\.status) == ["skipped"])
        #expect(intake.plans(for: .init(accountId: "a1"), channels: ["email"], robotKinds: [:], optedOut: [], category: "c")
                .map(\.status) == ["failed"], "nobody to send to is reported")
        let robot = SendNotification.Recipient(robot: "R1")
        #expect(intake.plans(for: robot, channels: ["email", "wecom"], robotKinds: ["r1": .wecom], optedOut: [], category: "c")
                == [.init(channel: "wecom", address: "r1", status: "queued")])
        #expect(intake.plans(for: robot, channels: ["dingtalk"], robotKinds: [:], optedOut: [], category: "c").first?.status == "failed")
    }

    @Test("blobs are stored by content and a damaged one is refused")
    func blobs() throws {
        let folder = "/tmp/convene-blobs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = BlobStore(directory: folder)
        let key = try store.put(Array("agenda".utf8))
        #expect(BlobStore.isValidKey(key) && key == BlobStore.key(for: Array("agenda".utf8)))
        #expect(try store.get(key) == Array("agenda".utf8))
        let hex = key.dropFirst(7)
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: "\(folder)/\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))/\(hex)"))
        #expect(throws: BlobStore.Failure.self) { try store.get(key) }
        #expect(throws: BlobStore.Failure.self) { try store.get("../../etc/passwd") }
    }
}
