import Foundation

// Enterprise meetings kept by `scheduling` (requests from the gateway and the lifecycle events),
// beside the plan and the platform events of Meeting.swift.

/// One agenda item of a meeting: inside the meeting's time, not overlapping another.
public struct AgendaItem: Codable, Sendable, Equatable {
    public var startsAt: Date
    public var endsAt: Date
    public var topic: String
    /// Who leads the item (a name as people know it).
    public var owner: String?
    public init(startsAt: Date, endsAt: Date, topic: String, owner: String? = nil) {
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.topic = topic
        self.owner = owner
    }
}

/// A file attached to a meeting (slides, PDF, spreadsheet, document): a blob the gateway stored
/// on upload, referenced by its key.
public struct MeetingMaterial: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var contentType: String
    public var size: Int64
    public var blobKey: String
    public var addedBy: String
    public var addedAt: Date
    public init(id: String, name: String, contentType: String, size: Int64, blobKey: String, addedBy: String, addedAt: Date) {
        self.id = id
        self.name = name
        self.contentType = contentType
        self.size = size
        self.blobKey = blobKey
        self.addedBy = addedBy
        self.addedAt = addedAt
    }
}

/// Where and how to join a meeting on one platform, as platform-bridge provisioned it.
public struct MeetingJoinLink: Codable, Sendable, Equatable {
    public var platform: String
    public var joinUrl: String
    public var meetingNumber: String?
    public var password: String?
    /// Whether it is the meeting's recommended platform (listed first).
    public var recommended: Bool
    public init(platform: String, joinUrl: String, meetingNumber: String?, password: String?, recommended: Bool) {
        self.platform = platform
        self.joinUrl = joinUrl
        self.meetingNumber = meetingNumber
        self.password = password
        self.recommended = recommended
    }
}

/// A platform on which provisioning failed (the organizer sees it with the meeting).
public struct MeetingProvisioningFailure: Codable, Sendable, Equatable {
    public var platform: String
    public var reason: String
    public var message: String
    public var sequence: Int
    public init(platform: String, reason: String, message: String, sequence: Int) {
        self.platform = platform
        self.reason = reason
        self.message = message
        self.sequence = sequence
    }
}

/// An enterprise meeting as `scheduling` answers it.
public struct MeetingView: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    /// `scheduled`, `live`, `ended` or `cancelled`.
    public var status: String
    public var plan: MeetingPlan
    /// How many people are expected (checked against the room's capacity).
    public var expectedAttendees: Int?
    /// Bumped on every change of the plan or the agenda (the calendar invitation's SEQUENCE).
    public var sequence: Int
    public var agenda: [AgendaItem]
    public var materials: [MeetingMaterial]
    /// The recommended platform's first, then the others in the plan's order.
    public var joinLinks: [MeetingJoinLink]
    public var provisioningFailures: [MeetingProvisioningFailure]
    public var createdBy: String
    public var createdAt: Date
    public var startedAt: Date?
    public var endedAt: Date?
    public var cancelledAt: Date?
    public var cancelReason: String?

    public init(id: String, organizationId: String, status: String, plan: MeetingPlan, expectedAttendees: Int?, sequence: Int,
                agenda: [AgendaItem], materials: [MeetingMaterial], joinLinks: [MeetingJoinLink],
                provisioningFailures: [MeetingProvisioningFailure], createdBy: String, createdAt: Date, startedAt: Date?,
                endedAt: Date?, cancelledAt: Date?, cancelReason: String?) {
        self.id = id
        self.organizationId = organizationId
        self.status = status
        self.plan = plan
        self.expectedAttendees = expectedAttendees
        self.sequence = sequence
        self.agenda = agenda
        self.materials = materials
        self.joinLinks = joinLinks
        self.provisioningFailures = provisioningFailures
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.cancelledAt = cancelledAt
        self.cancelReason = cancelReason
    }
}

/// `scheduling.create_meeting` → `MeetingView`: scheduled at once; emits
/// `scheduling.meeting_scheduled` with the plan. A room already taken at that time is refused
/// with `scheduling.room_conflict` (details name the meeting holding it).
public struct CreateMeeting: MessagePayload, Equatable {
    public static let messageType = "scheduling.create_meeting"
    public var plan: MeetingPlan
    public var expectedAttendees: Int?
    public var createdBy: String
    public init(plan: MeetingPlan, expectedAttendees: Int? = nil, createdBy: String) {
        self.plan = plan
        self.expectedAttendees = expectedAttendees
        self.createdBy = createdBy
    }
}

/// `scheduling.update_meeting` → `MeetingView`: replaces the plan of a scheduled meeting
/// (reschedule, move, change platforms or host); the sequence grows by one and
/// `scheduling.meeting_updated` carries the whole plan; pending timers move.
public struct UpdateMeeting: MessagePayload, Equatable {
    public static let messageType = "scheduling.update_meeting"
    public var id: String
    public var plan: MeetingPlan
    public var expectedAttendees: Int?
    /// When set, the change applies only to the meeting at this sequence (a read-modify-write by
    /// the gateway's PATCH): another change in between is refused with `scheduling.invalid_state`.
    public var expectedSequence: Int?
    public init(id: String, plan: MeetingPlan, expectedAttendees: Int? = nil, expectedSequence: Int? = nil) {
        self.id = id
        self.plan = plan
        self.expectedAttendees = expectedAttendees
        self.expectedSequence = expectedSequence
    }
}

/// `scheduling.cancel_meeting` → `MeetingView`; emits `scheduling.meeting_cancelled` (kind the
/// meeting's type); pending timers are removed.
public struct CancelMeeting: MessagePayload, Equatable {
    public static let messageType = "scheduling.cancel_meeting"
    public var id: String
    public var reason: String
    public init(id: String, reason: String) {
        self.id = id
        self.reason = reason
    }
}

/// `scheduling.get_meeting` → `MeetingView` of the envelope's organization.
public struct GetMeeting: MessagePayload, Equatable {
    public static let messageType = "scheduling.get_meeting"
    public var id: String
    public init(id: String) { self.id = id }
}

/// `scheduling.list_meetings` → `MeetingPage`: the envelope's organization's meetings, newest
/// start first.
public struct ListMeetings: MessagePayload, Equatable {
    public static let messageType = "scheduling.list_meetings"
    public var limit: Int
    public var after: String?
    public init(limit: Int, after: String? = nil) {
        self.limit = limit
        self.after = after
    }
}

public struct MeetingPage: Codable, Sendable, Equatable {
    public var items: [MeetingView]
    public var next: String?
    public init(items: [MeetingView], next: String?) {
        self.items = items
        self.next = next
    }
}

/// `scheduling.set_agenda` → `MeetingView`: replaces the agenda of a scheduled meeting; the
/// sequence grows and `scheduling.meeting_updated` goes out so attendees can be told.
public struct SetAgenda: MessagePayload, Equatable {
    public static let messageType = "scheduling.set_agenda"
    public var meetingId: String
    public var items: [AgendaItem]
    public init(meetingId: String, items: [AgendaItem]) {
        self.meetingId = meetingId
        self.items = items
    }
}

/// `scheduling.add_material` → `MeetingMaterial`: attaches a file the gateway stored (the
/// gateway resolves the organizer's `uploadId` to its blob).
public struct AddMaterial: MessagePayload, Equatable {
    public static let messageType = "scheduling.add_material"
    public var meetingId: String
    public var name: String
    public var contentType: String
    public var size: Int64
    public var blobKey: String
    public var addedBy: String
    public init(meetingId: String, name: String, contentType: String, size: Int64, blobKey: String, addedBy: String) {
        self.meetingId = meetingId
        self.name = name
        self.contentType = contentType
        self.size = size
        self.blobKey = blobKey
        self.addedBy = addedBy
    }
}

// MARK: Rooms

/// A room of an organization; a meeting in it holds it for its time.
public struct MeetingRoom: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var name: String
    public var capacity: Int
    public var location: String?
    public var createdAt: Date
    public init(id: String, organizationId: String, name: String, capacity: Int, location: String?, createdAt: Date) {
        self.id = id
        self.organizationId = organizationId
        self.name = name
        self.capacity = capacity
        self.location = location
        self.createdAt = createdAt
    }
}

/// `scheduling.create_room` → `MeetingRoom`. Names are unique in an organization.
public struct CreateRoom: MessagePayload, Equatable {
    public static let messageType = "scheduling.create_room"
    public var name: String
    public var capacity: Int
    public var location: String?
    public init(name: String, capacity: Int, location: String? = nil) {
        self.name = name
        self.capacity = capacity
        self.location = location
    }
}

/// `scheduling.update_room` → `MeetingRoom`: the fields given replace the room's.
public struct UpdateRoom: MessagePayload, Equatable {
    public static let messageType = "scheduling.update_room"
    public var id: String
    public var name: String?
    public var capacity: Int?
    public var location: String?
    public init(id: String, name: String? = nil, capacity: Int? = nil, location: String? = nil) {
        self.id = id
        self.name = name
        self.capacity = capacity
        self.location = location
    }
}

/// `scheduling.list_rooms` → `MeetingRoomList`: the organization's rooms by name.
public struct ListRooms: MessagePayload, Equatable {
    public static let messageType = "scheduling.list_rooms"
    public init() {}
}

public struct MeetingRoomList: Codable, Sendable, Equatable {
    public var items: [MeetingRoom]
    public init(items: [MeetingRoom]) { self.items = items }
}

// MARK: Lifecycle events

/// `scheduling.meeting_started`: the meeting went live, by its start timer or a platform's
/// webhook, whichever came first; once per meeting.
public struct MeetingStarted: MessagePayload, Equatable {
    public static let messageType = "scheduling.meeting_started"
    public var meetingId: String
    public var kind: String
    public var sequence: Int
    public var at: Date
    /// `timer`, or the platform whose webhook said so (`zoom`, `tencent`, `dingtalk`).
    public var trigger: String
    public init(meetingId: String, kind: String, sequence: Int, at: Date, trigger: String) {
        self.meetingId = meetingId
        self.kind = kind
        self.sequence = sequence
        self.at = at
        self.trigger = trigger
    }
}

/// `scheduling.meeting_ended`: the meeting ended, by its end timer or a platform's webhook;
/// once per meeting (archive builds its archive from it).
public struct MeetingEnded: MessagePayload, Equatable {
    public static let messageType = "scheduling.meeting_ended"
    public var meetingId: String
    public var kind: String
    public var sequence: Int
    public var at: Date
    public var trigger: String
    public init(meetingId: String, kind: String, sequence: Int, at: Date, trigger: String) {
        self.meetingId = meetingId
        self.kind = kind
        self.sequence = sequence
        self.at = at
        self.trigger = trigger
    }
}
