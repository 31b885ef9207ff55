import Contracts
import Foundation
@testable import Scheduling
import Testing

@Suite("Enterprise meeting rules (pure)")
struct MeetingRulesTests {
    static let start = Date(timeIntervalSince1970: 1_796_086_800)  // 2026-12-01T01:00:00Z
    static let host = MeetingHost(accountId: "acc-1", name: "王芳", email: "wang@example.com", locale: "zh-CN")

    static func plan(type: String = "internal", topic: String = "季度经营分析会", minutes: Double = 120, zone: String = "Asia/Shanghai",
                     roomId: String? = nil, location: String? = "3F", platforms: [String] = ["zoom", "tencent"],
                     recommended: String? = "tencent") -> MeetingPlan {
        MeetingPlan(type: type, topic: topic, startsAt: start, endsAt: start.addingTimeInterval(minutes * 60), timeZone: zone,
                    roomId: roomId, location: location, host: host, platforms: platforms, recommendedPlatform: recommended)
    }

    @Test("a complete plan has no problems; a single platform is recommended by itself")
    func acceptable() {
        #expect(MeetingRules.problems(Self.plan()).isEmpty)
        #expect(MeetingRules.problems(Self.plan(type: "large_event", platforms: [], recommended: nil)).isEmpty)
        let single = MeetingRules.normalized(Self.plan(topic: "  Client visit ", platforms: ["dingtalk"], recommended: nil))
        #expect(single.recommendedPlatform == "dingtalk" && single.topic == "Client visit")
        #expect(MeetingRules.problems(single).isEmpty)
        #expect(MeetingRules.normalized(Self.plan(location: " ")).location == MeetingRules.multiPlatform,
                "online without a room or address: multi-platform")
        #expect(MeetingRules.normalized(Self.plan(roomId: "7d0c6a55-1f2e-4c3b-8a9d-0e1f2a3b4c60", location: nil)).location == nil,
                "a room names the place")
        #expect(MeetingRules.normalized(Self.plan(location: nil, platforms: [], recommended: nil)).location == nil)
    }

    @Test("every problem is reported by its field")
    func perField() {
        let problems = MeetingRules.problems(Self.plan(type: "webinar", topic: " ", minutes: -5, zone: "Beijing",
                                                       roomId: "room-1", platforms: ["zoom", "zoom", "skype"], recommended: "teams"))
        #expect(Set(problems.keys) == ["type", "topic", "endsAt", "timeZone", "roomId", "platforms", "recommendedPlatform"])
        #expect(MeetingRules.problems(Self.plan(platforms: ["zoom", "zoom"], recommended: "zoom"))["platforms"] == "no platform twice")
        #expect(MeetingRules.problems(Self.plan(recommended: "dingtalk"))["recommendedPlatform"] == "one of the meeting's platforms")
        #expect(MeetingRules.problems(Self.plan(recommended: nil))["recommendedPlatform"] != nil, "two platforms need a recommended one")
        #expect(MeetingRules.problems(Self.plan(minutes: 8 * 24 * 60))["endsAt"] == "at most 7 days after startsAt")
        #expect(MeetingRules.problems(Self.plan(location: nil, platforms: [], recommended: nil))["location"] != nil,
                "neither a room, a place nor a platform")
        var noMail = Self.plan()
        noMail.host.email = "nobody"
        #expect(MeetingRules.problems(noMail)["host"] != nil)
    }

    @Test("a meeting larger than its room is refused, naming both numbers")
    func capacity() {
        #expect(MeetingRules.problems(Self.plan(), expectedAttendees: 12, roomCapacity: 12).isEmpty)
        #expect(MeetingRules.problems(Self.plan(), expectedAttendees: 13, roomCapacity: 12)["expectedAttendees"]
                == "the room holds 12 people, 13 are expected")
        #expect(MeetingRules.problems(Self.plan(), expectedAttendees: 0)["expectedAttendees"] == "1 to 100,000")
    }

    @Test("join links: the recommended platform first, then the plan's order; platforms no longer planned left out")
    func joinLinkOrder() {
        let plan = Self.plan(platforms: ["zoom", "dingtalk", "tencent"], recommended: "tencent")
        let links = ["dingtalk", "tencent", "zoom"].map {
            MeetingJoinLink(platform: $0, joinUrl: "https://\($0).example/j/1", meetingNumber: "1", password: nil, recommended: false)
        } + [MeetingJoinLink(platform: "other", joinUrl: "https://x", meetingNumber: nil, password: nil, recommended: false)]
        let ordered = MeetingRules.ordered(links, plan: plan)
        #expect(ordered.map(\.platform) == ["tencent", "zoom", "dingtalk"])
        #expect(ordered.map(\.recommended) == [true, false, false])
    }
}

@Suite("Agenda rules (pure)")
struct AgendaRulesTests {
    let start = MeetingRulesTests.start
    var end: Date { start.addingTimeInterval(7200) }

    func item(_ from: Double, _ to: Double, _ topic: String = "议题") -> AgendaItem {
        AgendaItem(startsAt: start.addingTimeInterval(from * 60), endsAt: start.addingTimeInterval(to * 60), topic: topic, owner: "李雷")
    }

    @Test("items inside the meeting without overlaps are accepted, in any order; touching items do not overlap")
    func accepted() {
        let items = [item(60, 120), item(0, 30), item(30, 60)]
        #expect(AgendaRules.problems(items, startsAt: start, endsAt: end).isEmpty)
        #expect(AgendaRules.normalized(items).map(\.startsAt) == [0, 30, 60].map { start.addingTimeInterval($0 * 60) })
        #expect(AgendaRules.problems([], startsAt: start, endsAt: end).isEmpty, "an empty agenda clears it")
    }

    @Test("each transition of building an agenda is checked: adding inside, overlapping, outside, backwards, without a topic")
    func transitions() {
        var agenda = [item(0, 30)]
        #expect(AgendaRules.problems(agenda, startsAt: start, endsAt: end).isEmpty)
        agenda.append(item(30, 90))
        #expect(AgendaRules.problems(agenda, startsAt: start, endsAt: end).isEmpty)
        // An item overlapping the second is named, and names which it overlaps.
        #expect(AgendaRules.problems(agenda + [item(80, 100)], startsAt: start, endsAt: end) == ["items[2].startsAt": "overlaps items[1]"])
        // Starting before the meeting, or ending after it.
        #expect(AgendaRules.problems(agenda + [item(-10, 0)], startsAt: start, endsAt: end)["items[2].startsAt"] == "inside the meeting's time")
        #expect(AgendaRules.problems(agenda + [item(100, 121)], startsAt: start, endsAt: end)["items[2].startsAt"] == "inside the meeting's time")
        // Ending before it starts; no topic.
        #expect(AgendaRules.problems(agenda + [item(100, 95)], startsAt: start, endsAt: end)["items[2].endsAt"] == "after its startsAt")
        #expect(AgendaRules.problems(agenda + [item(90, 120, " ")], startsAt: start, endsAt: end) == ["items[2].topic": "1 to 300 characters"])
        agenda.append(item(90, 120))
        #expect(AgendaRules.problems(agenda, startsAt: start, endsAt: end).isEmpty, "the meeting filled exactly")
        // The meeting shortened below its agenda: the last item no longer fits.
        #expect(AgendaRules.problems(agenda, startsAt: start, endsAt: start.addingTimeInterval(100 * 60))["items[2].startsAt"] != nil)
    }
}

@Suite("Meeting lifecycle (pure)")
struct MeetingLifecycleTests {
    @Test("scheduled → live → ended announces started then ended, once each")
    func happyPath() throws {
        let live = try MeetingLifecycle.apply(.start, to: .scheduled)
        #expect(live == .init(status: .live, announcements: [.started]))
        #expect(try MeetingLifecycle.apply(.start, to: .live) == .init(status: .live, announcements: []), "the second start is a no-op")
        let ended = try MeetingLifecycle.apply(.end, to: .live)
        #expect(ended == .init(status: .ended, announcements: [.ended]))
        #expect(try MeetingLifecycle.apply(.end, to: .ended) == .init(status: .ended, announcements: []))
        #expect(try MeetingLifecycle.apply(.start, to: .ended) == .init(status: .ended, announcements: []), "a late start changes nothing")
    }

    @Test("an end before any start announces both, in order")
    func endFirst() throws {
        #expect(try MeetingLifecycle.apply(.end, to: .scheduled) == .init(status: .ended, announcements: [.started, .ended]))
    }

    @Test("only a scheduled meeting is changed or cancelled; a cancelled one ignores start and end")
    func cancelAndChange() throws {
        #expect(try MeetingLifecycle.apply(.cancel, to: .scheduled).status == .cancelled)
        #expect(try MeetingLifecycle.apply(.change, to: .scheduled).status == .scheduled)
        for status in [MeetingLifecycle.Status.live, .ended, .cancelled] {
            #expect(throws: ConveneError.self) { try MeetingLifecycle.apply(.cancel, to: status) }
            #expect(throws: ConveneError.self) { try MeetingLifecycle.apply(.change, to: status) }
        }
        #expect(try MeetingLifecycle.apply(.start, to: .cancelled) == .init(status: .cancelled, announcements: []))
        #expect(try MeetingLifecycle.apply(.end, to: .cancelled) == .init(status: .cancelled, announcements: []))
    }
}

@Suite("Planning an enterprise meeting's timers (pure)")
struct MeetingTimerPlanTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test("a scheduled meeting: reminders 24 h and 1 h before, the host's rehearsal 1 h before, its start and end")
    func scheduled() {
        let start = now.addingTimeInterval(3 * 86_400), end = start.addingTimeInterval(3600)
        let planned = MeetingTimers.meeting(startsAt: start, endsAt: end, status: .scheduled, now: now)
        #expect(planned == [
            .init(kind: "reminder_24h", dueAt: start.addingTimeInterval(-86_400)),
            .init(kind: "rehearsal_1h", dueAt: start.addingTimeInterval(-3600)),
            .init(kind: "reminder_1h", dueAt: start.addingTimeInterval(-3600)),
            .init(kind: "start", dueAt: start),
            .init(kind: "end", dueAt: end),
        ])
    }

    @Test("reminders already past or fired are left out; start and end are kept even when due (caught up on)")
    func pastAndFired() {
        let start = now.addingTimeInterval(1800), end = start.addingTimeInterval(3600)
        #expect(MeetingTimers.meeting(startsAt: start, endsAt: end, status: .scheduled, now: now).map(\.kind) == ["start", "end"])
        let soon = now.addingTimeInterval(7200)
        #expect(MeetingTimers.meeting(startsAt: soon, endsAt: soon.addingTimeInterval(60), status: .scheduled, now: now,
                                      fired: ["reminder_24h", "reminder_1h"]).map(\.kind) == ["rehearsal_1h", "start", "end"])
        let past = now.addingTimeInterval(-60)
        #expect(MeetingTimers.meeting(startsAt: past, endsAt: now.addingTimeInterval(60), status: .scheduled, now: now).map(\.kind)
                == ["start", "end"])
    }

    @Test("a live meeting keeps only its end; an ended or cancelled one nothing")
    func afterStart() {
        let start = now.addingTimeInterval(-60), end = now.addingTimeInterval(3600)
        #expect(MeetingTimers.meeting(startsAt: start, endsAt: end, status: .live, now: now) == [.init(kind: "end", dueAt: end)])
        #expect(MeetingTimers.meeting(startsAt: start, endsAt: end, status: .ended, now: now).isEmpty)
        #expect(MeetingTimers.meeting(startsAt: now.addingTimeInterval(86_400 * 3), endsAt: now.addingTimeInterval(86_400 * 4),
                                      status: .cancelled, now: now).isEmpty)
    }
}
