import Contracts
import Foundation
import Persistence

/// `scheduling.meeting_scheduled` / `scheduling.meeting_updated`: registration keeps its own copy
/// of a published conference's title, times and registration window; an enterprise meeting's
/// (internal, client, large event) goes to `MeetingEvents`.
struct OnConferenceScheduled: MessageHandler {
    let store: RegistrationStore
    let meetings: MeetingEvents
    var messageType: String { MeetingScheduled.messageType }

    func handle(_ message: Envelope<MeetingScheduled>, context: HandlerContext) async throws -> Empty {
        let event = message.data
        if MeetingNotices.kinds.contains(event.kind) {
            try await meetings.planned(meetingId: event.meetingId, organizationId: message.organizationId, sequence: event.sequence,
                                       plan: event.meeting, context: context)
            return Empty()
        }
        guard event.kind == "conference", let details = event.details, let organizationId = message.organizationId else { return Empty() }
        try await store.upsertConference(id: try RegistrationIds.parse(event.meetingId, "conference"), organizationId: organizationId,
                                         sequence: event.sequence, details: details, in: context.transaction)
        return Empty()
    }
}

struct OnConferenceUpdated: MessageHandler {
    let store: RegistrationStore
    let meetings: MeetingEvents
    var messageType: String { MeetingUpdated.messageType }

    func handle(_ message: Envelope<MeetingUpdated>, context: HandlerContext) async throws -> Empty {
        let event = message.data
        if MeetingNotices.kinds.contains(event.kind) {
            try await meetings.planned(meetingId: event.meetingId, organizationId: message.organizationId, sequence: event.sequence,
                                       plan: event.meeting, context: context)
            return Empty()
        }
        guard event.kind == "conference", let details = event.details, let organizationId = message.organizationId else { return Empty() }
        try await store.upsertConference(id: try RegistrationIds.parse(event.meetingId, "conference"), organizationId: organizationId,
                                         sequence: event.sequence, details: details, in: context.transaction)
        return Empty()
    }
}

/// `scheduling.meeting_cancelled`: every registration in progress is cancelled by the organizer,
/// with a full refund of what was paid. An enterprise meeting's attendees are sent the
/// cancellation (`MeetingEvents`).
struct OnConferenceCancelled: MessageHandler {
    let store: RegistrationStore
    let flow: RegistrationFlow
    let meetings: MeetingEvents
    var messageType: String { MeetingCancelled.messageType }

    func handle(_ message: Envelope<MeetingCancelled>, context: HandlerContext) async throws -> Empty {
        let event = message.data
        if MeetingNotices.kinds.contains(event.kind) {
            try await meetings.cancelled(meetingId: event.meetingId, sequence: event.sequence, reason: event.reason, context: context)
            return Empty()
        }
        guard event.kind == "conference" else { return Empty() }
        let id = try RegistrationIds.parse(event.meetingId, "conference")
        guard try await store.cancelConference(id: id, sequence: event.sequence, in: context.transaction),
              let settings = try await store.settings(conferenceId: id, lock: .exclusive, in: context.transaction),
              let conference = try await store.conference(id, in: context.transaction) else { return Empty() }
        let rules = try RegistrationFlow.Rules(settings)
        for record in try await store.active(conferenceId: id, in: context.transaction) {
            try await flow.apply(.cancel(by: "organizer", reason: event.reason), to: record, conference: conference, rules: rules,
                                 context: context, comment: event.reason)
        }
        return Empty()
    }
}

/// `scheduling.reminder_due` of a conference's reminder: the registrants confirmed at that moment
/// are asked to be reminded (`conference.reminder`), through `notification.send` requests of at
/// most 500 recipients each, committed with this event's inbox row, so the reminder is asked for
/// once however often the event arrives. An enterprise meeting's reminders go to its attendees
/// (`MeetingEvents.reminder`); other kinds' are not registration's.
struct OnReminderDue: MessageHandler {
    let store: RegistrationStore
    let meetings: MeetingEvents
    var messageType: String { ReminderDue.messageType }

    func handle(_ message: Envelope<ReminderDue>, context: HandlerContext) async throws -> Empty {
        let reminder = message.data
        if MeetingNotices.kinds.contains(reminder.meetingKind) {
            try await meetings.reminder(reminder, context: context)
            return Empty()
        }
        guard reminder.meetingKind == "conference" else { return Empty() }
        let id = try RegistrationIds.parse(reminder.meetingId, "conference")
        guard let conference = try await store.conference(id, in: context.transaction) else {
            context.logger.info("reminder for a conference registration does not know; nobody to remind",
                                metadata: ["conferenceId": "\(reminder.meetingId)"])
            return Empty()
        }
        guard ConferenceReminder.shouldSend(reminder, cancelled: conference.cancelled, now: Date()) else {
            context.logger.notice("conference reminder not sent: cancelled or already started", metadata: [
                "conferenceId": "\(reminder.meetingId)", "kind": "\(reminder.kind)",
            ])
            return Empty()
        }
        let registrants = try await store.confirmedRegistrants(conferenceId: id, in: context.transaction)
        for request in ConferenceReminder.requests(for: reminder, registrants: registrants) {
            try await context.send(request, organizationId: conference.organizationId)
        }
        context.logger.info("conference reminder requested", metadata: [
            "conferenceId": "\(reminder.meetingId)", "kind": "\(reminder.kind)", "recipients": "\(registrants.count)",
        ])
        return Empty()
    }
}
