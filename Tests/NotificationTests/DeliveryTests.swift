import Contracts
import Foundation
import HTTPClient
import Messaging
@testable import Notification
import Persistence
import Synchronization
import Testing
import TestSupport

/// The decoded Subject of a raw mail (RFC 2047 base64 words, folded).
func subject(of mail: String) -> String? {
    // The Maildir may store LF line ends.
    let unfolded = mail.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n ", with: " ")
    guard let line = unfolded.components(separatedBy: "\n").first(where: { $0.hasPrefix("Subject: ") }) else { return nil }
    let value = String(line.dropFirst("Subject: ".count))
    guard value.hasPrefix("=?UTF-8?B?") else { return value }
    var bytes: [UInt8] = []
    for word in value.split(separator: " ") {
        guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="),
              let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) else { return nil }
        bytes += data
    }
    return String(decoding: bytes, as: UTF8.self)
}


@Suite("Email deliveries through the real broker, database and SMTP server")
struct DeliveryTests {
    func invitation(_ topic: String, key: String? = nil, transactional: Bool = false, recipients: [SendNotification.Recipient]) -> SendNotification {
        SendNotification(idempotencyKey: key, category: "meeting.invitation", transactional: transactional,
                         templateKey: "meeting.invitation",
                         data: ["topic": .string(topic), "organizerName": .string("张经理"), "startLocal": .string("2026-12-01 14:00"),
                                "endLocal": .string("2026-12-01 15:10"), "timeZone": .string("Asia/Shanghai"),
                                "joinLinks": .array([.object(["platform": .string("Zoom"), "url": .string("https://zoom.example/j/1"),
                                                              "recommended": .bool(true)])])],
                         recipients: recipients)
    }

    @Test("each recipient gets one mail in their language, and a repeated request sends nothing more")
    func deliversOnce() async throws {
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"))
        defer { Task { await harness.stop() } }
        try await harness.start()
        let maildir = try TestStack.environment("CONVENE_MAILDIR")
        let topic = "规划会-\(UUID().uuidString.prefix(8))"
        let request = invitation(topic, key: "invite-\(topic)", recipients: [
            .init(email: "li@example.com", name: "李总监", locale: "zh-CN"), .init(email: "ann@example.com", name: "Ann", locale: "en-GB"),
        ])
        try await harness.send(request)
        try await harness.send(request)  // same idempotency key, another message id
        let id = UUID()
        try await harness.send(request, id: id)
        try await harness.send(request, id: id)  // the same message delivered twice

        #expect(try await eventually(timeout: .seconds(60)) { try await harness.statuses() == ["li@example.com": "sent", "ann@example.com": "sent"] })
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.mails(in: maildir).count == 2 })
        try await Task.sleep(for: .milliseconds(500))
        let sent = try await harness.mails(in: maildir)
        #expect(sent.count == 2, "one mail per recipient, however often it was asked")
        #expect(sent.contains { $0.contains("To: =?UTF-8?B?") && $0.contains("<li@example.com>") })
        let ann = try #require(sent.first { $0.contains("To: Ann <ann@example.com>") })
        let li = try #require(sent.first { $0.contains("<li@example.com>") })
        #expect(subject(of: ann) == "Invitation: \(topic) (2026-12-01 14:00)", "en-GB falls back to the English template")
        #expect(subject(of: li) == "会议邀请：\(topic)（2026-12-01 14:00）")
        #expect(try await harness.events("notification.delivered") == 2)
    }

    @Test("an opted-out recipient gets nothing unless the message is transactional; bad addresses are reported")
    func optOutsAndBadAddresses() async throws {
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"))
        defer { Task { await harness.stop() } }
        _ = try await harness.pool.withConnection {
            try await $0.query("INSERT INTO preferences (recipient, category, opted_out) VALUES ('out@example.com', 'meeting.invitation', true)")
        }
        try await harness.start()
        let maildir = try TestStack.environment("CONVENE_MAILDIR")
        let topic = "opt-\(UUID().uuidString.prefix(8))"
        try await harness.send(invitation(topic, recipients: [.init(email: "Out@Example.com"), .init(email: "in@example.com"),
                                                              .init(email: "not an address")]))
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.statuses() == ["Out@Example.com": "skipped", "in@example.com": "sent", "not an address": "failed"] })
        #expect(try await harness.mails(in: maildir).count == 1)
        #expect(try await harness.events("notification.failed") == 2)

        let receipt = "receipt-\(UUID().uuidString.prefix(8))"
        try await harness.send(invitation(receipt, transactional: true, recipients: [.init(email: "out@example.com")]))
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.mails(in: maildir).count == 2 }, "transactional messages ignore opt-outs")
    }

    @Test("more deliveries at once than database connections all go out (no handler waits on another's connection)")
    func manyAtOnce() async throws {
        // The harness pool has 4 connections; the consumer runs 8 handlers at once.
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"))
        defer { Task { await harness.stop() } }
        try await harness.start()
        let recipients = (0..<24).map { SendNotification.Recipient(email: "guest\($0)@example.com", locale: "en") }
        try await harness.send(invitation("crowd-\(UUID().uuidString.prefix(8))", recipients: recipients))
        #expect(try await eventually(timeout: .seconds(20)) {
            try await harness.statuses().values.filter { $0 == "sent" }.count == 24
        })
        #expect(try await harness.mails(in: try TestStack.environment("CONVENE_MAILDIR")).count == 24)
    }

    @Test("a mail server that is down at first receives the mail once it is back")
    func smtpComesBack() async throws {
        let port = 36_000 + Int.random(in: 100...899)
        let maildir = "/tmp/convene-smtp-late-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: maildir)
            try? FileManager.default.removeItem(atPath: maildir + ".log")
        }
        for folder in ["tmp", "new", "cur"] {
            try FileManager.default.createDirectory(atPath: "\(maildir)/\(folder)", withIntermediateDirectories: true)
        }
        let harness = try await NotificationHarness(smtpURL: "smtp://127.0.0.1:\(port)",
                                                    retryDelays: [.milliseconds(500), .seconds(1), .seconds(2)])
        defer { Task { await harness.stop() } }
        try await harness.start()
        let topic = "late-\(UUID().uuidString.prefix(8))"
        try await harness.send(invitation(topic, recipients: [.init(email: "late@example.com")]))
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.statuses()["late@example.com"] == "waiting" }, "the first attempt failed and waits")

        let server = try ChildProcess(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)",
                                       "-c", "aiosmtpd.handlers.Mailbox", maildir],
                                      environment: ["PATH": "/usr/bin:/bin"], output: maildir + ".log")
        // A mail sink keeps no state worth a graceful stop; this ends it even if the test throws.
        defer { server.signal(SIGKILL) }
        #expect(try await eventually(timeout: .seconds(15)) { try await harness.mails(in: maildir).count == 1 })
        // The mail is in the box before the outcome commits: wait for the record too.
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.statuses()["late@example.com"] == "sent" })
        let attempts = try await harness.pool.withConnection { try await $0.query("SELECT attempts FROM deliveries") }.first!.int("attempts")
        #expect(attempts >= 2)
    }
}
