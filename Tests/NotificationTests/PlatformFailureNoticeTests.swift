import Contracts
import Foundation
@testable import Notification
import Testing
import TestSupport

@Suite("Provisioning failures reach the host")
struct PlatformFailureNoticeTests {
    @Test("platform.provisioning_failed mails the meeting's host once, in their language, and puts it in their inbox")
    func hostIsTold() async throws {
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"), events: true)
        defer { Task { await harness.stop() } }
        try await harness.start()
        let maildir = try TestStack.environment("CONVENE_MAILDIR")
        let tag = UUID().uuidString.prefix(8).lowercased()
        // What platform-bridge publishes (ProvisioningFailed), encoded the same way.
        let failed = ProvisioningFailed(meetingId: "mtg-\(tag)", sequence: 1, platform: "tencent", reason: "platform.rejected",
                                        message: "Tencent Meeting refused the request (HTTP 400)",
                                        host: MeetingHost(accountId: "host-\(tag)", name: "王芳", email: "host-\(tag)@example.com",
                                                          locale: "zh-CN"),
                                        topic: "季度经营分析会 \(tag)")
        let data = try ConveneJSON.decode(JSONValue.self, from: try ConveneJSON.encode(failed))
        let eventId = UUID()
        try await harness.publishEvent(ProvisioningFailed.messageType, data: data, id: eventId)
        try await harness.publishEvent(ProvisioningFailed.messageType, data: data, id: eventId)
        #expect(try await eventually(timeout: .seconds(60)) {
            try await harness.statuses() == ["host-\(tag)@example.com": "sent", "host-\(tag)": "sent"]
        })
        let mails = try await harness.mails(in: maildir)
        #expect(mails.count == 1)
        #expect(mails.first.flatMap(subject(of:)) == "会议“季度经营分析会 \(tag)”未能在 tencent 上创建")
    }

    @Test("the rule for platform.provisioning_failed addresses the host, with a template in zh-CN and en")
    func rule() throws {
        let templates = try TemplateLibrary(directory: NotificationHarness.root + "/Services/Notification/Templates")
        let rules = try RuleBook(file: NotificationHarness.root + "/Services/Notification/Rules/rules.json", templates: templates)
        #expect(rules.rules.contains { $0.event == "platform.provisioning_failed" && $0.audience == "/host" && $0.transactional })
        for locale in ["zh-CN", "en"] {
            for part in ["subject", "text", "html"] {
                #expect(FileManager.default.fileExists(atPath: NotificationHarness.root
                    + "/Services/Notification/Templates/platform.provisioning_failed/\(locale).\(part).mustache"))
            }
        }
    }
}
