import Contracts
import Foundation

/// The reminder before a conference (`conference.reminder`): who gets it and what the notification
/// service is asked to send. A reminder goes to the registrations confirmed when it falls due, in
/// `notification.send` requests of at most `chunkSize` recipients each, whose idempotency keys
/// name the timer and the chunk.
enum ConferenceReminder {
    static let templateKey = "conference.reminder"
    /// Participants may opt out of reminders (they are not transactional).
    static let category = "conference.reminder"
    static let chunkSize = 500

    /// Whether a conference reminder is still worth sending at `now`: a conference that was
    /// cancelled, or that has started (the reminder was caught up on too late), gets none.
    static func shouldSend(_ reminder: ReminderDue, cancelled: Bool, now: Date) -> Bool {
        reminder.meetingKind == "conference" && reminder.kind.hasPrefix("reminder_") && !cancelled && now < reminder.startsAt
    }

    /// The requests for `registrants` (in a stable order, so a chunk always holds the same people).
    static func requests(for reminder: ReminderDue, registrants: [Payer], chunkSize: Int = chunkSize,
                         link: String? = nil) -> [SendNotification] {
        guard chunkSize > 0 else { return [] }
        var data: [String: JSONValue] = [
            "conferenceId": .string(reminder.meetingId), "conferenceTitle": .string(reminder.title),
            "conferenceStartLocal": .string(reminder.startLocal), "timeZone": .string(reminder.timeZone),
            "startsAt": .string(ISO8601.format(reminder.startsAt)),
        ]
        if let venue = reminder.venue { data["venue"] = .string(venue) }
        if let platform = reminder.onlinePlatform { data["onlinePlatform"] = .string(platform) }
        if let link { data["link"] = .string(link) }
        return stride(from: 0, to: registrants.count, by: chunkSize).map { start in
            let chunk = registrants[start..<min(start + chunkSize, registrants.count)]
            return SendNotification(
                idempotencyKey: "conference.reminder:\(reminder.timerId):\(start / chunkSize)", category: category,
                transactional: false, templateKey: templateKey, data: data,
                recipients: chunk.map { .init(accountId: $0.accountId, email: $0.email, name: $0.name, locale: $0.locale) },
                channels: ["email", "inbox"])
        }
    }
}
