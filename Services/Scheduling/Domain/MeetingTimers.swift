import Foundation

/// Which timers a meeting should have: pure, so planning is tested without a database. The
/// store makes the meeting's unfired timers exactly the plan (`TimerStore.replace`), in the
/// transaction of the change that asked for it.
enum MeetingTimers {
    /// A timer the meeting should have: at most one unfired of each `kind` per meeting.
    struct Planned: Equatable, Sendable {
        var kind: String
        var dueAt: Date
    }

    /// The reminders of a conference: one per offset before its start, for a published conference
    /// only, and only those still ahead of `now` (a reminder whose time passed before it was
    /// planned is not sent late) and not `fired` already (each reminder goes out once, even when
    /// the start moves afterwards). Earliest first; an offset given twice plans one reminder.
    static func conference(startsAt: Date, status: ConferenceRules.Status, now: Date, reminderOffsets: [Duration],
                           fired: Set<String> = []) -> [Planned] {
        guard status == .published else { return [] }
        var planned: [String: Planned] = [:]
        for offset in reminderOffsets where offset > .zero {
            let due = startsAt.addingTimeInterval(-offset.seconds)
            guard due > now, !fired.contains(reminderKind(before: offset)) else { continue }
            planned[reminderKind(before: offset)] = Planned(kind: reminderKind(before: offset), dueAt: due)
        }
        return planned.values.sorted { ($0.dueAt, $0.kind) < ($1.dueAt, $1.kind) }
    }

    /// The reminders before an enterprise meeting (attendees are reminded by registration).
    static let meetingReminderOffsets: [Duration] = [.seconds(24 * 3600), .seconds(3600)]
    /// The host's rehearsal reminder, before the start.
    static let rehearsalOffset: Duration = .seconds(3600)
    static let rehearsalKind = "rehearsal_1h"
    static let startKind = "start"
    static let endKind = "end"

    /// The timers of an enterprise meeting: while scheduled, a reminder 24 h and 1 h before its
    /// start and the host's rehearsal reminder 1 h before, each only while still ahead of `now`
    /// and not `fired` already; its start and end transitions while they can still happen (these
    /// are planned even when already due, so a transition missed while the service was down is
    /// caught up on). A live meeting has its end only; an ended or cancelled one none.
    static func meeting(startsAt: Date, endsAt: Date, status: MeetingLifecycle.Status, now: Date,
                        fired: Set<String> = []) -> [Planned] {
        var planned: [Planned] = []
        switch status {
        case .scheduled:
            for offset in meetingReminderOffsets {
                let due = startsAt.addingTimeInterval(-offset.seconds)
                let kind = reminderKind(before: offset)
                if due > now, !fired.contains(kind) { planned.append(Planned(kind: kind, dueAt: due)) }
            }
            let rehearsal = startsAt.addingTimeInterval(-rehearsalOffset.seconds)
            if rehearsal > now, !fired.contains(rehearsalKind) { planned.append(Planned(kind: rehearsalKind, dueAt: rehearsal)) }
            if !fired.contains(startKind) { planned.append(Planned(kind: startKind, dueAt: startsAt)) }
            if !fired.contains(endKind) { planned.append(Planned(kind: endKind, dueAt: endsAt)) }
        case .live:
            if !fired.contains(endKind) { planned.append(Planned(kind: endKind, dueAt: endsAt)) }
        case .ended, .cancelled:
            break
        }
        return planned.sorted { ($0.dueAt, $0.kind) < ($1.dueAt, $1.kind) }
    }

    /// `reminder_168h`, `reminder_90m`, `reminder_45s`: the offset in the largest whole unit.
    static func reminderKind(before offset: Duration) -> String {
        let seconds = offset.components.seconds
        if seconds % 3600 == 0 { return "reminder_\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "reminder_\(seconds / 60)m" }
        return "reminder_\(seconds)s"
    }

    /// Whether a timer kind is a reminder (and goes out as `scheduling.reminder_due`).
    static func isReminder(_ kind: String) -> Bool { kind.hasPrefix("reminder_") }

    /// `2026-12-01 09:00`: an instant on the wall clock of `zone`, as people there read it.
    static func wallClock(_ date: Date, zone: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: zone) ?? .gmt
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}

extension Duration {
    /// Whole and fractional seconds, for date arithmetic.
    var seconds: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
