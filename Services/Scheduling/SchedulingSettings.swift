import Foundation
import ServiceKit

/// The scheduling service's own settings (docs/configuration.md).
struct SchedulingSettings: Sendable, Equatable {
    /// How long before a conference's start each reminder falls due.
    var conferenceReminderOffsets: [Duration]
    /// The longest the timer worker sleeps without looking for due timers.
    var timerPollInterval: Duration
    /// The most timers one transaction fires.
    var timerBatchSize: Int

    static let defaultReminderOffsets: [Duration] = [.seconds(168 * 3600), .seconds(24 * 3600)]

    init(_ environment: [String: String]) throws {
        var env = EnvironmentReader(environment)
        // `none`: no reminders at all.
        conferenceReminderOffsets = environment["CONFERENCE_REMINDER_OFFSETS"]?.trimmingCharacters(in: .whitespaces) == "none"
            ? [] : env.durations("CONFERENCE_REMINDER_OFFSETS", default: Self.defaultReminderOffsets)
        env.check(conferenceReminderOffsets.count <= 10, "CONFERENCE_REMINDER_OFFSETS: at most 10 reminders")
        env.check(conferenceReminderOffsets.allSatisfy { $0 >= .seconds(1) && $0 <= .seconds(366 * 86_400) && $0.components.attoseconds == 0 },
                  "CONFERENCE_REMINDER_OFFSETS: each offset a whole number of seconds from 1s to 366d, e.g. 168h,24h")
        timerPollInterval = env.duration("TIMER_POLL_INTERVAL", default: .seconds(5))
        env.check(timerPollInterval >= .milliseconds(10) && timerPollInterval <= .seconds(300),
                  "TIMER_POLL_INTERVAL must be between 10ms and 5m")
        timerBatchSize = env.int("TIMER_BATCH_SIZE", default: 500, in: 1...5000)
        try env.validate()
    }
}
