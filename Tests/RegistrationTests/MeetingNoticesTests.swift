import Contracts
import Foundation
@testable import Registration
import Testing

@Suite("Attendee mails of enterprise meetings: invitations, updates, cancellations, reminders and answer requests")
struct MeetingNoticesTests {
    static let start = Date(timeIntervalSince1970: 1_796_104_800)  // 2026-12-01T06:00:00Z, 14:00 in Shanghai
    static let meetingId = UUID(uuidString: "3c1a5e7d-2b4f-4a6c-9d8e-1f2a3b4c5d6e")!
    let notices = MeetingNotices(publicURL: "https://convene.example")

    static func meeting(sequence: Int = 2, recommended: String? = "tencent", cancelled: Bool = false) -> MeetingRecord {
        MeetingRecord(id: meetingId, organizationId: "org-7", kind: "internal", sequence: sequence,
                      plan: MeetingPlan(type: "internal", topic: "Q3 产品规划", description: "季度规划", startsAt: start,
                                        endsAt: start.addingTimeInterval(4200), timeZone: "Asia/Shanghai", location: "3 号会议室",
                                        host: MeetingHost(accountId: "acc-1", name: "王经理", email: "wang@example.com", locale: "zh-CN"),
                                        platforms: ["zoom", "tencent", "dingtalk"], recommendedPlatform: recommended),
                      cancelled: cancelled, cancelReason: cancelled ? "改期" : nil)
    }

    static let links = [
        JoinLinkRecord(platform: "dingtalk", sequence: 2, url: "https://meeting.dingtalk.com/j/1", meetingNumber: nil, password: nil),
        JoinLinkRecord(platform: "zoom", sequence: 2, url: "https://zoom.us/j/2", meetingNumber: "2", password: "pw"),
        JoinLinkRecord(platform: "tencent", sequence: 2, url: "https://meeting.tencent.com/dm/3", meetingNumber: "3", password: nil),
    ]

    static func attendee(_ index: Int, role: String = "required", response: String = "pending", locale: String? = nil) -> AttendeeRecord {
        AttendeeRecord(id: UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", index))!, meetingId: meetingId,
                       organizationId: "org-7", email: "p\(index)@example.com", name: "参会者 \(index)", phone: nil, department: nil,
                       role: role, dingtalkUserId: nil, locale: locale, response: response, respondedAt: nil, comment: nil,
                       rsvpToken: "token-\(index)", invitedSequence: nil, invitedJoinURL: nil, createdAt: start, updatedAt: start)
    }

    static func reminder(_ kind: String = "reminder_24h") -> ReminderDue {
        ReminderDue(timerId: "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c5d", meetingId: meetingId.lowercased, meetingKind: "internal", kind: kind,
                    dueAt: start.addingTimeInterval(-86_400), sequence: 2, title: "Q3 产品规划", startsAt: start,
                    endsAt: start.addingTimeInterval(4200), timeZone: "Asia/Shanghai", startLocal: "2026-12-01 14:00", venue: nil,
                    onlinePlatform: "tencent")
    }

    @Test("join links put the recommended platform first, then follow the plan's order; without a recommendation the plan's order")
    func linkOrder() {
        #expect(MeetingNotices.joinLinks(Self.meeting(), Self.links).map(\.platform) == ["tencent", "zoom", "dingtalk"])
        #expect(MeetingNotices.joinLinks(Self.meeting(), Self.links).map(\.recommended) == [true, false, false])
        #expect(MeetingNotices.joinLinks(Self.meeting(recommended: nil), Self.links).map(\.platform) == ["zoom", "tencent", "dingtalk"])
        #expect(MeetingNotices.primaryJoinURL(Self.meeting(), Self.links) == "https://meeting.tencent.com/dm/3")
        #expect(MeetingNotices.primaryJoinURL(Self.meeting(), []) == nil)
    }

    @Test("the calendar's link is the recommended platform's (or the plan's first), none until that one is known, whichever platform answers first")
    func designatedLink() {
        let zoomOnly = Self.links.filter { $0.platform == "zoom" }
        #expect(MeetingNotices.primaryJoinURL(Self.meeting(), zoomOnly) == nil, "the recommended Tencent Meeting link is not in yet")
        #expect(MeetingNotices.primaryJoinURL(Self.meeting(recommended: nil), zoomOnly) == "https://zoom.us/j/2")
        let dingtalkOnly = Self.links.filter { $0.platform == "dingtalk" }
        #expect(MeetingNotices.primaryJoinURL(Self.meeting(recommended: nil), dingtalkOnly) == nil, "the plan's first platform is Zoom")
    }

    @Test("an invitation names one attendee with their role in a REQUEST calendar entry of the meeting's UID and sequence, with their own answer link")
    func invitation() throws {
        let observer = Self.attendee(1, role: "observer", locale: "en")
        let request = notices.notice(.invitation, meeting: Self.meeting(), attendee: observer, links: Self.links)
        #expect(request.templateKey == "meeting.invitation" && request.transactional && request.channels == ["email"])
        #expect(request.recipients == [.init(email: "p1@example.com", name: "参会者 1", locale: "en")])
        #expect(request.locale == "en")
        #expect(request.idempotencyKey == "meeting.invitation:\(Self.meetingId.lowercased):\(observer.id.lowercased):2")
        let calendar = try #require(request.attachments?.first?.calendar)
        #expect(calendar.method == "request" && calendar.sequence == 2 && calendar.uid == "\(Self.meetingId.lowercased)@meetings.convene")
        #expect(calendar.attendees == [.init(name: "参会者 1", email: "p1@example.com", role: "observer")])
        #expect(calendar.joinUrl == "https://meeting.tencent.com/dm/3" && calendar.timeZone == "Asia/Shanghai")
        #expect(calendar.organizer == .init(name: "王经理", email: "wang@example.com"))
        #expect(request.data["rsvpLink"] == .string("https://convene.example/v1/meeting-invitations/\(observer.id.lowercased)?token=token-1"))
        #expect(request.data["startLocal"] == .string("2026-12-01 14:00") && request.data["endLocal"] == .string("2026-12-01 15:10"))
        #expect(request.data["answerRequested"] == .bool(false), "only required attendees are asked to answer")
        #expect(request.data["role"] == .string("observer (sees the agenda, no speaking rights)"))
        guard case .array(let links)? = request.data["joinLinks"], case .object(let first)? = links.first else {
            Issue.record("join links")
            return
        }
        #expect(first["recommended"] == .bool(true) && first["url"] == .string("https://meeting.tencent.com/dm/3"))
        let required = notices.notice(.invitation, meeting: Self.meeting(), attendee: Self.attendee(2), links: [])
        #expect(required.data["answerRequested"] == .bool(true) && required.locale == "zh-CN", "the host's language by default")
        #expect(required.data["role"] == .string("必选参会"))
    }

    @Test("updates and cancellations keep the UID; their keys differ by version, by a new join link and by a removal")
    func updatesAndCancellations() throws {
        let person = Self.attendee(3)
        let update = notices.notice(.update(links: false), meeting: Self.meeting(sequence: 3), attendee: person, links: Self.links)
        #expect(update.templateKey == "meeting.invitation_updated")
        #expect(try #require(update.attachments?.first?.calendar).sequence == 3)
        let linked = notices.notice(.update(links: true), meeting: Self.meeting(sequence: 3), attendee: person, links: Self.links)
        let otherLink = notices.notice(.update(links: true), meeting: Self.meeting(sequence: 3), attendee: person, links: [Self.links[1]])
        var observer = person
        observer.role = "observer"
        let role = notices.notice(.roleChanged, meeting: Self.meeting(sequence: 3), attendee: observer, links: Self.links)
        observer.role = "required"
        observer.updatedAt = observer.updatedAt.addingTimeInterval(1)
        let back = notices.notice(.roleChanged, meeting: Self.meeting(sequence: 3), attendee: observer, links: Self.links)
        #expect(role.templateKey == "meeting.invitation_updated"
                && role.attachments?.first?.calendar?.attendees.first?.role == "observer")
        #expect(Set([update.idempotencyKey, linked.idempotencyKey, otherLink.idempotencyKey, role.idempotencyKey, back.idempotencyKey]).count == 5,
                "a role changed back and forth is told each time")
        let cancel = notices.notice(.cancellation(removed: false), meeting: Self.meeting(sequence: 4, cancelled: true), attendee: person,
                                    links: Self.links)
        let calendar = try #require(cancel.attachments?.first?.calendar)
        #expect(calendar.method == "cancel" && calendar.sequence == 4 && calendar.uid == "\(Self.meetingId.lowercased)@meetings.convene")
        #expect(cancel.templateKey == "meeting.invitation_cancelled" && cancel.data["rsvpLink"] == nil)
        #expect(cancel.data["reason"] == .string("改期"))
        let removed = notices.notice(.cancellation(removed: true), meeting: Self.meeting(sequence: 4), attendee: person, links: [])
        #expect(removed.idempotencyKey != cancel.idempotencyKey && removed.data["removed"] == .bool(true))
    }

    @Test("reminders go to everyone who has not declined, 500 to a request, keyed by timer and chunk; answer requests to required attendees who have not answered")
    func reminders() {
        var people = (0..<1203).map { Self.attendee($0, role: $0 % 3 == 0 ? "required" : "optional") }
        people[0].response = "declined"
        people[3].response = "accepted"
        people[1].response = "tentative"
        let requests = notices.reminders(Self.reminder(), meeting: Self.meeting(), attendees: people, links: Self.links)
        #expect(requests.map(\.recipients.count) == [500, 500, 202])
        #expect(requests.map(\.idempotencyKey) == (0..<3).map { "meeting.reminder:7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c5d:\($0)" })
        #expect(!requests.flatMap(\.recipients).contains { $0.email == "p0@example.com" }, "a declined attendee is not reminded")
        #expect(requests.allSatisfy { $0.templateKey == "meeting.reminder" && !$0.transactional && $0.data["kind"] == .string("reminder_24h") })
        let asks = notices.rsvpRequests(Self.reminder(), meeting: Self.meeting(), attendees: people, links: Self.links)
        #expect(asks.count == people.count { $0.role == "required" && $0.response == "pending" })
        #expect(!asks.contains { $0.recipients[0].email == "p3@example.com" || $0.recipients[0].email == "p0@example.com" })
        #expect(asks.first?.idempotencyKey == "meeting.rsvp_request:7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c5d:\(people[6].id.lowercased)")
        #expect(notices.reminders(Self.reminder(), meeting: Self.meeting(), attendees: [], links: []).isEmpty)
    }

    @Test("a reminder carries the agenda on the meeting's wall clock and the materials' names that scheduling sent with it")
    func reminderAgenda() throws {
        var reminder = Self.reminder("reminder_1h")
        reminder.agenda = [AgendaItem(startsAt: Self.start, endsAt: Self.start.addingTimeInterval(1800), topic: "回顾", owner: "李雷"),
                           AgendaItem(startsAt: Self.start.addingTimeInterval(1800), endsAt: Self.start.addingTimeInterval(4200),
                                      topic: "预算")]
        reminder.materials = ["预算.xlsx"]
        let request = try #require(notices.reminders(reminder, meeting: Self.meeting(), attendees: [Self.attendee(1, role: "optional")],
                                                     links: Self.links).first)
        #expect(request.data["agenda"] == .array([
            .object(["time": .string("14:00–14:30"), "topic": .string("回顾"), "owner": .string("李雷")]),
            .object(["time": .string("14:30–15:10"), "topic": .string("预算")]),
        ]))
        #expect(request.data["materials"] == .array([.object(["name": .string("预算.xlsx")])]))
        #expect(request.data["topic"] == .string("Q3 产品规划"), "the meeting's own topic stays")
        let bare = try #require(notices.reminders(Self.reminder(), meeting: Self.meeting(), attendees: [Self.attendee(1, role: "optional")],
                                                  links: Self.links).first)
        #expect(bare.data["agenda"] == nil && bare.data["materials"] == nil)
    }

    @Test("no reminder for a cancelled meeting, one that has started, or a timer that is no reminder")
    func whetherToRemind() {
        let before = Self.start.addingTimeInterval(-60)
        #expect(MeetingNotices.shouldRemind(Self.reminder(), meeting: Self.meeting(), now: before))
        #expect(!MeetingNotices.shouldRemind(Self.reminder(), meeting: Self.meeting(cancelled: true), now: before))
        #expect(!MeetingNotices.shouldRemind(Self.reminder(), meeting: Self.meeting(), now: Self.start))
        #expect(!MeetingNotices.shouldRemind(Self.reminder("start"), meeting: Self.meeting(), now: before))
    }

    @Test("answer tokens are long and random, and match only themselves")
    func tokens() {
        let a = RSVPToken.make(), b = RSVPToken.make()
        #expect(a != b && a.count == 43 && !a.contains("+") && !a.contains("/") && !a.contains("="))
        #expect(RSVPToken.matches(a, a) && !RSVPToken.matches(b, a) && !RSVPToken.matches(String(a.dropLast()), a))
        #expect(!RSVPToken.matches("", ""))
    }
}
