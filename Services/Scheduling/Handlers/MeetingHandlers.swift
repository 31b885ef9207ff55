import Contracts
import Foundation
import Persistence

enum MeetingRequest {
    static func id(_ raw: String) throws -> UUID {
        guard let id = UUID(uuidString: raw) else { throw notFound }
        return id
    }

    static let notFound = ConveneError(code: "scheduling.not_found", message: "no such meeting")
    static let roomNotFound = ConveneError(code: "scheduling.not_found", message: "no such room")

    /// The plan checked against the rules and the room (the organization's; its capacity).
    static func check(_ plan: MeetingPlan, expectedAttendees: Int?, organizationId: String, store: MeetingStore,
                      now: Date, in tx: Transaction) async throws -> MeetingPlan {
        var plan = MeetingRules.normalized(plan)
        var problems = MeetingRules.problems(plan, expectedAttendees: expectedAttendees)
        if problems["startsAt"] == nil && plan.startsAt <= now { problems["startsAt"] = "in the future" }
        if problems.isEmpty, let raw = plan.roomId {
            guard let room = try await store.room(try id(raw), organizationId: organizationId, lock: "share", in: tx) else {
                throw ConveneError(code: "scheduling.invalid_meeting", message: "roomId: no such room of the organization",
                                   details: ["roomId": "no such room of the organization"])
            }
            plan.roomId = room.id
            if plan.location?.isEmpty ?? true { plan.location = room.location.map { "\(room.name), \($0)" } ?? room.name }
            problems = MeetingRules.problems(plan, expectedAttendees: expectedAttendees, roomCapacity: room.capacity)
        }
        guard problems.isEmpty else { throw invalid(problems) }
        return plan
    }

    static func invalid(_ problems: [String: String], code: String = "scheduling.invalid_meeting") -> ConveneError {
        ConveneError(code: code, message: problems.keys.sorted().map { "\($0): \(problems[$0]!)" }.joined(separator: "; "),
                     details: problems)
    }

    static func status(_ view: MeetingView) -> MeetingLifecycle.Status {
        MeetingLifecycle.Status(rawValue: view.status) ?? .cancelled
    }
}

/// Plans an enterprise meeting's timers in the transaction of the change, with its row locked.
struct MeetingTimerPlanning: Sendable {
    let store: TimerStore

    func plan(_ meeting: MeetingView, now: Date = Date(), in tx: Transaction) async throws {
        let id = try MeetingRequest.id(meeting.id)
        let fired = try await store.firedKinds(meetingId: id, in: tx)
        let planned = MeetingTimers.meeting(startsAt: meeting.plan.startsAt, endsAt: meeting.plan.endsAt,
                                            status: MeetingRequest.status(meeting), now: now, fired: fired)
        try await store.replace(meetingId: id, with: planned, in: tx)
    }
}

/// `scheduling.create_meeting`: scheduled at once, `scheduling.meeting_scheduled` with the plan,
/// timers planned.
struct CreateMeetingHandler: MessageHandler {
    let store: MeetingStore
    let timers: MeetingTimerPlanning
    var messageType: String { CreateMeeting.messageType }

    func handle(_ message: Envelope<CreateMeeting>, context: HandlerContext) async throws -> MeetingView {
        let organizationId = try message.requireOrganization()
        let plan = try await MeetingRequest.check(message.data.plan, expectedAttendees: message.data.expectedAttendees,
                                                  organizationId: organizationId, store: store, now: Date(), in: context.transaction)
        let id = UUID()
        try await store.insert(id: id, organizationId: organizationId, plan: plan, expectedAttendees: message.data.expectedAttendees,
                               createdBy: message.data.createdBy, in: context.transaction)
        let view = try await store.find(id, organizationId: organizationId, in: context.transaction)!
        try await timers.plan(view, in: context.transaction)
        try await context.publish(MeetingScheduled(meetingId: view.id, sequence: view.sequence, meeting: view.plan),
                                  organizationId: organizationId)
        return view
    }
}

/// `scheduling.update_meeting`: a scheduled meeting's new plan; `scheduling.meeting_updated`;
/// pending timers move with the times.
struct UpdateMeetingHandler: MessageHandler {
    let store: MeetingStore
    let timers: MeetingTimerPlanning
    var messageType: String { UpdateMeeting.messageType }

    func handle(_ message: Envelope<UpdateMeeting>, context: HandlerContext) async throws -> MeetingView {
        let organizationId = try message.requireOrganization()
        let id = try MeetingRequest.id(message.data.id)
        guard let current = try await store.find(id, organizationId: organizationId, forUpdate: true, in: context.transaction) else {
            throw MeetingRequest.notFound
        }
        _ = try MeetingLifecycle.apply(.change, to: MeetingRequest.status(current))
        if let expected = message.data.expectedSequence, expected != current.sequence {
            throw ConveneError(code: "scheduling.invalid_state",
                               message: "the meeting changed meanwhile (now at sequence \(current.sequence)); read it again")
        }
        let plan = try await MeetingRequest.check(message.data.plan, expectedAttendees: message.data.expectedAttendees,
                                                  organizationId: organizationId, store: store, now: Date(), in: context.transaction)
        if !current.agenda.isEmpty {
            let problems = AgendaRules.problems(current.agenda, startsAt: plan.startsAt, endsAt: plan.endsAt)
            guard problems.isEmpty else {
                throw ConveneError(code: "scheduling.invalid_meeting",
                                   message: "startsAt: the agenda would no longer fit; change the agenda first",
                                   details: ["startsAt": "the agenda would no longer fit inside the meeting; change the agenda first"])
            }
        }
        try await store.update(id, plan: plan, expectedAttendees: message.data.expectedAttendees, in: context.transaction)
        let updated = try await store.find(id, organizationId: organizationId, in: context.transaction)!
        try await timers.plan(updated, in: context.transaction)
        try await context.publish(MeetingUpdated(meetingId: updated.id, sequence: updated.sequence, meeting: updated.plan),
                                  organizationId: organizationId)
        return updated
    }
}

/// `scheduling.cancel_meeting`: `scheduling.meeting_cancelled`; pending timers removed; the room
/// is free again.
struct CancelMeetingHandler: MessageHandler {
    let store: MeetingStore
    let timers: MeetingTimerPlanning
    var messageType: String { CancelMeeting.messageType }

    func handle(_ message: Envelope<CancelMeeting>, context: HandlerContext) async throws -> MeetingView {
        let organizationId = try message.requireOrganization()
        let id = try MeetingRequest.id(message.data.id)
        let reason = message.data.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...1000).contains(reason.count) else {
            throw MeetingRequest.invalid(["reason": "1 to 1,000 characters"])
        }
        guard let current = try await store.find(id, organizationId: organizationId, forUpdate: true, in: context.transaction) else {
            throw MeetingRequest.notFound
        }
        let outcome = try MeetingLifecycle.apply(.cancel, to: MeetingRequest.status(current))
        try await store.setStatus(id, outcome.status, at: Date(), reason: reason, in: context.transaction)
        let cancelled = try await store.find(id, organizationId: organizationId, in: context.transaction)!
        try await timers.plan(cancelled, in: context.transaction)
        try await context.publish(MeetingCancelled(meetingId: cancelled.id, kind: cancelled.plan.type, sequence: cancelled.sequence,
                                                   reason: reason), organizationId: organizationId)
        return cancelled
    }
}

/// `scheduling.get_meeting`
struct GetMeetingHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { GetMeeting.messageType }

    func handle(_ message: Envelope<GetMeeting>, context: HandlerContext) async throws -> MeetingView {
        let organizationId = try message.requireOrganization()
        guard let view = try await store.find(try MeetingRequest.id(message.data.id), organizationId: organizationId,
                                              in: context.transaction) else { throw MeetingRequest.notFound }
        return view
    }
}

/// `scheduling.list_meetings`
struct ListMeetingsHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { ListMeetings.messageType }

    func handle(_ message: Envelope<ListMeetings>, context: HandlerContext) async throws -> MeetingPage {
        try await store.page(organizationId: try message.requireOrganization(), limit: min(max(message.data.limit, 1), 100),
                             after: message.data.after, in: context.transaction)
    }
}

/// `scheduling.set_agenda`: replaces a scheduled meeting's agenda; `scheduling.meeting_updated`
/// (with a higher sequence) so attendees can be told.
struct SetAgendaHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { SetAgenda.messageType }

    func handle(_ message: Envelope<SetAgenda>, context: HandlerContext) async throws -> MeetingView {
        let organizationId = try message.requireOrganization()
        let id = try MeetingRequest.id(message.data.meetingId)
        guard let current = try await store.find(id, organizationId: organizationId, forUpdate: true, in: context.transaction) else {
            throw MeetingRequest.notFound
        }
        _ = try MeetingLifecycle.apply(.change, to: MeetingRequest.status(current))
        let problems = AgendaRules.problems(message.data.items, startsAt: current.plan.startsAt, endsAt: current.plan.endsAt)
        guard problems.isEmpty else { throw MeetingRequest.invalid(problems, code: "scheduling.invalid_agenda") }
        try await store.setAgenda(id, items: AgendaRules.normalized(message.data.items), in: context.transaction)
        let updated = try await store.find(id, organizationId: organizationId, in: context.transaction)!
        try await context.publish(MeetingUpdated(meetingId: updated.id, sequence: updated.sequence, meeting: updated.plan),
                                  organizationId: organizationId)
        return updated
    }
}

/// `scheduling.add_material`: a file attached to a meeting that is not cancelled.
struct AddMaterialHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { AddMaterial.messageType }

    func handle(_ message: Envelope<AddMaterial>, context: HandlerContext) async throws -> MeetingMaterial {
        let organizationId = try message.requireOrganization()
        let id = try MeetingRequest.id(message.data.meetingId)
        guard let current = try await store.find(id, organizationId: organizationId, forUpdate: true, in: context.transaction) else {
            throw MeetingRequest.notFound
        }
        guard MeetingRequest.status(current) != .cancelled else {
            throw ConveneError(code: "scheduling.invalid_state", message: "a cancelled meeting takes no materials")
        }
        var problems: [String: String] = [:]
        let name = message.data.name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 255 { problems["name"] = "1 to 255 characters" }
        if message.data.blobKey.isEmpty || message.data.blobKey.count > 200 { problems["blobKey"] = "a stored file's key" }
        if current.materials.count >= 50 { problems["materials"] = "at most 50 materials per meeting" }
        guard problems.isEmpty else { throw MeetingRequest.invalid(problems, code: "scheduling.invalid_material") }
        var material = message.data
        material.name = name
        return try await store.addMaterial(material, id: UUID(), meetingId: id, in: context.transaction)
    }
}

// MARK: Rooms

enum RoomRules {
    static func problems(name: String?, capacity: Int?, location: String?) -> [String: String] {
        var problems: [String: String] = [:]
        if let name, name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || name.count > 200 {
            problems["name"] = "1 to 200 characters"
        }
        if let capacity, !(1...100_000).contains(capacity) { problems["capacity"] = "1 to 100,000" }
        if let location, location.count > 500 { problems["location"] = "at most 500 characters" }
        return problems
    }
}

struct CreateRoomHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { CreateRoom.messageType }

    func handle(_ message: Envelope<CreateRoom>, context: HandlerContext) async throws -> MeetingRoom {
        let organizationId = try message.requireOrganization()
        let problems = RoomRules.problems(name: message.data.name, capacity: message.data.capacity, location: message.data.location)
        guard problems.isEmpty else { throw MeetingRequest.invalid(problems, code: "scheduling.invalid_room") }
        return try await store.insertRoom(id: UUID(), organizationId: organizationId,
                                          name: message.data.name.trimmingCharacters(in: .whitespacesAndNewlines),
                                          capacity: message.data.capacity, location: message.data.location, in: context.transaction)
    }
}

struct UpdateRoomHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { UpdateRoom.messageType }

    func handle(_ message: Envelope<UpdateRoom>, context: HandlerContext) async throws -> MeetingRoom {
        let organizationId = try message.requireOrganization()
        let problems = RoomRules.problems(name: message.data.name, capacity: message.data.capacity, location: message.data.location)
        guard problems.isEmpty else { throw MeetingRequest.invalid(problems, code: "scheduling.invalid_room") }
        let id = try MeetingRequest.id(message.data.id)
        guard try await store.room(id, organizationId: organizationId, lock: "update", in: context.transaction) != nil else {
            throw MeetingRequest.roomNotFound
        }
        // Not smaller than a meeting still to be held in it expects (meetings planned meanwhile wait for this lock).
        if let capacity = message.data.capacity,
           let larger = try await store.largerThan(capacity, inRoom: id, in: context.transaction) {
            throw MeetingRequest.invalid(["capacity": "meeting \(larger.id) “\(larger.topic)” in this room expects \(larger.expected) people"],
                                         code: "scheduling.invalid_room")
        }
        guard let room = try await store.updateRoom(id, organizationId: organizationId,
                                                    name: message.data.name?.trimmingCharacters(in: .whitespacesAndNewlines),
                                                    capacity: message.data.capacity, location: message.data.location,
                                                    in: context.transaction)
        else { throw MeetingRequest.roomNotFound }
        return room
    }
}

struct ListRoomsHandler: MessageHandler {
    let store: MeetingStore
    var messageType: String { ListRooms.messageType }

    func handle(_ message: Envelope<ListRooms>, context: HandlerContext) async throws -> MeetingRoomList {
        MeetingRoomList(items: try await store.rooms(organizationId: try message.requireOrganization(), in: context.transaction))
    }
}

// MARK: Platform events

/// `platform.meeting_provisioned`: keeps the platform's join link (an older sequence than the one
/// kept is ignored).
struct OnMeetingProvisioned: MessageHandler {
    let store: MeetingStore
    var messageType: String { MeetingProvisioned.messageType }

    func handle(_ message: Envelope<MeetingProvisioned>, context: HandlerContext) async throws -> Empty {
        guard let id = UUID(uuidString: message.data.meetingId) else { return Empty() }
        try await store.recordLink(meetingId: id, platform: message.data.platform, sequence: message.data.sequence,
                                   provisioned: message.data, failure: nil, in: context.transaction)
        return Empty()
    }
}

/// `platform.provisioning_failed`: recorded per platform so the organizer sees it with the meeting.
struct OnProvisioningFailed: MessageHandler {
    let store: MeetingStore
    var messageType: String { ProvisioningFailed.messageType }

    func handle(_ message: Envelope<ProvisioningFailed>, context: HandlerContext) async throws -> Empty {
        guard let id = UUID(uuidString: message.data.meetingId) else { return Empty() }
        try await store.recordLink(meetingId: id, platform: message.data.platform, sequence: message.data.sequence,
                                   provisioned: nil, failure: message.data, in: context.transaction)
        return Empty()
    }
}

/// Moves a meeting's lifecycle on a start or end signal (timer or platform webhook), announcing
/// `scheduling.meeting_started` / `scheduling.meeting_ended` once each.
struct MeetingTransitions: Sendable {
    let store: MeetingStore
    let timers: MeetingTimerPlanning

    func apply(_ signal: MeetingLifecycle.Signal, meetingId: UUID, at: Date, trigger: String, context: HandlerContext) async throws {
        guard let current = try await store.find(meetingId, organizationId: nil, forUpdate: true, in: context.transaction) else {
            return
        }
        let outcome = try MeetingLifecycle.apply(signal, to: MeetingRequest.status(current))
        guard outcome.status != MeetingRequest.status(current) else { return }
        try await store.setStatus(meetingId, outcome.status, at: at, in: context.transaction)
        let updated = try await store.find(meetingId, organizationId: nil, in: context.transaction)!
        try await timers.plan(updated, in: context.transaction)
        for announcement in outcome.announcements {
            switch announcement {
            case .started:
                try await context.publish(MeetingStarted(meetingId: updated.id, kind: updated.plan.type, sequence: updated.sequence,
                                                         at: updated.startedAt ?? at, trigger: trigger),
                                          organizationId: updated.organizationId)
            case .ended:
                try await context.publish(MeetingEnded(meetingId: updated.id, kind: updated.plan.type, sequence: updated.sequence,
                                                       at: at, trigger: trigger), organizationId: updated.organizationId)
            }
        }
    }
}

struct OnPlatformMeetingStarted: MessageHandler {
    let transitions: MeetingTransitions
    var messageType: String { PlatformMeetingStarted.messageType }

    func handle(_ message: Envelope<PlatformMeetingStarted>, context: HandlerContext) async throws -> Empty {
        guard let id = UUID(uuidString: message.data.meetingId) else { return Empty() }
        try await transitions.apply(.start, meetingId: id, at: message.data.at, trigger: message.data.platform, context: context)
        return Empty()
    }
}

struct OnPlatformMeetingEnded: MessageHandler {
    let transitions: MeetingTransitions
    var messageType: String { PlatformMeetingEnded.messageType }

    func handle(_ message: Envelope<PlatformMeetingEnded>, context: HandlerContext) async throws -> Empty {
        guard let id = UUID(uuidString: message.data.meetingId) else { return Empty() }
        try await transitions.apply(.end, meetingId: id, at: message.data.at, trigger: message.data.platform, context: context)
        return Empty()
    }
}
