import Foundation

// Enterprise meetings (internal, client, large event): the plan `scheduling` keeps and announces
// in `scheduling.meeting_scheduled` / `scheduling.meeting_updated` (field `meeting`), and the
// events `platform-bridge` answers with once a meeting exists on an online platform.

/// The online platforms Convene provisions meetings on.
public enum MeetingPlatformName {
    public static let zoom = "zoom"
    public static let tencent = "tencent"
    public static let dingtalk = "dingtalk"
    public static let all = [zoom, tencent, dingtalk]
}

/// The account that hosts a meeting, as the gateway knew it when the meeting was planned: the
/// host is reminded to rehearse and is who platforms create the meeting for.
public struct MeetingHost: Codable, Sendable, Equatable {
    public var accountId: String
    public var name: String
    public var email: String
    /// BCP 47, e.g. `zh-CN`; the host's mails are worded in it.
    public var locale: String?
    public init(accountId: String, name: String, email: String, locale: String? = nil) {
        self.accountId = accountId
        self.name = name
        self.email = email
        self.locale = locale
    }
}

/// An enterprise meeting as planned. Times are instants (UTC on the wire); `timeZone` is the
/// IANA zone they were entered in. `platforms` lists where it is held online (possibly none: a
/// room only), `recommendedPlatform` (one of them) is shown to attendees first.
public struct MeetingPlan: Codable, Sendable, Equatable {
    /// `internal`, `client` or `large_event`.
    public var type: String
    public var topic: String
    public var description: String?
    public var startsAt: Date
    public var endsAt: Date
    public var timeZone: String
    /// A room of the organization (scheduling refuses a second meeting in it at the same time).
    public var roomId: String?
    /// The room's name or an address, for invitations and calendar entries.
    public var location: String?
    public var host: MeetingHost
    /// A subset of `MeetingPlatformName.all`, without repeats.
    public var platforms: [String]
    public var recommendedPlatform: String?

    public init(type: String, topic: String, description: String? = nil, startsAt: Date, endsAt: Date, timeZone: String,
                roomId: String? = nil, location: String? = nil, host: MeetingHost, platforms: [String],
                recommendedPlatform: String? = nil) {
        self.type = type
        self.topic = topic
        self.description = description
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.timeZone = timeZone
        self.roomId = roomId
        self.location = location
        self.host = host
        self.platforms = platforms
        self.recommendedPlatform = recommendedPlatform
    }
}

// MARK: Events of platform-bridge

/// `platform.meeting_provisioned`: the meeting exists on one platform (created, or updated after
/// a reschedule: the same `platformMeetingId` with the plan's new `sequence`). The host's start
/// URL and any secret stay in platform-bridge.
public struct MeetingProvisioned: MessagePayload, Equatable {
    public static let messageType = "platform.meeting_provisioned"
    public var meetingId: String
    /// The plan's sequence this provisioning reflects.
    public var sequence: Int
    public var platform: String
    /// The platform's own id of the meeting (Zoom's meeting id, Tencent's `meeting_id`,
    /// DingTalk's conference id).
    public var platformMeetingId: String
    /// The number people type to join (Zoom's id, Tencent's `meeting_code`, DingTalk's room code).
    public var meetingNumber: String?
    public var joinUrl: String
    /// The attendee password, where the platform set one (attendees need it to join).
    public var password: String?
    public init(meetingId: String, sequence: Int, platform: String, platformMeetingId: String, meetingNumber: String?,
                joinUrl: String, password: String?) {
        self.meetingId = meetingId
        self.sequence = sequence
        self.platform = platform
        self.platformMeetingId = platformMeetingId
        self.meetingNumber = meetingNumber
        self.joinUrl = joinUrl
        self.password = password
    }
}

/// `platform.provisioning_failed`: one platform refused or kept failing; the others go on. The
/// organizer (the host) is told.
public struct ProvisioningFailed: MessagePayload, Equatable {
    public static let messageType = "platform.provisioning_failed"
    public var meetingId: String
    public var sequence: Int
    public var platform: String
    /// A stable code, e.g. `platform.credentials_missing`, `platform.rejected`, `platform.unavailable`.
    public var reason: String
    /// For people; never holds a credential.
    public var message: String
    public var host: MeetingHost?
    public var topic: String?
    public init(meetingId: String, sequence: Int, platform: String, reason: String, message: String, host: MeetingHost? = nil,
                topic: String? = nil) {
        self.meetingId = meetingId
        self.sequence = sequence
        self.platform = platform
        self.reason = reason
        self.message = message
        self.host = host
        self.topic = topic
    }
}

/// `platform.meeting_started` / `platform.meeting_ended`: a verified platform webhook said so;
/// scheduling moves the meeting's lifecycle on (it may already have by its own timer).
public struct PlatformMeetingStarted: MessagePayload, Equatable {
    public static let messageType = "platform.meeting_started"
    public var meetingId: String
    public var platform: String
    public var at: Date
    public init(meetingId: String, platform: String, at: Date) {
        self.meetingId = meetingId
        self.platform = platform
        self.at = at
    }
}

public struct PlatformMeetingEnded: MessagePayload, Equatable {
    public static let messageType = "platform.meeting_ended"
    public var meetingId: String
    public var platform: String
    public var at: Date
    public init(meetingId: String, platform: String, at: Date) {
        self.meetingId = meetingId
        self.platform = platform
        self.at = at
    }
}
