import Contracts
import Foundation
import Persistence

/// Enterprise meetings (internal, client, large event): registration's copy of each from
/// scheduling's events, its join links from platform-bridge's, and the mails their attendees are
/// sent when any of it changes. The conference handlers (ConferenceEvents.swift) hand every
/// event of another kind here.
struct MeetingEvents: Sendable {
    let store: MeetingStore
    let notices: MeetingNotices

    /// `scheduling.meeting_scheduled` / `meeting_updated` of an enterprise meeting: the copy is
    /// kept (the highest sequence wins) and its attendees are invited, or sent the updated
    /// invitation when they were invited to an earlier version.
    func planned(meetingId: String, organizationId: String?, sequence: Int, plan: MeetingPlan?, context: HandlerContext) async throws {
        guard let plan, let organizationId, let id = UUID(uuidString: meetingId) else {
            context.logger.warning("enterprise meeting event without its plan, organization or a valid id; ignored",
                                   metadata: ["meetingId": "\(meetingId)"])
            return
        }
        let applied = try await store.upsertMeeting(id: id, organizationId: organizationId, sequence: sequence, plan: plan,
                                                    in: context.transaction)
        guard applied != .stale, let meeting = try await store.meeting(id, lock: true, in: context.transaction) else { return }
        try await sync(meeting, context: context)
    }

    /// `scheduling.meeting_cancelled` of an enterprise meeting: every attendee who was invited
    /// gets the cancelling calendar entry.
    func cancelled(meetingId: String, sequence: Int, reason: String, context: HandlerContext) async throws {
        guard let id = UUID(uuidString: meetingId),
              try await store.cancelMeeting(id: id, sequence: sequence, reason: reason, in: context.transaction),
              let meeting = try await store.meeting(id, lock: true, in: context.transaction) else { return }
        let links = try await store.joinLinks(id, in: context.transaction)
        for attendee in try await store.attendees(id, in: context.transaction) where attendee.invitedSequence != nil {
            try await context.send(notices.notice(.cancellation(removed: false), meeting: meeting, attendee: attendee, links: links),
                                   organizationId: meeting.organizationId)
        }
    }

    /// `scheduling.reminder_due` of an enterprise meeting: the reminder to every attendee who
    /// has not declined (in chunks), and the request to answer to every required attendee who
    /// has not answered. The inbox makes a redelivered event a no-op; the keys make a
    /// re-published one send nothing twice.
    func reminder(_ reminder: ReminderDue, context: HandlerContext) async throws {
        guard let id = UUID(uuidString: reminder.meetingId),
              let meeting = try await store.meeting(id, in: context.transaction) else {
            context.logger.info("reminder for a meeting registration does not know; nobody to remind",
                                metadata: ["meetingId": "\(reminder.meetingId)"])
            return
        }
        guard MeetingNotices.shouldRemind(reminder, meeting: meeting, now: Date()) else {
            context.logger.notice("meeting reminder not sent: cancelled or already started",
                                  metadata: ["meetingId": "\(reminder.meetingId)", "kind": "\(reminder.kind)"])
            return
        }
        let attendees = try await store.attendees(id, in: context.transaction)
        let links = try await store.joinLinks(id, in: context.transaction)
        let requests = notices.reminders(reminder, meeting: meeting, attendees: attendees, links: links)
            + notices.rsvpRequests(reminder, meeting: meeting, attendees: attendees, links: links)
        for request in requests { try await context.send(request, organizationId: meeting.organizationId) }
        context.logger.info("meeting reminder requested", metadata: [
            "meetingId": "\(reminder.meetingId)", "kind": "\(reminder.kind)", "requests": "\(requests.count)",
        ])
    }

    /// Invitations for a meeting whose plan changed (or was first seen): the first invitation to
    /// whoever has none, the updated one to whoever was invited to an earlier sequence.
    func sync(_ meeting: MeetingRecord, context: HandlerContext) async throws {
        guard Self.active(meeting) else { return }
        let links = try await store.joinLinks(meeting.id, in: context.transaction)
        var invited: [UUID] = []
        for attendee in try await store.attendees(meeting.id, in: context.transaction) {
            if attendee.invitedSequence == nil {
                try await context.send(notices.notice(.invitation, meeting: meeting, attendee: attendee, links: links),
                                       organizationId: meeting.organizationId)
            } else if attendee.invitedSequence! < meeting.sequence {
                try await context.send(notices.notice(.update(links: false), meeting: meeting, attendee: attendee, links: links),
                                       organizationId: meeting.organizationId)
            } else {
                continue
            }
            invited.append(attendee.id)
        }
        try await store.markInvited(invited, sequence: meeting.sequence, joinURL: MeetingNotices.primaryJoinURL(meeting, links),
                                    in: context.transaction)
    }

    /// The first invitation to attendees just added.
    func invite(_ attendees: [AttendeeRecord], meeting: MeetingRecord, context: HandlerContext) async throws {
        guard Self.active(meeting), !attendees.isEmpty else { return }
        let links = try await store.joinLinks(meeting.id, in: context.transaction)
        for attendee in attendees {
            try await context.send(notices.notice(.invitation, meeting: meeting, attendee: attendee, links: links),
                                   organizationId: meeting.organizationId)
        }
        try await store.markInvited(attendees.map(\.id), sequence: meeting.sequence,
                                    joinURL: MeetingNotices.primaryJoinURL(meeting, links), in: context.transaction)
    }

    /// `platform.meeting_provisioned`: the link is kept; when it changes the link invited
    /// attendees were last sent (the recommended platform's, or the first known), they are sent
    /// the updated invitation with it.
    func provisioned(_ link: MeetingProvisioned, context: HandlerContext) async throws {
        guard try await store.upsertJoinLink(link, in: context.transaction), let id = UUID(uuidString: link.meetingId),
              let meeting = try await store.meeting(id, lock: true, in: context.transaction), Self.active(meeting) else { return }
        let links = try await store.joinLinks(id, in: context.transaction)
        let primary = MeetingNotices.primaryJoinURL(meeting, links)
        var updated: [UUID] = []
        for attendee in try await store.attendees(id, in: context.transaction)
        where attendee.invitedSequence == meeting.sequence && attendee.invitedJoinURL != primary {
            try await context.send(notices.notice(.update(links: true), meeting: meeting, attendee: attendee, links: links),
                                   organizationId: meeting.organizationId)
            updated.append(attendee.id)
        }
        try await store.markInvited(updated, sequence: meeting.sequence, joinURL: primary, in: context.transaction)
    }

    /// Whether attendees are still mailed about it: not cancelled and not over.
    static func active(_ meeting: MeetingRecord, now: Date = Date()) -> Bool {
        !meeting.cancelled && now < meeting.plan.endsAt
    }
}

/// `platform.meeting_provisioned`
struct OnMeetingProvisioned: MessageHandler {
    let meetings: MeetingEvents
    var messageType: String { MeetingProvisioned.messageType }

    func handle(_ message: Envelope<MeetingProvisioned>, context: HandlerContext) async throws -> Empty {
        try await meetings.provisioned(message.data, context: context)
        return Empty()
    }
}
