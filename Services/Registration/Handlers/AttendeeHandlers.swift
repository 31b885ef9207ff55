import Contracts
import Foundation
import Persistence

/// The organizer's side of a meeting's attendees (the envelope's organization must own the
/// meeting): add, change, remove, list, import, and the import template.
enum AttendeeRequest {
    /// The organization's meeting, locked for this transaction (see `MeetingStore.meeting`).
    static func meeting(_ raw: String, organizationId: String, store: MeetingStore, in tx: Transaction) async throws -> MeetingRecord {
        guard let id = UUID(uuidString: raw), let meeting = try await store.meeting(id, lock: true, in: tx),
              meeting.organizationId == organizationId else {
            throw ConveneError(code: "registration.not_found", message: "no such meeting (registration may not have heard of it yet)")
        }
        return meeting
    }

    static func writable(_ meeting: MeetingRecord) throws {
        if meeting.cancelled { throw ConveneError(code: "registration.invalid_state", message: "the meeting is cancelled") }
    }

    static func problem(_ problem: AttendeeRules.RowProblem, field: String? = nil) -> ConveneError {
        let path = field ?? ["missing_name": "name", "missing_email": "email", "invalid_email": "email",
                             "unknown_role": "role"][problem.reason] ?? "attendee"
        return ConveneError.invalid("registration.invalid_attendee", "the attendee",
                                    problems: [ValidationProblem(path: path, code: problem.reason, message: problem.message)])
    }
}

/// `registration.add_attendee`
struct AddAttendeeHandler: MessageHandler {
    let store: MeetingStore
    let meetings: MeetingEvents
    var messageType: String { AddAttendee.messageType }

    func handle(_ message: Envelope<AddAttendee>, context: HandlerContext) async throws -> AttendeeView {
        let organizationId = try message.requireOrganization()
        let meeting = try await AttendeeRequest.meeting(message.data.meetingId, organizationId: organizationId, store: store,
                                                        in: context.transaction)
        try AttendeeRequest.writable(meeting)
        let input: AttendeeInput
        switch AttendeeRules.clean(message.data.attendee) {
        case .success(let clean): input = clean
        case .failure(let problem): throw AttendeeRequest.problem(problem)
        }
        guard let record = try await store.insertAttendee(input, meetingId: meeting.id, organizationId: organizationId,
                                                          in: context.transaction) else {
            throw ConveneError(code: "registration.attendee_exists", message: "this address is already an attendee of the meeting")
        }
        try await meetings.invite([record], meeting: meeting, context: context)
        return try await store.attendee(record.id, meetingId: meeting.id, in: context.transaction)?.view ?? record.view
    }
}

/// `registration.update_attendee`: an invited attendee of a meeting still to come whose role
/// changes is sent the updated invitation (the calendar entry's ROLE changes with it).
struct UpdateAttendeeHandler: MessageHandler {
    let store: MeetingStore
    let notices: MeetingNotices
    var messageType: String { UpdateAttendee.messageType }

    func handle(_ message: Envelope<UpdateAttendee>, context: HandlerContext) async throws -> AttendeeView {
        let organizationId = try message.requireOrganization()
        let change = message.data
        let meeting = try await AttendeeRequest.meeting(change.meetingId, organizationId: organizationId, store: store,
                                                        in: context.transaction)
        guard let id = UUID(uuidString: change.attendeeId),
              var record = try await store.attendee(id, meetingId: meeting.id, forUpdate: true, in: context.transaction) else {
            throw ConveneError(code: "registration.not_found", message: "no such attendee")
        }
        let previousRole = record.role
        var input = AttendeeInput(name: change.name ?? record.name, email: record.email, phone: change.phone ?? record.phone,
                                  department: change.department ?? record.department, role: change.role ?? record.role,
                                  dingtalkUserId: change.dingtalkUserId ?? record.dingtalkUserId, locale: change.locale ?? record.locale)
        switch AttendeeRules.clean(input) {
        case .success(let clean): input = clean
        case .failure(let problem): throw AttendeeRequest.problem(problem)
        }
        record.name = input.name
        record.phone = input.phone
        record.department = input.department
        record.role = input.role ?? record.role
        record.dingtalkUserId = input.dingtalkUserId
        record.locale = input.locale
        let saved = try await store.saveAttendee(record, in: context.transaction)
        if saved.role != previousRole, saved.invitedSequence != nil, MeetingEvents.active(meeting) {
            let links = try await store.joinLinks(meeting.id, in: context.transaction)
            try await context.send(notices.notice(.roleChanged, meeting: meeting, attendee: saved, links: links),
                                   organizationId: organizationId)
        }
        return saved.view
    }
}

/// `registration.remove_attendee`: an invited attendee of a meeting still to come is sent the
/// cancelling calendar entry.
struct RemoveAttendeeHandler: MessageHandler {
    let store: MeetingStore
    let notices: MeetingNotices
    var messageType: String { RemoveAttendee.messageType }

    func handle(_ message: Envelope<RemoveAttendee>, context: HandlerContext) async throws -> Empty {
        let organizationId = try message.requireOrganization()
        let meeting = try await AttendeeRequest.meeting(message.data.meetingId, organizationId: organizationId, store: store,
                                                        in: context.transaction)
        guard let id = UUID(uuidString: message.data.attendeeId),
              let record = try await store.attendee(id, meetingId: meeting.id, forUpdate: true, in: context.transaction) else {
            throw ConveneError(code: "registration.not_found", message: "no such attendee")
        }
        try await store.deleteAttendee(id, in: context.transaction)
        if record.invitedSequence != nil && MeetingEvents.active(meeting) {
            let links = try await store.joinLinks(meeting.id, in: context.transaction)
            try await context.send(notices.notice(.cancellation(removed: true), meeting: meeting, attendee: record, links: links),
                                   organizationId: organizationId)
        }
        return Empty()
    }
}

/// `registration.list_attendees`
struct ListAttendeesHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { ListAttendees.messageType }

    func handle(_ message: Envelope<ListAttendees>, context: HandlerContext) async throws -> AttendeePage {
        let organizationId = try message.requireOrganization()
        let request = message.data
        guard let id = UUID(uuidString: request.meetingId), let meeting = try await store.meeting(id, in: context.transaction),
              meeting.organizationId == organizationId else {
            throw ConveneError(code: "registration.not_found", message: "no such meeting")
        }
        if let role = request.role, !AttendeeRole.all.contains(role) {
            throw ConveneError(code: "registration.invalid_filter", message: "role is one of \(AttendeeRole.all.joined(separator: ", "))")
        }
        let responses = [AttendeeResponse.pending] + AttendeeResponse.answers
        if let response = request.response, !responses.contains(response) {
            throw ConveneError(code: "registration.invalid_filter", message: "response is one of \(responses.joined(separator: ", "))")
        }
        var cursor: TimeCursor?
        if let after = request.after {
            guard let parsed = TimeCursor(after) else { throw ConveneError(code: "registration.invalid_cursor", message: "not a cursor") }
            cursor = parsed
        }
        let page = try await store.listAttendees(id, role: request.role, response: request.response,
                                                 limit: min(max(request.limit, 1), 500), after: cursor, in: context.transaction)
        return AttendeePage(items: page.items.map(\.view), next: page.next?.text)
    }
}

/// `registration.import_attendees`: every row is checked first; one rejected row (or a dry run)
/// applies nothing, otherwise all rows are applied in this one transaction. Attendees added to
/// a meeting still to come are invited.
struct ImportAttendeesHandler: MessageHandler {
    let store: MeetingStore
    let meetings: MeetingEvents
    var messageType: String { ImportAttendees.messageType }

    /// The largest file accepted (the gateway refuses larger ones before they get here).
    static let maximumBytes = 2 * 1024 * 1024

    func handle(_ message: Envelope<ImportAttendees>, context: HandlerContext) async throws -> AttendeeImportReport {
        let organizationId = try message.requireOrganization()
        let request = message.data
        let meeting = try await AttendeeRequest.meeting(request.meetingId, organizationId: organizationId, store: store,
                                                        in: context.transaction)
        try AttendeeRequest.writable(meeting)
        guard let bytes = Data(base64Encoded: request.body), !bytes.isEmpty else {
            throw ConveneError(code: "registration.invalid_file", message: "the file is empty or not base64")
        }
        guard bytes.count <= Self.maximumBytes else {
            throw ConveneError(code: "registration.invalid_file", message: "the file is larger than \(Self.maximumBytes) bytes")
        }
        let rows: [AttendeeImport.Row]
        do {
            rows = try AttendeeImport.rows(try AttendeeImport.table(format: request.format, bytes: Array(bytes)))
        } catch let problem as AttendeeImport.Problem {
            throw ConveneError(code: problem.code, message: problem.message)
        }
        let existing = try await store.attendeeEmails(meeting.id, in: context.transaction)
        var (report, apply) = AttendeeImport.plan(rows, existing: existing, dryRun: request.dryRun)
        guard report.rejected == 0, !request.dryRun else { return report }
        let stored = try await store.upsertAttendees(apply, meetingId: meeting.id, organizationId: organizationId,
                                                     in: context.transaction)
        try await meetings.invite(stored.filter(\.added).map(\.record), meeting: meeting, context: context)
        report.applied = true
        context.logger.info("attendees imported", metadata: [
            "meetingId": "\(meeting.id.lowercased)", "added": "\(report.added)", "updated": "\(report.updated)",
        ])
        return report
    }
}

/// `registration.sync_attendees`: a DingTalk department's current members applied in this one
/// transaction (the plan is `AttendeeSync`'s): new members added and invited, known ones
/// updated, members an earlier sync of the same department added who left removed (an invited
/// one is sent the cancelling calendar entry). Members without a usable address are reported
/// as skipped.
struct SyncAttendeesHandler: MessageHandler {
    let store: MeetingStore
    let meetings: MeetingEvents
    let notices: MeetingNotices
    var messageType: String { SyncAttendees.messageType }

    /// The most members one sync takes.
    static let maximumMembers = 5000

    func handle(_ message: Envelope<SyncAttendees>, context: HandlerContext) async throws -> AttendeeSyncReport {
        let organizationId = try message.requireOrganization()
        let request = message.data
        guard AttendeeSyncSource.all.contains(request.source) else {
            throw ConveneError(code: "registration.unknown_source", message: "source is one of \(AttendeeSyncSource.all.joined(separator: ", "))")
        }
        let sourceId = request.sourceId.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...64).contains(sourceId.count), !sourceId.contains(":") else {
            throw ConveneError(code: "registration.invalid_source", message: "the department id is 1 to 64 characters")
        }
        guard let role = AttendeeRules.role(request.role) else {
            throw ConveneError(code: "registration.unknown_role", message: "role is required, optional or observer")
        }
        guard request.members.count <= Self.maximumMembers else {
            throw ConveneError(code: "registration.too_many", message: "at most \(Self.maximumMembers) members per sync")
        }
        let meeting = try await AttendeeRequest.meeting(request.meetingId, organizationId: organizationId, store: store,
                                                        in: context.transaction)
        try AttendeeRequest.writable(meeting)
        let source = AttendeeSync.sourceKey(source: request.source, id: sourceId)
        let current = try await store.attendees(meeting.id, in: context.transaction)
        let records = Dictionary(uniqueKeysWithValues: current.map { ($0.id, $0) })
        let plan = AttendeeSync.plan(members: request.members,
                                     existing: current.map { AttendeeSync.Existing(id: $0.id, email: $0.email, name: $0.name,
                                                                   dingtalkUserId: $0.dingtalkUserId, syncSource: $0.syncSource) },
                                     source: source, role: role)
        var rows: [AttendeeSyncReport.Row] = []
        var added: [AttendeeRecord] = []
        for input in plan.add {
            guard let record = try await store.insertAttendee(input, meetingId: meeting.id, organizationId: organizationId,
                                                              syncSource: source, in: context.transaction) else { continue }
            added.append(record)
            rows.append(.init(outcome: "added", name: record.name, email: record.email, dingtalkUserId: record.dingtalkUserId,
                              attendeeId: record.id.lowercased))
        }
        for update in plan.update {
            guard var record = records[update.id] else { continue }
            record.name = update.name
            record.phone = update.phone ?? record.phone
            record.dingtalkUserId = update.dingtalkUserId
            let saved = try await store.saveAttendee(record, in: context.transaction)
            rows.append(.init(outcome: "updated", name: saved.name, email: saved.email, dingtalkUserId: saved.dingtalkUserId,
                              attendeeId: saved.id.lowercased))
        }
        var links: [JoinLinkRecord] = []
        if MeetingEvents.active(meeting) { links = try await store.joinLinks(meeting.id, in: context.transaction) }
        for id in plan.remove {
            guard let record = records[id] else { continue }
            try await store.deleteAttendee(id, in: context.transaction)
            if record.invitedSequence != nil && MeetingEvents.active(meeting) {
                try await context.send(notices.notice(.cancellation(removed: true), meeting: meeting, attendee: record, links: links),
                                       organizationId: organizationId)
            }
            rows.append(.init(outcome: "removed", name: record.name, email: record.email, dingtalkUserId: record.dingtalkUserId,
                              attendeeId: record.id.lowercased))
        }
        try await meetings.invite(added, meeting: meeting, context: context)
        rows += plan.skipped
        let report = AttendeeSyncReport(source: source, added: added.count, updated: plan.update.count, removed: plan.remove.count,
                                        skipped: plan.skipped.count, rows: rows)
        context.logger.info("attendees synced", metadata: [
            "meetingId": "\(meeting.id.lowercased)", "source": "\(source)", "added": "\(report.added)", "updated": "\(report.updated)",
            "removed": "\(report.removed)", "skipped": "\(report.skipped)",
        ])
        return report
    }
}

/// `registration.attendee_template`
struct AttendeeTemplateHandler: MessageHandler {
    var messageType: String { GetAttendeeTemplate.messageType }

    func handle(_ message: Envelope<GetAttendeeTemplate>, context: HandlerContext) async throws -> ExportedFile {
        try AttendeeImport.template(format: message.data.format)
    }
}

// MARK: Attendees themselves

/// An attendee's view of their meeting.
enum InvitationView {
    static func make(_ meeting: MeetingRecord, _ attendee: AttendeeRecord, links: [JoinLinkRecord]) -> InvitedMeeting {
        let plan = meeting.plan
        return InvitedMeeting(meetingId: meeting.id.lowercased, organizationId: meeting.organizationId, attendeeId: attendee.id.lowercased,
                              type: plan.type, topic: plan.topic, description: plan.description, startsAt: plan.startsAt,
                              endsAt: plan.endsAt, timeZone: plan.timeZone, location: plan.location, hostName: plan.host.name,
                              status: meeting.cancelled ? "cancelled" : "scheduled", sequence: meeting.sequence, role: attendee.role,
                              response: attendee.response, respondedAt: attendee.respondedAt,
                              joinLinks: MeetingNotices.joinLinks(meeting, links))
    }

    static func email(_ raw: String?) throws -> String {
        guard let raw, let email = AttendeeRules.email(raw) else {
            throw ConveneError(code: "registration.not_found", message: "no such invitation")
        }
        return email
    }
}

/// `registration.list_my_meetings`
struct ListMyMeetingsHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { ListMyMeetings.messageType }

    func handle(_ message: Envelope<ListMyMeetings>, context: HandlerContext) async throws -> InvitedMeetingPage {
        let request = message.data
        guard let email = AttendeeRules.email(request.email) else { return InvitedMeetingPage(items: [], next: nil) }
        var cursor: TimeCursor?
        if let after = request.after {
            guard let parsed = TimeCursor(after) else { throw ConveneError(code: "registration.invalid_cursor", message: "not a cursor") }
            cursor = parsed
        }
        let page = try await store.invitations(email: email, includePast: request.includePast, limit: min(max(request.limit, 1), 100),
                                               after: cursor, in: context.transaction)
        var items: [InvitedMeeting] = []
        for (meeting, attendee) in page.items {
            items.append(InvitationView.make(meeting, attendee, links: try await store.joinLinks(meeting.id, in: context.transaction)))
        }
        return InvitedMeetingPage(items: items, next: page.next?.text)
    }
}

/// `registration.get_invitation`: the invitation an answer link names (a wrong token is as
/// unknown as a wrong id).
struct GetInvitationHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { GetInvitation.messageType }

    func handle(_ message: Envelope<GetInvitation>, context: HandlerContext) async throws -> InvitedMeeting {
        let (meeting, attendee) = try await RespondToInvitationHandler.byToken(message.data.attendeeId, token: message.data.token,
                                                                               store: store, in: context.transaction)
        return InvitationView.make(meeting, attendee, links: try await store.joinLinks(meeting.id, in: context.transaction))
    }
}

/// `registration.respond_to_invitation`: accept, decline or tentative, by the signed-in
/// attendee or through the invitation mail's link; publishes `registration.attendee_responded`.
struct RespondToInvitationHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { RespondToInvitation.messageType }

    static func byToken(_ rawId: String, token: String, store: MeetingStore,
                        in tx: Transaction) async throws -> (MeetingRecord, AttendeeRecord) {
        guard let id = UUID(uuidString: rawId), let attendee = try await store.attendee(id, meetingId: nil, in: tx),
              RSVPToken.matches(token, attendee.rsvpToken),
              let meeting = try await store.meeting(attendee.meetingId, in: tx) else {
            throw ConveneError(code: "registration.not_found", message: "no such invitation")
        }
        return (meeting, attendee)
    }

    func handle(_ message: Envelope<RespondToInvitation>, context: HandlerContext) async throws -> InvitedMeeting {
        let request = message.data
        guard let response = AttendeeRules.answer(request.response) else {
            throw ConveneError(code: "registration.invalid_response", message: "the answer is accepted, declined or tentative")
        }
        let comment = AttendeeRules.optional(request.comment).map { String($0.prefix(500)) }
        let meeting: MeetingRecord
        let attendee: AttendeeRecord
        if let attendeeId = request.attendeeId, let token = request.token {
            (meeting, attendee) = try await Self.byToken(attendeeId, token: token, store: store, in: context.transaction)
        } else {
            let email = try InvitationView.email(request.email)
            guard let raw = request.meetingId, let id = UUID(uuidString: raw),
                  let found = try await store.meeting(id, in: context.transaction),
                  let invited = try await store.attendee(meetingId: id, email: email, in: context.transaction) else {
                throw ConveneError(code: "registration.not_found", message: "no such invitation")
            }
            (meeting, attendee) = (found, invited)
        }
        guard MeetingEvents.active(meeting) else {
            throw ConveneError(code: "registration.invalid_state", message: "the meeting is cancelled or over")
        }
        let answered = try await store.respond(attendee.id, response: response, comment: comment, in: context.transaction)
        if answered.response != attendee.response || attendee.respondedAt == nil {
            try await context.publish(AttendeeResponded(meetingId: meeting.id.lowercased, attendeeId: answered.id.lowercased,
                                                        email: answered.email, role: answered.role, response: answered.response,
                                                        respondedAt: answered.respondedAt ?? Date()),
                                      organizationId: meeting.organizationId)
        }
        return InvitationView.make(meeting, answered, links: try await store.joinLinks(meeting.id, in: context.transaction))
    }
}
