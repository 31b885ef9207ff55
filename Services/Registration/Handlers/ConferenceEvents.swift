import Contracts
import Foundation
import Persistence

/// `scheduling.meeting_scheduled` / `scheduling.meeting_updated`: registration keeps its own copy
/// of a published conference's title, times and registration window.
struct OnConferenceScheduled: MessageHandler {
    let store: RegistrationStore
    var messageType: String { MeetingScheduled.messageType }

    func handle(_ message: Envelope<MeetingScheduled>, context: HandlerContext) async throws -> Empty {
        let event = message.data
        guard event.kind == "conference", let organizationId = message.organizationId else { return Empty() }
        try await store.upsertConference(id: try RegistrationIds.parse(event.meetingId, "conference"), organizationId: organizationId,
                                         sequence: event.sequence, details: event.details, in: context.transaction)
        return Empty()
    }
}

struct OnConferenceUpdated: MessageHandler {
    let store: RegistrationStore
    var messageType: String { MeetingUpdated.messageType }

    func handle(_ message: Envelope<MeetingUpdated>, context: HandlerContext) async throws -> Empty {
        let event = message.data
        guard event.kind == "conference", let organizationId = message.organizationId else { return Empty() }
        try await store.upsertConference(id: try RegistrationIds.parse(event.meetingId, "conference"), organizationId: organizationId,
                                         sequence: event.sequence, details: event.details, in: context.transaction)
        return Empty()
    }
}

/// `scheduling.meeting_cancelled`: every registration in progress is cancelled by the organizer,
/// with a full refund of what was paid.
struct OnConferenceCancelled: MessageHandler {
    let store: RegistrationStore
    let flow: RegistrationFlow
    var messageType: String { MeetingCancelled.messageType }

    func handle(_ message: Envelope<MeetingCancelled>, context: HandlerContext) async throws -> Empty {
        let event = message.data
        guard event.kind == "conference" else { return Empty() }
        let id = try RegistrationIds.parse(event.meetingId, "conference")
        guard try await store.cancelConference(id: id, sequence: event.sequence, in: context.transaction),
              let settings = try await store.settings(conferenceId: id, lock: true, in: context.transaction),
              let conference = try await store.conference(id, in: context.transaction) else { return Empty() }
        let rules = try RegistrationFlow.Rules(settings)
        for record in try await store.active(conferenceId: id, in: context.transaction) {
            try await flow.apply(.cancel(by: "organizer", reason: event.reason), to: record, conference: conference, rules: rules,
                                 context: context, comment: event.reason)
        }
        return Empty()
    }
}
