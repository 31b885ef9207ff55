import Contracts
import Foundation
import Messaging
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
        let requests = try await store.attendees(id, in: context.transaction).filter { $0.invitedSequence != nil }.map {
            notices.notice(.cancellation(removed: false), meeting: meeting, attendee: $0, links: links)
        }
        try await context.send(all: requests, organizationId: meeting.organizationId)
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
        try await context.send(all: requests, organizationId: meeting.organizationId)
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
        var requests: [SendNotification] = []
        for attendee in try await store.attendees(meeting.id, in: context.transaction) {
            if let sequence = attendee.invitedSequence {
                guard sequence < meeting.sequence else { continue }
                requests.append(notices.notice(.update(links: false), meeting: meeting, attendee: attendee, links: links))
            } else {
                requests.append(notices.notice(.invitation, meeting: meeting, attendee: attendee, links: links))
            }
            invited.append(attendee.id)
        }
        try await context.send(all: requests, organizationId: meeting.organizationId)
        try await store.markInvited(invited, sequence: meeting.sequence, joinURL: MeetingNotices.primaryJoinURL(meeting, links),
                                    in: context.transaction)
    }

    /// The first invitation to attendees just added.
    func invite(_ attendees: [AttendeeRecord], meeting: MeetingRecord, context: HandlerContext) async throws {
        guard Self.active(meeting), !attendees.isEmpty else { return }
        let links = try await store.joinLinks(meeting.id, in: context.transaction)
        try await context.send(all: attendees.map { notices.notice(.invitation, meeting: meeting, attendee: $0, links: links) },
                               organizationId: meeting.organizationId)
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
        let stale = try await store.attendees(id, in: context.transaction).filter {
            $0.invitedSequence == meeting.sequence && $0.invitedJoinURL != primary
        }
        try await context.send(all: stale.map { notices.notice(.update(links: true), meeting: meeting, attendee: $0, links: links) },
                               organizationId: meeting.organizationId)
        try await store.markInvited(stale.map(\.id), sequence: meeting.sequence, joinURL: primary, in: context.transaction)
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

extension HandlerContext {
    /// Sends many commands of one type in one statement (`Transaction.outbox` of a list), each
    /// caused by and correlated with the message handled, as `send` would: an import of thousands
    /// of attendees asks for their invitations in one round trip, not thousands.
    func send<P: MessagePayload>(all payloads: [P], organizationId: String?) async throws {
        guard !payloads.isEmpty else { return }
        let header = message.header
        let envelopes = payloads.map { payload in
            Envelope(type: P.messageType, version: P.version, source: service,
                     correlationId: header.correlationId ?? header.id.uuidString.lowercased(),
                     causationId: header.id.uuidString.lowercased(), organizationId: organizationId ?? header.organizationId,
                     data: payload)
        }
        for start in stride(from: 0, to: envelopes.count, by: 1000) {
            try await transaction.outbox(Array(envelopes[start..<min(start + 1000, envelopes.count)]), exchange: Exchange.commands)
        }
    }
}
