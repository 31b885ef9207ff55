import Foundation

// Attendees of enterprise meetings (internal, client, large event), kept by `registration`:
// who is invited with which role, their answers (RSVP), imports from XLSX/CSV, and what a
// signed-in attendee sees of the meetings they are invited to.

/// Roles of an attendee. `required` must confirm (and is reminded until they answer),
/// `optional` need not, `observer` sees the agenda and has no speaking rights.
public enum AttendeeRole {
    public static let required = "required"
    public static let optional = "optional"
    public static let observer = "observer"
    public static let all = [required, optional, observer]
}

/// An attendee's answer to an invitation: `pending` until they give one.
public enum AttendeeResponse {
    public static let pending = "pending"
    public static let accepted = "accepted"
    public static let declined = "declined"
    public static let tentative = "tentative"
    /// What an attendee may answer.
    public static let answers = [accepted, declined, tentative]
}

/// An attendee as an organizer enters (or imports) them. The email address is the key: one
/// attendee per address and meeting, and a signed-in account is matched by its address.
public struct AttendeeInput: Codable, Sendable, Equatable {
    public var name: String
    public var email: String
    public var phone: String?
    public var department: String?
    /// `required`, `optional` or `observer` (default `required`).
    public var role: String?
    /// The attendee's DingTalk user id (`userid`), for platform membership.
    public var dingtalkUserId: String?
    /// BCP 47, e.g. `zh-CN`; their mails are worded in it (default: the host's).
    public var locale: String?
    public init(name: String, email: String, phone: String? = nil, department: String? = nil, role: String? = nil,
                dingtalkUserId: String? = nil, locale: String? = nil) {
        self.name = name
        self.email = email
        self.phone = phone
        self.department = department
        self.role = role
        self.dingtalkUserId = dingtalkUserId
        self.locale = locale
    }
}

/// An attendee as registration keeps them.
public struct AttendeeView: Codable, Sendable, Equatable {
    public var id: String
    public var meetingId: String
    public var name: String
    public var email: String
    public var phone: String?
    public var department: String?
    public var role: String
    public var dingtalkUserId: String?
    public var locale: String?
    /// `pending`, `accepted`, `declined` or `tentative`.
    public var response: String
    public var respondedAt: Date?
    public var comment: String?
    /// The meeting's sequence of the last invitation sent to them; nil before the first.
    public var invitedSequence: Int?
    public var createdAt: Date
    public var updatedAt: Date
    public init(id: String, meetingId: String, name: String, email: String, phone: String?, department: String?, role: String,
                dingtalkUserId: String?, locale: String?, response: String, respondedAt: Date?, comment: String?,
                invitedSequence: Int?, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.meetingId = meetingId
        self.name = name
        self.email = email
        self.phone = phone
        self.department = department
        self.role = role
        self.dingtalkUserId = dingtalkUserId
        self.locale = locale
        self.response = response
        self.respondedAt = respondedAt
        self.comment = comment
        self.invitedSequence = invitedSequence
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct AttendeePage: Codable, Sendable, Equatable {
    public var items: [AttendeeView]
    public var next: String?
    public init(items: [AttendeeView], next: String?) {
        self.items = items
        self.next = next
    }
}

/// `registration.add_attendee` (organizer) → `AttendeeView`: invites one person to one of the
/// organization's meetings (`registration.attendee_exists` when the address is already there).
public struct AddAttendee: MessagePayload, Equatable {
    public static let messageType = "registration.add_attendee"
    public var meetingId: String
    public var attendee: AttendeeInput
    public init(meetingId: String, attendee: AttendeeInput) {
        self.meetingId = meetingId
        self.attendee = attendee
    }
}

/// `registration.update_attendee` (organizer) → `AttendeeView`: changes the fields given (the
/// email address, the key, stays).
public struct UpdateAttendee: MessagePayload, Equatable {
    public static let messageType = "registration.update_attendee"
    public var meetingId: String
    public var attendeeId: String
    public var name: String?
    public var phone: String?
    public var department: String?
    public var role: String?
    public var dingtalkUserId: String?
    public var locale: String?
    public init(meetingId: String, attendeeId: String, name: String? = nil, phone: String? = nil, department: String? = nil,
                role: String? = nil, dingtalkUserId: String? = nil, locale: String? = nil) {
        self.meetingId = meetingId
        self.attendeeId = attendeeId
        self.name = name
        self.phone = phone
        self.department = department
        self.role = role
        self.dingtalkUserId = dingtalkUserId
        self.locale = locale
    }
}

/// `registration.remove_attendee` (organizer) → `Empty`: an attendee who was invited gets a
/// cancelling calendar entry.
public struct RemoveAttendee: MessagePayload, Equatable {
    public static let messageType = "registration.remove_attendee"
    public var meetingId: String
    public var attendeeId: String
    public init(meetingId: String, attendeeId: String) {
        self.meetingId = meetingId
        self.attendeeId = attendeeId
    }
}

/// `registration.list_attendees` (organizer) → `AttendeePage`, in the order they were added.
public struct ListAttendees: MessagePayload, Equatable {
    public static let messageType = "registration.list_attendees"
    public var meetingId: String
    public var limit: Int
    public var after: String?
    public var role: String?
    public var response: String?
    public init(meetingId: String, limit: Int, after: String? = nil, role: String? = nil, response: String? = nil) {
        self.meetingId = meetingId
        self.limit = limit
        self.after = after
        self.role = role
        self.response = response
    }
}

/// `registration.import_attendees` (organizer) → `AttendeeImportReport`: a file of attendees
/// (`csv` or `xlsx`, base64) checked row by row. Either every row is applied, in one
/// transaction, or none is: one rejected row (or `dryRun`) applies nothing.
public struct ImportAttendees: MessagePayload, Equatable {
    public static let messageType = "registration.import_attendees"
    public var meetingId: String
    /// `csv` or `xlsx`.
    public var format: String
    /// The file, base64.
    public var body: String
    public var dryRun: Bool
    public init(meetingId: String, format: String, body: String, dryRun: Bool) {
        self.meetingId = meetingId
        self.format = format
        self.body = body
        self.dryRun = dryRun
    }
}

/// What an import did, or would do, row by row.
public struct AttendeeImportReport: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        /// The row's number in the file (the header is row 1).
        public var row: Int
        public var email: String?
        public var name: String?
        /// `added`, `updated` (the address was already an attendee) or `rejected`.
        public var outcome: String
        /// Why a row was rejected: `invalid_email`, `unknown_role`, `duplicate_row`,
        /// `missing_name`, `missing_email`, `too_long`.
        public var reason: String?
        public var message: String?
        public init(row: Int, email: String?, name: String?, outcome: String, reason: String? = nil, message: String? = nil) {
            self.row = row
            self.email = email
            self.name = name
            self.outcome = outcome
            self.reason = reason
            self.message = message
        }
    }

    /// Whether the rows were applied: false for a dry run and whenever a row is rejected.
    public var applied: Bool
    public var dryRun: Bool
    public var added: Int
    public var updated: Int
    public var rejected: Int
    public var rows: [Row]
    public init(applied: Bool, dryRun: Bool, added: Int, updated: Int, rejected: Int, rows: [Row]) {
        self.applied = applied
        self.dryRun = dryRun
        self.added = added
        self.updated = updated
        self.rejected = rejected
        self.rows = rows
    }
}

/// `registration.attendee_template` → `ExportedFile`: the import template (`csv` or `xlsx`),
/// its header row and two example rows.
public struct GetAttendeeTemplate: MessagePayload, Equatable {
    public static let messageType = "registration.attendee_template"
    public var format: String
    public init(format: String) { self.format = format }
}

/// A meeting as one of its attendees sees it: the plan, their role and answer, the join links
/// (the recommended platform first).
public struct InvitedMeeting: Codable, Sendable, Equatable {
    public var meetingId: String
    public var organizationId: String
    public var attendeeId: String
    /// `internal`, `client` or `large_event`.
    public var type: String
    public var topic: String
    public var description: String?
    public var startsAt: Date
    public var endsAt: Date
    public var timeZone: String
    public var location: String?
    public var hostName: String
    /// `scheduled` or `cancelled`.
    public var status: String
    public var sequence: Int
    public var role: String
    public var response: String
    public var respondedAt: Date?
    public var joinLinks: [MeetingJoinLink]
    public init(meetingId: String, organizationId: String, attendeeId: String, type: String, topic: String, description: String?,
                startsAt: Date, endsAt: Date, timeZone: String, location: String?, hostName: String, status: String, sequence: Int,
                role: String, response: String, respondedAt: Date?, joinLinks: [MeetingJoinLink]) {
        self.meetingId = meetingId
        self.organizationId = organizationId
        self.attendeeId = attendeeId
        self.type = type
        self.topic = topic
        self.description = description
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.timeZone = timeZone
        self.location = location
        self.hostName = hostName
        self.status = status
        self.sequence = sequence
        self.role = role
        self.response = response
        self.respondedAt = respondedAt
        self.joinLinks = joinLinks
    }
}

public struct InvitedMeetingPage: Codable, Sendable, Equatable {
    public var items: [InvitedMeeting]
    public var next: String?
    public init(items: [InvitedMeeting], next: String?) {
        self.items = items
        self.next = next
    }
}

/// `registration.list_my_meetings` → `InvitedMeetingPage`: the meetings an address is invited
/// to (the gateway asks with the signed-in account's address), soonest first; ended ones only
/// with `includePast`.
public struct ListMyMeetings: MessagePayload, Equatable {
    public static let messageType = "registration.list_my_meetings"
    public var email: String
    public var limit: Int
    public var after: String?
    public var includePast: Bool
    public init(email: String, limit: Int, after: String? = nil, includePast: Bool = false) {
        self.email = email
        self.limit = limit
        self.after = after
        self.includePast = includePast
    }
}

/// `registration.get_invitation` → `InvitedMeeting`: the invitation of the link in an
/// invitation mail (`attendeeId` and its token; a wrong token is `registration.not_found`).
public struct GetInvitation: MessagePayload, Equatable {
    public static let messageType = "registration.get_invitation"
    public var attendeeId: String
    public var token: String
    public init(attendeeId: String, token: String) {
        self.attendeeId = attendeeId
        self.token = token
    }
}

/// `registration.respond_to_invitation` → `InvitedMeeting`: accept, decline or tentative. Either
/// the signed-in attendee (`meetingId` and the account's `email`) or the link of the invitation
/// mail (`attendeeId` and `token`).
public struct RespondToInvitation: MessagePayload, Equatable {
    public static let messageType = "registration.respond_to_invitation"
    public var meetingId: String?
    public var email: String?
    public var attendeeId: String?
    public var token: String?
    /// `accepted`, `declined` or `tentative`.
    public var response: String
    public var comment: String?
    public init(meetingId: String? = nil, email: String? = nil, attendeeId: String? = nil, token: String? = nil, response: String,
                comment: String? = nil) {
        self.meetingId = meetingId
        self.email = email
        self.attendeeId = attendeeId
        self.token = token
        self.response = response
        self.comment = comment
    }
}

// MARK: Events

/// `registration.attendee_responded`: an attendee answered an invitation (for the organizer's
/// dashboards and the archive). Carries no token.
public struct AttendeeResponded: MessagePayload, Equatable {
    public static let messageType = "registration.attendee_responded"
    public var meetingId: String
    public var attendeeId: String
    public var email: String
    public var role: String
    public var response: String
    public var respondedAt: Date
    public init(meetingId: String, attendeeId: String, email: String, role: String, response: String, respondedAt: Date) {
        self.meetingId = meetingId
        self.attendeeId = attendeeId
        self.email = email
        self.role = role
        self.response = response
        self.respondedAt = respondedAt
    }
}

// MARK: Sync from a DingTalk department

/// Where synced attendees come from: `dingtalk_department` (the only source so far).
public enum AttendeeSyncSource {
    public static let dingtalkDepartment = "dingtalk_department"
    public static let all = [dingtalkDepartment]
}

/// One member of the synced group, as the platform lists them.
public struct AttendeeSyncMember: Codable, Sendable, Equatable {
    /// The platform's user id (DingTalk `userid`).
    public var userId: String
    public var name: String
    public var email: String?
    public var mobile: String?
    public init(userId: String, name: String, email: String?, mobile: String?) {
        self.userId = userId
        self.name = name
        self.email = email
        self.mobile = mobile
    }
}

/// `registration.sync_attendees` (organizer) → `AttendeeSyncReport`: the current members of a
/// DingTalk department (the gateway asks platform-bridge for them) applied to a meeting's
/// attendees in one transaction. Members who are not attendees yet are added with `role` and
/// invited; attendees with the same address (or DingTalk user id) are updated (name, phone,
/// DingTalk id); attendees an earlier sync of the same department added who are no longer
/// members are removed (and sent the cancelling calendar entry). Attendees added by hand, by
/// import or by another department's sync are never removed. A member without a usable email
/// address is skipped (mails are how attendees are invited).
public struct SyncAttendees: MessagePayload, Equatable {
    public static let messageType = "registration.sync_attendees"
    public var meetingId: String
    /// `dingtalk_department`.
    public var source: String
    /// The department's id on the platform.
    public var sourceId: String
    /// The role of added members (default `required`); updated attendees keep theirs.
    public var role: String?
    public var members: [AttendeeSyncMember]
    public init(meetingId: String, source: String, sourceId: String, role: String? = nil, members: [AttendeeSyncMember]) {
        self.meetingId = meetingId
        self.source = source
        self.sourceId = sourceId
        self.role = role
        self.members = members
    }
}

/// What a sync did, member by member (and attendee by removed attendee).
public struct AttendeeSyncReport: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        /// `added`, `updated`, `removed` or `skipped`.
        public var outcome: String
        public var name: String
        public var email: String?
        public var dingtalkUserId: String?
        /// The attendee (none for a skipped member).
        public var attendeeId: String?
        /// Why a member was skipped: `missing_email`, `invalid_email`, `duplicate_email`,
        /// `missing_name`, `too_long`.
        public var reason: String?
        public var message: String?
        public init(outcome: String, name: String, email: String?, dingtalkUserId: String?, attendeeId: String?,
                    reason: String? = nil, message: String? = nil) {
            self.outcome = outcome
            self.name = name
            self.email = email
            self.dingtalkUserId = dingtalkUserId
            self.attendeeId = attendeeId
            self.reason = reason
            self.message = message
        }
    }

    /// `dingtalk_department:<id>`: what the added attendees carry as their source.
    public var source: String
    public var added: Int
    public var updated: Int
    public var removed: Int
    public var skipped: Int
    public var rows: [Row]
    public init(source: String, added: Int, updated: Int, removed: Int, skipped: Int, rows: [Row]) {
        self.source = source
        self.added = added
        self.updated = updated
        self.removed = removed
        self.skipped = skipped
        self.rows = rows
    }
}
