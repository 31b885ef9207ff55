import Foundation
@testable import Scheduling
import Testing

@Suite("Planning a conference's timers")
struct MeetingTimersTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)
    let week = Duration.seconds(168 * 3600), day = Duration.seconds(24 * 3600)

    @Test("a published conference gets a reminder per offset before its start, earliest first")
    func offsets() {
        let start = now.addingTimeInterval(30 * 86_400)
        let planned = MeetingTimers.conference(startsAt: start, status: .published, now: now, reminderOffsets: [day, week])
        #expect(planned == [
            .init(kind: "reminder_168h", dueAt: start.addingTimeInterval(-7 * 86_400)),
            .init(kind: "reminder_24h", dueAt: start.addingTimeInterval(-86_400)),
        ])
    }

    @Test("a reminder whose time has passed when it is planned is left out, not sent late")
    func pastRemindersSkipped() {
        let start = now.addingTimeInterval(3 * 86_400)
        let planned = MeetingTimers.conference(startsAt: start, status: .published, now: now, reminderOffsets: [week, day])
        #expect(planned.map(\.kind) == ["reminder_24h"])
        let exactlyNow = MeetingTimers.conference(startsAt: now.addingTimeInterval(86_400), status: .published, now: now,
                                                  reminderOffsets: [day])
        #expect(exactlyNow.isEmpty, "due exactly now is already past")
        #expect(MeetingTimers.conference(startsAt: now.addingTimeInterval(-60), status: .published, now: now,
                                         reminderOffsets: [week, day]).isEmpty)
    }

    @Test("a draft or a cancelled conference has no timers (planning a cancellation removes them)")
    func onlyPublished() {
        let start = now.addingTimeInterval(30 * 86_400)
        #expect(MeetingTimers.conference(startsAt: start, status: .draft, now: now, reminderOffsets: [week, day]).isEmpty)
        #expect(MeetingTimers.conference(startsAt: start, status: .cancelled, now: now, reminderOffsets: [week, day]).isEmpty)
    }

    @Test("a moved start moves each reminder with it under the same kind")
    func rescheduling() {
        let start = now.addingTimeInterval(30 * 86_400)
        let before = MeetingTimers.conference(startsAt: start, status: .published, now: now, reminderOffsets: [week, day])
        let moved = start.addingTimeInterval(2 * 86_400 + 1800)
        let after = MeetingTimers.conference(startsAt: moved, status: .published, now: now, reminderOffsets: [week, day])
        #expect(after.map(\.kind) == before.map(\.kind))
        #expect(zip(before, after).allSatisfy { $1.dueAt.timeIntervalSince($0.dueAt) == 2 * 86_400 + 1800 })
        // Moved so close that the week's reminder has passed: only the day's remains.
        let soon = MeetingTimers.conference(startsAt: now.addingTimeInterval(2 * 86_400), status: .published, now: now,
                                            reminderOffsets: [week, day])
        #expect(soon.map(\.kind) == ["reminder_24h"])
        // A reminder that went out for the old start does not go out again for the new one.
        let afterFiring = MeetingTimers.conference(startsAt: moved, status: .published, now: now, reminderOffsets: [week, day],
                                                   fired: ["reminder_168h"])
        #expect(afterFiring == [.init(kind: "reminder_24h", dueAt: moved.addingTimeInterval(-86_400))])
    }

    @Test("kinds name the offset in its largest whole unit; an offset given twice plans one reminder; none plans nothing")
    func kinds() {
        #expect(MeetingTimers.reminderKind(before: .seconds(168 * 3600)) == "reminder_168h")
        #expect(MeetingTimers.reminderKind(before: .seconds(90 * 60)) == "reminder_90m")
        #expect(MeetingTimers.reminderKind(before: .seconds(45)) == "reminder_45s")
        let start = now.addingTimeInterval(30 * 86_400)
        #expect(MeetingTimers.conference(startsAt: start, status: .published, now: now,
                                         reminderOffsets: [day, .seconds(86_400), .seconds(1440 * 60)]).count == 1)
        #expect(MeetingTimers.conference(startsAt: start, status: .published, now: now, reminderOffsets: []).isEmpty)
    }

    @Test("a start is shown on the wall clock of the conference's zone")
    func wallClock() {
        let start = Date(timeIntervalSince1970: 1_796_086_800)  // 2026-12-01T01:00:00Z
        #expect(MeetingTimers.wallClock(start, zone: "Asia/Shanghai") == "2026-12-01 09:00")
        #expect(MeetingTimers.wallClock(start, zone: "America/New_York") == "2026-11-30 20:00")
    }
}

@Suite("Scheduling settings")
struct SchedulingSettingsTests {
    @Test("reminders default to a week and a day before the start; the offsets, poll interval and batch are configurable")
    func defaults() throws {
        let defaults = try SchedulingSettings([:])
        #expect(defaults.conferenceReminderOffsets == [.seconds(168 * 3600), .seconds(24 * 3600)])
        #expect(defaults.timerPollInterval == .seconds(5) && defaults.timerBatchSize == 500)
        let set = try SchedulingSettings(["CONFERENCE_REMINDER_OFFSETS": "48h, 2h,30m", "TIMER_POLL_INTERVAL": "250ms",
                                          "TIMER_BATCH_SIZE": "50"])
        #expect(set.conferenceReminderOffsets == [.seconds(48 * 3600), .seconds(7200), .seconds(1800)])
        #expect(set.timerPollInterval == .milliseconds(250) && set.timerBatchSize == 50)
        #expect(try SchedulingSettings(["CONFERENCE_REMINDER_OFFSETS": "none"]).conferenceReminderOffsets.isEmpty)
    }

    @Test("bad settings are refused with every problem named")
    func refused() {
        #expect {
            try SchedulingSettings(["CONFERENCE_REMINDER_OFFSETS": "24h,soon", "TIMER_BATCH_SIZE": "0"])
        } throws: { error in
            let text = "\(error)"
            return text.contains("CONFERENCE_REMINDER_OFFSETS") && text.contains("TIMER_BATCH_SIZE")
        }
        #expect(throws: (any Error).self) { try SchedulingSettings(["CONFERENCE_REMINDER_OFFSETS": "500ms"]) }
        #expect(throws: (any Error).self) { try SchedulingSettings(["TIMER_POLL_INTERVAL": "1h"]) }
    }
}
