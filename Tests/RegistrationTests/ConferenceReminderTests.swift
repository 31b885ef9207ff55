import Contracts
import Foundation
@testable import Registration
import Testing

@Suite("The reminder before a conference")
struct ConferenceReminderTests {
    static let start = Date(timeIntervalSince1970: 1_796_086_800)  // 2026-12-01T01:00:00Z

    static func reminder(kind: String = "reminder_24h", meetingKind: String = "conference", venue: String? = "上海国际会议中心",
                         onlinePlatform: String? = nil) -> ReminderDue {
        ReminderDue(timerId: "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c5d", meetingId: "0b7f3c52-8d1e-4f7a-9a51-2c6d8e4b1f00",
                    meetingKind: meetingKind, kind: kind, dueAt: start.addingTimeInterval(-86_400), sequence: 3,
                    title: "第十届分布式系统大会", startsAt: start, endsAt: start.addingTimeInterval(86_400), timeZone: "Asia/Shanghai",
                    startLocal: "2026-12-01 09:00", venue: venue, onlinePlatform: onlinePlatform)
    }

    static func registrants(_ count: Int) -> [Payer] {
        (0..<count).map { Payer(accountId: "acc-\($0)", email: "p\($0)@example.org", name: "参会者 \($0)", locale: $0 % 2 == 0 ? "zh-CN" : "en") }
    }

    @Test("5,000 registrants are asked for in ten requests of 500, each with a key of its own naming the timer and the chunk")
    func chunks() {
        let people = Self.registrants(5000)
        let requests = ConferenceReminder.requests(for: Self.reminder(), registrants: people)
        #expect(requests.map(\.recipients.count) == Array(repeating: 500, count: 10))
        #expect(requests.map(\.idempotencyKey) == (0..<10).map { "conference.reminder:7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c5d:\($0)" })
        #expect(requests.flatMap(\.recipients).map(\.email) == people.map(\.email), "everyone once, in the given order")
        let uneven = ConferenceReminder.requests(for: Self.reminder(), registrants: Self.registrants(1201))
        #expect(uneven.map(\.recipients.count) == [500, 500, 201])
        #expect(ConferenceReminder.requests(for: Self.reminder(), registrants: []).isEmpty, "nobody confirmed: nothing to ask")
    }

    @Test("each recipient is addressed by email and inbox in their registration's locale; the data names the conference, its local start and venue")
    func request() throws {
        let request = try #require(ConferenceReminder.requests(for: Self.reminder(), registrants: Self.registrants(2)).first)
        #expect(request.templateKey == "conference.reminder" && request.category == "conference.reminder" && !request.transactional)
        #expect(request.channels == ["email", "inbox"])
        #expect(request.recipients[1] == .init(accountId: "acc-1", email: "p1@example.org", name: "参会者 1", locale: "en"))
        #expect(request.data["conferenceTitle"] == .string("第十届分布式系统大会"))
        #expect(request.data["conferenceStartLocal"] == .string("2026-12-01 09:00") && request.data["timeZone"] == .string("Asia/Shanghai"))
        #expect(request.data["venue"] == .string("上海国际会议中心") && request.data["onlinePlatform"] == nil && request.data["link"] == nil)
        let online = try #require(ConferenceReminder.requests(for: Self.reminder(venue: nil, onlinePlatform: "tencent"),
                                                              registrants: Self.registrants(1), link: "https://convene.example/c/1").first)
        #expect(online.data["venue"] == nil && online.data["onlinePlatform"] == .string("tencent"))
        #expect(online.data["link"] == .string("https://convene.example/c/1"))
    }

    @Test("no reminder for a cancelled conference, one that has started, another meeting kind or a timer that is no reminder")
    func whetherToSend() {
        let before = Self.start.addingTimeInterval(-3600)
        #expect(ConferenceReminder.shouldSend(Self.reminder(), cancelled: false, now: before))
        #expect(!ConferenceReminder.shouldSend(Self.reminder(), cancelled: true, now: before))
        #expect(!ConferenceReminder.shouldSend(Self.reminder(), cancelled: false, now: Self.start), "caught up on too late")
        #expect(!ConferenceReminder.shouldSend(Self.reminder(meetingKind: "internal"), cancelled: false, now: before))
        #expect(!ConferenceReminder.shouldSend(Self.reminder(kind: "start"), cancelled: false, now: before))
    }
}
