import Foundation

// Conferences kept by `scheduling`: requests from the gateway and the events other services
// (registration, notification, platform-bridge, archive) keep their own copies from.

/// What an organizer enters for a conference. Times are instants (UTC on the wire); `timeZone`
/// is the IANA zone they were entered in and are shown in by default.
public struct ConferenceDetails: Codable, Sendable, Equatable {
    public var title: String
    public var description: String?
    public var startsAt: Date
    public var endsAt: Date
    /// IANA time zone, e.g. `Asia/Shanghai`.
    public var timeZone: String
    /// A venue (address) for an on-site conference.
    public var venue: String?
    /// `zoom`, `tencent`, `dingtalk` or `other` for an online one.
    public var onlinePlatform: String?
    public var registrationOpensAt: Date
    public var registrationClosesAt: Date
    /// BCP 47 tags, e.g. `["zh-CN", "en"]`.
    public var languages: [String]
    public var contactEmail: String
    public var contactPhone: String?

    public init(title: String, description: String? = nil, startsAt: Date, endsAt: Date, timeZone: String,
                venue: String? = nil, onlinePlatform: String? = nil, registrationOpensAt: Date, registrationClosesAt: Date,
                languages: [String], contactEmail: String, contactPhone: String? = nil) {
        self.title = title
        self.description = description
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.timeZone = timeZone
        self.venue = venue
        self.onlinePlatform = onlinePlatform
        self.registrationOpensAt = registrationOpensAt
        self.registrationClosesAt = registrationClosesAt
        self.languages = languages
        self.contactEmail = contactEmail
        self.contactPhone = contactPhone
    }
}

/// A conference as `scheduling` answers it.
public struct ConferenceView: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    /// `draft`, `published` or `cancelled`.
    public var status: String
    public var details: ConferenceDetails
    /// Bumped on every change (the calendar invitation's SEQUENCE).
    public var sequence: Int
    public var createdAt: Date
    public var publishedAt: Date?
    public var cancelledAt: Date?
    public var cancelReason: String?

    public init(id: String, organizationId: String, status: String, details: ConferenceDetails, sequence: Int,
                createdAt: Date, publishedAt: Date?, cancelledAt: Date?, cancelReason: String?) {
        self.id = id
        self.organizationId = organizationId
        self.status = status
        self.details = details
        self.sequence = sequence
        self.createdAt = createdAt
        self.publishedAt = publishedAt
        self.cancelledAt = cancelledAt
        self.cancelReason = cancelReason
    }
}

/// `scheduling.create_conference` → `ConferenceView` (a draft).
public struct CreateConference: MessagePayload, Equatable {
    public static let messageType = "scheduling.create_conference"
    public var details: ConferenceDetails
    public var createdBy: String
    public init(details: ConferenceDetails, createdBy: String) {
        self.details = details
        self.createdBy = createdBy
    }
}

/// `scheduling.update_conference` → `ConferenceView`: replaces the details of a draft or a
/// published conference (a published one emits `scheduling.meeting_updated`).
public struct UpdateConference: MessagePayload, Equatable {
    public static let messageType = "scheduling.update_conference"
    public var id: String
    public var details: ConferenceDetails
    public init(id: String, details: ConferenceDetails) {
        self.id = id
        self.details = details
    }
}

/// `scheduling.publish_conference` → `ConferenceView`; emits `scheduling.meeting_scheduled`.
public struct PublishConference: MessagePayload, Equatable {
    public static let messageType = "scheduling.publish_conference"
    public var id: String
    public init(id: String) { self.id = id }
}

/// `scheduling.cancel_conference` → `ConferenceView`; emits `scheduling.meeting_cancelled`.
public struct CancelConference: MessagePayload, Equatable {
    public static let messageType = "scheduling.cancel_conference"
    public var id: String
    public var reason: String
    public init(id: String, reason: String) {
        self.id = id
        self.reason = reason
    }
}

/// `scheduling.get_conference` → `ConferenceView`. Without an organization in the envelope only
/// a published (or cancelled after publishing) conference is found.
public struct GetConference: MessagePayload, Equatable {
    public static let messageType = "scheduling.get_conference"
    public var id: String
    public init(id: String) { self.id = id }
}

/// `scheduling.list_conferences` → `ConferencePage`: the envelope's organization's (every
/// status), or without one every published conference; newest start first.
public struct ListConferences: MessagePayload, Equatable {
    public static let messageType = "scheduling.list_conferences"
    public var limit: Int
    /// The `next` of the previous page.
    public var after: String?
    public init(limit: Int, after: String? = nil) {
        self.limit = limit
        self.after = after
    }
}

public struct ConferencePage: Codable, Sendable, Equatable {
    public var items: [ConferenceView]
    public var next: String?
    public init(items: [ConferenceView], next: String?) {
        self.items = items
        self.next = next
    }
}

// MARK: Events

/// `scheduling.meeting_scheduled` (on publishing) and `scheduling.meeting_updated` (a change to a
/// published meeting): the whole current state, so a consumer can upsert by `meetingId` and
/// ignore anything with a lower `sequence`.
public struct MeetingScheduled: MessagePayload, Equatable {
    public static let messageType = "scheduling.meeting_scheduled"
    public var meetingId: String
    /// `conference`, or for an enterprise meeting its type: `internal`, `client`, `large_event`.
    public var kind: String
    public var sequence: Int
    /// A conference's details (kind `conference` only).
    public var details: ConferenceDetails?
    /// An enterprise meeting's plan (every other kind).
    public var meeting: MeetingPlan?
    public init(meetingId: String, kind: String, sequence: Int, details: ConferenceDetails) {
        self.meetingId = meetingId
        self.kind = kind
        self.sequence = sequence
        self.details = details
        self.meeting = nil
    }
    public init(meetingId: String, sequence: Int, meeting: MeetingPlan) {
        self.meetingId = meetingId
        self.kind = meeting.type
        self.sequence = sequence
        self.details = nil
        self.meeting = meeting
    }
}

public struct MeetingUpdated: MessagePayload, Equatable {
    public static let messageType = "scheduling.meeting_updated"
    public var meetingId: String
    public var kind: String
    public var sequence: Int
    /// A conference's details (kind `conference` only).
    public var details: ConferenceDetails?
    /// An enterprise meeting's plan (every other kind): rescheduled, moved or its platforms changed.
    public var meeting: MeetingPlan?
    public init(meetingId: String, kind: String, sequence: Int, details: ConferenceDetails) {
        self.meetingId = meetingId
        self.kind = kind
        self.sequence = sequence
        self.details = details
        self.meeting = nil
    }
    public init(meetingId: String, sequence: Int, meeting: MeetingPlan) {
        self.meetingId = meetingId
        self.kind = meeting.type
        self.sequence = sequence
        self.details = nil
        self.meeting = meeting
    }
}

/// `scheduling.meeting_cancelled`
public struct MeetingCancelled: MessagePayload, Equatable {
    public static let messageType = "scheduling.meeting_cancelled"
    public var meetingId: String
    public var kind: String
    public var sequence: Int
    public var reason: String
    public init(meetingId: String, kind: String, sequence: Int, reason: String) {
        self.meetingId = meetingId
        self.kind = kind
        self.sequence = sequence
        self.reason = reason
    }
}

/// `scheduling.reminder_due`: one of a meeting's reminder timers fell due (e.g. a conference's
/// `reminder_24h`). Published once per timer through the outbox; the envelope's id is the timer's
/// id, so a re-published copy carries the same id and consumers' inboxes drop it. The meeting's
/// summary is read when the timer fires, so consumers need no copy of their own to word the
/// reminder; who is reminded is the consumer's business (registration: a conference's
/// confirmed registrants).
public struct ReminderDue: MessagePayload, Equatable {
    public static let messageType = "scheduling.reminder_due"
    public var timerId: String
    public var meetingId: String
    /// `conference`, or an enterprise meeting's type: `internal`, `client`, `large_event`.
    public var meetingKind: String
    /// The timer's kind: `reminder_<offset>` with the offset before the start, e.g. `reminder_24h`,
    /// `reminder_168h`, `reminder_90m` (an enterprise meeting's: `reminder_24h`, `reminder_1h`).
    public var kind: String
    public var dueAt: Date
    /// The meeting's sequence when the timer fired.
    public var sequence: Int
    public var title: String
    public var startsAt: Date
    public var endsAt: Date
    /// IANA zone the meeting was entered in.
    public var timeZone: String
    /// The start on the wall clock of `timeZone`, e.g. `2026-12-01 09:00`.
    public var startLocal: String
    public var venue: String?
    /// `zoom`, `tencent`, `dingtalk` or `other`.
    public var onlinePlatform: String?
    /// Enterprise meetings only (kinds `internal`, `client`, `large_event`): the host, every join
    /// link (the recommended platform's first), the agenda and the names of the materials, as they
    /// were when the timer fired.
    public var host: MeetingHost? = nil
    public var joinLinks: [MeetingJoinLink]? = nil
    public var agenda: [AgendaItem]? = nil
    public var materials: [String]? = nil

    public init(timerId: String, meetingId: String, meetingKind: String, kind: String, dueAt: Date, sequence: Int,
                title: String, startsAt: Date, endsAt: Date, timeZone: String, startLocal: String, venue: String?,
                onlinePlatform: String?) {
        self.timerId = timerId
        self.meetingId = meetingId
        self.meetingKind = meetingKind
        self.kind = kind
        self.dueAt = dueAt
        self.sequence = sequence
        self.title = title
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.timeZone = timeZone
        self.startLocal = startLocal
        self.venue = venue
        self.onlinePlatform = onlinePlatform
    }
}
