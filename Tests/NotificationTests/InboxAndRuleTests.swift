import Contracts
import Foundation
@testable import Notification
import Testing
import TestSupport

@Suite("In-app inbox, event rules and calendar attachments through the real broker and database")
struct InboxAndRuleTests {
    @Test("inbox items page newest first without repeats, count unread, and mark read only for their own account")
    func inbox() async throws {
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"))
        defer { Task { await harness.stop() } }
        try await harness.start()
        let account = "acc-" + UUID().uuidString.prefix(8).lowercased()
        for index in 0..<25 {
            try await harness.send(SendNotification(category: "meeting.reminder", templateKey: "meeting.reminder",
                                                    data: ["topic": .string("topic \(index)"), "startLocal": .string("09:00"),
                                                           "timeZone": .string("UTC"), "link": .string("https://convene.example/m/\(index)")],
                                                    recipients: [.init(accountId: account, locale: "en")], channels: ["inbox"]))
        }
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.ask(CountUnread(accountId: account), as: UnreadCount.self).get().unread == 25 })

        var items: [InboxItem] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await harness.ask(ListInbox(accountId: account, limit: 10, before: cursor), as: InboxPage.self).get()
            items += page.items
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(items.count == 25 && Set(items.map(\.id)).count == 25)
        #expect(zip(items, items.dropFirst()).allSatisfy { $0.createdAt >= $1.createdAt }, "newest first")
        let first = items[0]
        let index = try #require(first.title.split(separator: " ").dropFirst(2).first)
        #expect(first.title == "Reminder: topic \(index) starts 09:00")
        #expect(first.link == "https://convene.example/m/\(index)" && first.category == "meeting.reminder" && first.readAt == nil)

        #expect(try await harness.ask(MarkRead(accountId: "someone-else", ids: [first.id]), as: MarkedRead.self).get().marked == 0)
        #expect(try await harness.ask(ListInbox(accountId: "someone-else"), as: InboxPage.self).get().items.isEmpty)
        #expect(try await harness.ask(MarkRead(accountId: account, ids: [first.id]), as: MarkedRead.self).get().marked == 1)
        #expect(try await harness.ask(CountUnread(accountId: account), as: UnreadCount.self).get().unread == 24)
        let unread = try await harness.ask(ListInbox(accountId: account, limit: 100, unreadOnly: true), as: InboxPage.self).get()
        #expect(unread.items.count == 24 && !unread.items.contains { $0.id == first.id })
        #expect(try await harness.ask(MarkRead(accountId: account), as: MarkedRead.self).get().marked == 24)
        #expect(try await harness.ask(CountUnread(accountId: account), as: UnreadCount.self).get().unread == 0)
        #expect(try await harness.ask(ListInbox(accountId: account, before: "garbage"), as: InboxPage.self).error?.code
                == "notification.invalid_cursor")
    }

    @Test("registration.confirmed mails and notifies the registrant once, in their language; the organization can switch the rule off or change its channels")
    func rules() async throws {
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"), events: true)
        defer { Task { await harness.stop() } }
        try await harness.start()
        let maildir = try TestStack.environment("CONVENE_MAILDIR")
        let tag = UUID().uuidString.prefix(8).lowercased()
        func confirmed() -> JSONValue {
            .object(["conferenceTitle": .string("计算语言学年会 \(tag)"), "category": .string("学生"),
                     "link": .string("https://convene.example/r/\(tag)"),
                     "registrant": .object(["accountId": .string("acc-\(tag)"), "email": .string("reg-\(tag)@example.com"),
                                            "name": .string("王同学"), "locale": .string("zh-CN")])])
        }
        let eventId = UUID()
        try await harness.publishEvent("registration.confirmed", data: confirmed(), id: eventId)
        try await harness.publishEvent("registration.confirmed", data: confirmed(), id: eventId)
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.statuses() == ["reg-\(tag)@example.com": "sent", "acc-\(tag)": "sent"] })
        let mails = try await harness.mails(in: maildir)
        #expect(mails.count == 1)
        #expect(mails.first.flatMap(subject(of:)) == "报名成功：计算语言学年会 \(tag)")
        let item = try await harness.ask(ListInbox(accountId: "acc-\(tag)"), as: InboxPage.self).get().items
        #expect(item.count == 1 && item.first?.link == "https://convene.example/r/\(tag)")

        let rules = try await harness.ask(ListRules(), as: [RuleSummary].self).get()
        #expect(rules.contains { $0.id == "registration-confirmed-registrant" && $0.enabled && $0.channels == ["email", "inbox"] })
        _ = try await harness.ask(SetRule(ruleId: "registration-confirmed-registrant", channels: ["inbox"]), as: RuleSummary.self).get()
        try await harness.publishEvent("registration.confirmed", data: confirmed())
        #expect(try await eventually(timeout: .seconds(60)) {
            try await harness.ask(CountUnread(accountId: "acc-\(tag)"), as: UnreadCount.self).get().unread == 2
        })
        #expect(try await harness.mails(in: maildir).count == 1, "inbox only now")

        let off = try await harness.ask(SetRule(ruleId: "registration-confirmed-registrant", enabled: false), as: RuleSummary.self).get()
        #expect(!off.enabled && off.channels == ["inbox"])
        try await harness.publishEvent("registration.confirmed", data: confirmed())
        try await Task.sleep(for: .seconds(1))
        #expect(try await harness.ask(CountUnread(accountId: "acc-\(tag)"), as: UnreadCount.self).get().unread == 2)
        #expect(try await harness.ask(SetRule(ruleId: "no-such-rule", enabled: false), as: RuleSummary.self).error?.code
                == "notification.not_found")
        #expect(try await harness.ask(ListRules(), as: [RuleSummary].self, organizationId: "other-org").get()
            .first { $0.id == "registration-confirmed-registrant" }?.enabled == true, "another organization keeps the default")
    }

    @Test("a rule tells everyone its event names, beyond the 1,000 a single send request may list")
    func largeAudience() async throws {
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"), events: true)
        defer { Task { await harness.stop() } }
        try await harness.start()
        _ = try await harness.ask(SetRule(ruleId: "meeting-reminder-attendees", channels: ["inbox"]), as: RuleSummary.self).get()
        let tag = UUID().uuidString.prefix(8).lowercased()
        let attendees = (0..<1200).map { JSONValue.object(["accountId": .string("acc-\(tag)-\($0)")]) }
        try await harness.publishEvent("scheduling.reminder_due", data: .object([
            "topic": .string("all hands"), "startLocal": .string("09:00"), "timeZone": .string("UTC"), "attendees": .array(attendees),
        ]))
        // One transaction renders and stores 1,200 inbox items: give a loaded machine time.
        #expect(try await eventually(timeout: .seconds(120)) { try await harness.statuses().count == 1200 })
        #expect(try await harness.statuses().values.allSatisfy { $0 == "sent" })
    }

    @Test("an invitation with a calendar attachment arrives with the invite inline and as invite.ics")
    func calendarAttachment() async throws {
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"))
        defer { Task { await harness.stop() } }
        try await harness.start()
        let maildir = try TestStack.environment("CONVENE_MAILDIR")
        let tag = UUID().uuidString.prefix(8).lowercased()
        let uid = "meeting-\(tag)@convene"
        let start = Date(timeIntervalSince1970: 1_796_108_400)  // 2026-12-01 06:00 UTC, 14:00 in Shanghai
        let event = CalendarEvent(uid: uid, sequence: 2, summary: "季度规划会", joinUrl: "https://zoom.example/j/1",
                                  start: start, end: start.addingTimeInterval(4200), timeZone: "Asia/Shanghai",
                                  organizer: .init(name: "张经理", email: "zhang@example.com"),
                                  attendees: [.init(name: "Ann", email: "ann-\(tag)@example.com", role: "required"),
                                              .init(email: "obs@example.com", role: "observer")])
        let accepted = try await harness.ask(SendNotification(
            category: "meeting.invitation", templateKey: "meeting.invitation",
            data: ["topic": .string("季度规划会"), "organizerName": .string("张经理"), "startLocal": .string("2026-12-01 14:00"),
                   "endLocal": .string("15:10"), "timeZone": .string("Asia/Shanghai")],
            recipients: [.init(email: "ann-\(tag)@example.com", name: "Ann", locale: "en")], attachments: [.calendar(event)]),
            as: Empty.self)
        #expect(accepted.ok, "\(accepted.error.map { "\($0)" } ?? "")")
        #expect(try await eventually(timeout: .seconds(60)) { try await harness.mails(in: maildir).count == 1 })
        let mail = try #require(try await harness.mails(in: maildir).first)
        #expect(mail.contains("text/calendar; charset=utf-8; method=REQUEST"))
        #expect(mail.contains("filename=\"invite.ics\"") || mail.contains("filename=invite.ics"))

        var bad = event
        bad.timeZone = "Mars/Olympus"
        let refused = try await harness.ask(SendNotification(category: "x", templateKey: "meeting.invitation", data: [:],
                                                             recipients: [.init(email: "a@example.com")], attachments: [.calendar(bad)]),
                                            as: Empty.self)
        #expect(refused.error?.code == "notification.attachment")
    }
}
