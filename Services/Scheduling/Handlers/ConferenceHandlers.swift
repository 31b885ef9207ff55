import Contracts
import Foundation
import Persistence

extension Envelope {
    /// The organization a request acts for; requests without one are refused.
    func requireOrganization() throws -> String {
        guard let organizationId, !organizationId.isEmpty else {
            throw ConveneError(code: "scheduling.organization_required", message: "the request names no organization")
        }
        return organizationId
    }
}

enum ConferenceRequest {
    static func id(_ raw: String) throws -> UUID {
        guard let id = UUID(uuidString: raw) else { throw notFound }
        return id
    }

    static let notFound = ConveneError(code: "scheduling.not_found", message: "no such conference")

    static func check(_ details: ConferenceDetails) throws {
        let problems = ConferenceRules.problems(details)
        guard problems.isEmpty else {
            throw ConveneError(code: "scheduling.invalid_conference",
                               message: problems.keys.sorted().map { "\($0): \(problems[$0]!)" }.joined(separator: "; "),
                               details: problems)
        }
    }
}

/// Plans a conference's timers (its reminders) in the transaction of the change that asks for it,
/// with the conference row locked: publishing plans them, a change of a published conference's
/// start moves them, a cancellation removes those that have not fired.
struct ConferenceTimerPlanning: Sendable {
    let store: TimerStore
    let reminderOffsets: [Duration]

    func plan(_ conference: ConferenceView, now: Date = Date(), in tx: Transaction) async throws {
        let id = try ConferenceRequest.id(conference.id)
        let status = ConferenceRules.Status(rawValue: conference.status) ?? .cancelled
        let fired = status == .published ? try await store.firedKinds(meetingId: id, in: tx) : []
        let planned = MeetingTimers.conference(startsAt: conference.details.startsAt, status: status, now: now,
                                               reminderOffsets: reminderOffsets, fired: fired)
        try await store.replace(meetingId: id, with: planned, in: tx)
    }
}

/// `scheduling.create_conference`: a draft, visible to its organization only.
struct CreateConferenceHandler: MessageHandler {
    let store: ConferenceStore
    var messageType: String { CreateConference.messageType }

    func handle(_ message: Envelope<CreateConference>, context: HandlerContext) async throws -> ConferenceView {
        let organizationId = try message.requireOrganization()
        try ConferenceRequest.check(message.data.details)
        let id = UUID()
        try await store.insert(id: id, organizationId: organizationId, details: message.data.details,
                               createdBy: message.data.createdBy, in: context.transaction)
        return try await store.find(id, organizationId: organizationId, in: context.transaction)!
    }
}

/// `scheduling.update_conference`: a published conference's change is announced with the new
/// sequence; a changed start moves its pending reminders.
struct UpdateConferenceHandler: MessageHandler {
    let store: ConferenceStore
    let timers: ConferenceTimerPlanning
    var messageType: String { UpdateConference.messageType }

    func handle(_ message: Envelope<UpdateConference>, context: HandlerContext) async throws -> ConferenceView {
        let organizationId = try message.requireOrganization()
        let id = try ConferenceRequest.id(message.data.id)
        guard let current = try await store.find(id, organizationId: organizationId, forUpdate: true, in: context.transaction) else {
            throw ConferenceRequest.notFound
        }
        let status = ConferenceRules.Status(rawValue: current.status) ?? .cancelled
        _ = try ConferenceRules.apply(.update, to: status, startsAt: current.details.startsAt, now: Date())
        try ConferenceRequest.check(message.data.details)
        try await store.update(id, details: message.data.details, in: context.transaction)
        let updated = try await store.find(id, organizationId: organizationId, in: context.transaction)!
        if status == .published {
            if updated.details.startsAt != current.details.startsAt {
                try await timers.plan(updated, in: context.transaction)
            }
            try await context.publish(MeetingUpdated(meetingId: updated.id, kind: "conference", sequence: updated.sequence,
                                                     details: updated.details), organizationId: organizationId)
        }
        return updated
    }
}

/// `scheduling.publish_conference`: visible to participants; `scheduling.meeting_scheduled`; its
/// reminders are planned.
struct PublishConferenceHandler: MessageHandler {
    let store: ConferenceStore
    let timers: ConferenceTimerPlanning
    var messageType: String { PublishConference.messageType }

    func handle(_ message: Envelope<PublishConference>, context: HandlerContext) async throws -> ConferenceView {
        let organizationId = try message.requireOrganization()
        let id = try ConferenceRequest.id(message.data.id)
        guard let current = try await store.find(id, organizationId: organizationId, forUpdate: true, in: context.transaction) else {
            throw ConferenceRequest.notFound
        }
        let status = ConferenceRules.Status(rawValue: current.status) ?? .cancelled
        _ = try ConferenceRules.apply(.publish, to: status, startsAt: current.details.startsAt, now: Date())
        try await store.setStatus(id, .published, in: context.transaction)
        let published = try await store.find(id, organizationId: organizationId, in: context.transaction)!
        try await timers.plan(published, in: context.transaction)
        try await context.publish(MeetingScheduled(meetingId: published.id, kind: "conference", sequence: published.sequence,
                                                   details: published.details), organizationId: organizationId)
        return published
    }
}

/// `scheduling.cancel_conference`: `scheduling.meeting_cancelled` when it had been published; its
/// reminders that have not fired are removed.
struct CancelConferenceHandler: MessageHandler {
    let store: ConferenceStore
    let timers: ConferenceTimerPlanning
    var messageType: String { CancelConference.messageType }

    func handle(_ message: Envelope<CancelConference>, context: HandlerContext) async throws -> ConferenceView {
        let organizationId = try message.requireOrganization()
        let id = try ConferenceRequest.id(message.data.id)
        let reason = message.data.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...1000).contains(reason.count) else {
            throw ConveneError(code: "scheduling.invalid_conference", message: "reason: 1 to 1,000 characters",
                               details: ["reason": "1 to 1,000 characters"])
        }
        guard let current = try await store.find(id, organizationId: organizationId, forUpdate: true, in: context.transaction) else {
            throw ConferenceRequest.notFound
        }
        let status = ConferenceRules.Status(rawValue: current.status) ?? .cancelled
        _ = try ConferenceRules.apply(.cancel, to: status, startsAt: current.details.startsAt, now: Date())
        try await store.setStatus(id, .cancelled, reason: reason, in: context.transaction)
        let cancelled = try await store.find(id, organizationId: organizationId, in: context.transaction)!
        try await timers.plan(cancelled, in: context.transaction)
        if current.publishedAt != nil {
            try await context.publish(MeetingCancelled(meetingId: cancelled.id, kind: "conference", sequence: cancelled.sequence,
                                                       reason: reason), organizationId: organizationId)
        }
        return cancelled
    }
}

/// `scheduling.get_conference`
struct GetConferenceHandler: MessageHandler {
    let store: ConferenceStore
    var messageType: String { GetConference.messageType }

    func handle(_ message: Envelope<GetConference>, context: HandlerContext) async throws -> ConferenceView {
        guard let view = try await store.find(try ConferenceRequest.id(message.data.id), organizationId: message.organizationId,
                                              in: context.transaction) else { throw ConferenceRequest.notFound }
        return view
    }
}

/// `scheduling.list_conferences`
struct ListConferencesHandler: MessageHandler {
    let store: ConferenceStore
    var messageType: String { ListConferences.messageType }

    func handle(_ message: Envelope<ListConferences>, context: HandlerContext) async throws -> ConferencePage {
        try await store.page(organizationId: message.organizationId, limit: min(max(message.data.limit, 1), 100),
                             after: message.data.after, in: context.transaction)
    }
}
