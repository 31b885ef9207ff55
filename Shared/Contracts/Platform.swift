import Foundation

// platform-bridge's requests (from the gateway, request/reply) and the events it adds to those
// in Meeting.swift. Secrets (client secrets, SecretKey, appSecret, push addresses, host start
// URLs) go into platform-bridge and never come back out: answers say only whether they are set.

// MARK: Credentials

/// Zoom Server-to-Server OAuth app of an organization.
public struct ZoomCredentials: Codable, Sendable, Equatable {
    public var accountId: String
    public var clientId: String
    /// Secret.
    public var clientSecret: String
    /// The app's webhook "Secret Token" (secret): signs Zoom's webhooks; without it, they are refused.
    public var webhookSecretToken: String?
    /// The Zoom user meetings are created under (`me`: the app's own account owner).
    public var userId: String?
    public init(accountId: String, clientId: String, clientSecret: String, webhookSecretToken: String? = nil,
                userId: String? = nil) {
        self.accountId = accountId
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.webhookSecretToken = webhookSecretToken
        self.userId = userId
    }
}

/// Tencent Meeting enterprise app (REST API, X-TC-* signatures).
public struct TencentCredentials: Codable, Sendable, Equatable {
    public var secretId: String
    /// Secret.
    public var secretKey: String
    /// The enterprise's AppId.
    public var appId: String
    public var sdkId: String?
    /// The Tencent Meeting `userid` meetings are created by.
    public var creatorUserId: String
    /// The event subscription's Token (secret): signs Tencent Meeting's callbacks; without it,
    /// they are refused.
    public var webhookToken: String?
    public init(secretId: String, secretKey: String, appId: String, sdkId: String? = nil, creatorUserId: String,
                webhookToken: String? = nil) {
        self.secretId = secretId
        self.secretKey = secretKey
        self.appId = appId
        self.sdkId = sdkId
        self.creatorUserId = creatorUserId
        self.webhookToken = webhookToken
    }
}

/// DingTalk internal app (new-style API with an access token).
public struct DingTalkCredentials: Codable, Sendable, Equatable {
    public var appKey: String
    /// Secret.
    public var appSecret: String
    /// The unionId of the DingTalk user conferences are scheduled by.
    public var creatorUnionId: String
    public init(appKey: String, appSecret: String, creatorUnionId: String) {
        self.appKey = appKey
        self.appSecret = appSecret
        self.creatorUnionId = creatorUnionId
    }
}

/// `platform-bridge.set_credentials` (request, organization administrators) →
/// `PlatformCredentialStatus`: sets (replaces) the organization's credentials for one platform;
/// exactly the field named by `platform` is given.
public struct SetPlatformCredentials: MessagePayload, Equatable {
    public static let messageType = "platform-bridge.set_credentials"
    /// `zoom`, `tencent` or `dingtalk`.
    public var platform: String
    public var zoom: ZoomCredentials?
    public var tencent: TencentCredentials?
    public var dingtalk: DingTalkCredentials?
    public var setBy: String?
    public init(platform: String, zoom: ZoomCredentials? = nil, tencent: TencentCredentials? = nil,
                dingtalk: DingTalkCredentials? = nil, setBy: String? = nil) {
        self.platform = platform
        self.zoom = zoom
        self.tencent = tencent
        self.dingtalk = dingtalk
        self.setBy = setBy
    }
}

/// `platform-bridge.list_credentials` (request) → `[PlatformCredentialStatus]`.
public struct ListPlatformCredentials: MessagePayload, Equatable {
    public static let messageType = "platform-bridge.list_credentials"
    public init() {}
}

/// `platform-bridge.remove_credentials` (request) → `Empty`; `platform.not_found` when none are set.
public struct RemovePlatformCredentials: MessagePayload, Equatable {
    public static let messageType = "platform-bridge.remove_credentials"
    public var platform: String
    public init(platform: String) { self.platform = platform }
}

/// What an organization sees of its credentials for one platform: the identifiers, never a secret.
public struct PlatformCredentialStatus: Codable, Sendable, Equatable {
    public var platform: String
    /// Zoom's account id, Tencent's AppId, DingTalk's appKey.
    public var account: String
    /// Zoom's client id, Tencent's SecretId (identifiers, not secrets).
    public var clientId: String?
    /// Who meetings are created by (Zoom user, Tencent userid, DingTalk unionId).
    public var creator: String?
    /// Whether incoming webhooks can be verified (Zoom: a secret token is set).
    public var webhookVerification: Bool
    public var updatedAt: Date
    public init(platform: String, account: String, clientId: String?, creator: String?, webhookVerification: Bool,
                updatedAt: Date) {
        self.platform = platform
        self.account = account
        self.clientId = clientId
        self.creator = creator
        self.webhookVerification = webhookVerification
        self.updatedAt = updatedAt
    }
}

// MARK: Provisioning state

/// `platform-bridge.get_meeting_platforms` (request) → `[PlatformMeetingStatus]`: where a meeting
/// of the organization stands on each platform (`platform.not_found` for a meeting it never heard of).
public struct GetMeetingPlatforms: MessagePayload, Equatable {
    public static let messageType = "platform-bridge.get_meeting_platforms"
    public var meetingId: String
    public init(meetingId: String) { self.meetingId = meetingId }
}

public struct PlatformMeetingStatus: Codable, Sendable, Equatable {
    public var platform: String
    /// `pending`, `working`, `provisioned`, `failed` or `removed`.
    public var status: String
    public var sequence: Int?
    public var platformMeetingId: String?
    public var meetingNumber: String?
    public var joinUrl: String?
    public var password: String?
    public var attempts: Int
    /// The reason code of the last failure, if any.
    public var lastError: String?
    public var recommended: Bool
    public init(platform: String, status: String, sequence: Int?, platformMeetingId: String?, meetingNumber: String?,
                joinUrl: String?, password: String?, attempts: Int, lastError: String?, recommended: Bool) {
        self.platform = platform
        self.status = status
        self.sequence = sequence
        self.platformMeetingId = platformMeetingId
        self.meetingNumber = meetingNumber
        self.joinUrl = joinUrl
        self.password = password
        self.attempts = attempts
        self.lastError = lastError
        self.recommended = recommended
    }
}

// MARK: Live stream

public enum LiveStreamProvider {
    public static let bilibili = "bilibili"
    public static let wechatChannels = "wechat_channels"
    public static let all = [bilibili, wechatChannels]
}

/// `platform-bridge.set_live_stream` (request) → `LiveStreamView`: a meeting's live stream. The push
/// address (RTMP URL and stream key) is a secret kept sealed; only the watch link is ever shown.
public struct SetLiveStream: MessagePayload, Equatable {
    public static let messageType = "platform-bridge.set_live_stream"
    public var meetingId: String
    /// `bilibili` or `wechat_channels`.
    public var provider: String
    /// `rtmp://…` or `rtmps://…` (secret).
    public var pushUrl: String
    /// The stream key, when the provider gives it apart from the URL (secret).
    public var streamKey: String?
    /// The public https link attendees watch at.
    public var watchUrl: String
    public var setBy: String?
    public init(meetingId: String, provider: String, pushUrl: String, streamKey: String? = nil, watchUrl: String,
                setBy: String? = nil) {
        self.meetingId = meetingId
        self.provider = provider
        self.pushUrl = pushUrl
        self.streamKey = streamKey
        self.watchUrl = watchUrl
        self.setBy = setBy
    }
}

/// `platform-bridge.get_live_stream` (request) → `LiveStreamView`.
public struct GetLiveStream: MessagePayload, Equatable {
    public static let messageType = "platform-bridge.get_live_stream"
    public var meetingId: String
    public init(meetingId: String) { self.meetingId = meetingId }
}

public struct LiveStreamView: Codable, Sendable, Equatable {
    public var meetingId: String
    public var provider: String
    public var watchUrl: String
    /// Whether a push address is stored (it is never shown).
    public var pushConfigured: Bool
    public var updatedAt: Date
    public init(meetingId: String, provider: String, watchUrl: String, pushConfigured: Bool, updatedAt: Date) {
        self.meetingId = meetingId
        self.provider = provider
        self.watchUrl = watchUrl
        self.pushConfigured = pushConfigured
        self.updatedAt = updatedAt
    }
}

/// `platform.live_stream_set`: a meeting's live stream was set or changed; the watch link only.
public struct LiveStreamSet: MessagePayload, Equatable {
    public static let messageType = "platform.live_stream_set"
    public var meetingId: String
    public var provider: String
    public var watchUrl: String
    public init(meetingId: String, provider: String, watchUrl: String) {
        self.meetingId = meetingId
        self.provider = provider
        self.watchUrl = watchUrl
    }
}

// MARK: Webhooks

/// `platform-bridge.platform_callback` (request from the gateway) → `CallbackAnswer`: a platform's
/// webhook exactly as it arrived; verified over the raw body before it is acted on.
public struct PlatformCallback: MessagePayload, Equatable {
    public static let messageType = "platform-bridge.platform_callback"
    /// `zoom`, `tencent` or `dingtalk`.
    public var platform: String
    public var headers: [[String]]
    /// Base64 of the raw body.
    public var body: String
    /// `POST` (absent) or `GET` (Tencent Meeting checks its callback URL with a GET).
    public var method: String?
    /// The raw query string, without `?` (Tencent Meeting's `check_str`).
    public var query: String?
    public init(platform: String, headers: [[String]], body: String, method: String? = nil, query: String? = nil) {
        self.platform = platform
        self.headers = headers
        self.body = body
        self.method = method
        self.query = query
    }
}

// MARK: Events

/// `platform.meeting_removed`: the meeting was deleted or cancelled on a platform (the meeting was
/// cancelled, or the platform dropped from its plan).
public struct PlatformMeetingRemoved: MessagePayload, Equatable {
    public static let messageType = "platform.meeting_removed"
    public var meetingId: String
    public var sequence: Int
    public var platform: String
    public var platformMeetingId: String
    public init(meetingId: String, sequence: Int, platform: String, platformMeetingId: String) {
        self.meetingId = meetingId
        self.sequence = sequence
        self.platform = platform
        self.platformMeetingId = platformMeetingId
    }
}

/// `platform.participant_joined` / `platform.participant_left`: a verified platform webhook said so.
public struct PlatformParticipant: Codable, Sendable, Equatable {
    public var meetingId: String
    public var platform: String
    /// The name shown in the meeting.
    public var name: String
    public var email: String?
    /// The platform's id of the participant (e.g. Zoom's `participant_user_id`), when it has one.
    public var platformUserId: String?
    public var at: Date
    public init(meetingId: String, platform: String, name: String, email: String?, platformUserId: String?, at: Date) {
        self.meetingId = meetingId
        self.platform = platform
        self.name = name
        self.email = email
        self.platformUserId = platformUserId
        self.at = at
    }
}

public struct PlatformParticipantJoined: MessagePayload, Equatable {
    public static let messageType = "platform.participant_joined"
    public var participant: PlatformParticipant
    public init(_ participant: PlatformParticipant) { self.participant = participant }
    public func encode(to encoder: any Encoder) throws { try participant.encode(to: encoder) }
    public init(from decoder: any Decoder) throws { participant = try PlatformParticipant(from: decoder) }
}

public struct PlatformParticipantLeft: MessagePayload, Equatable {
    public static let messageType = "platform.participant_left"
    public var participant: PlatformParticipant
    public init(_ participant: PlatformParticipant) { self.participant = participant }
    public func encode(to encoder: any Encoder) throws { try participant.encode(to: encoder) }
    public init(from decoder: any Decoder) throws { participant = try PlatformParticipant(from: decoder) }
}

/// `platform.recording_ready`: the platform finished a cloud recording of the meeting.
public struct PlatformRecordingReady: MessagePayload, Equatable {
    public static let messageType = "platform.recording_ready"
    public struct File: Codable, Sendable, Equatable {
        /// e.g. `MP4`, `M4A`, `TRANSCRIPT`.
        public var type: String
        public var sizeBytes: Int?
        public var startedAt: Date?
        public var endedAt: Date?
        public init(type: String, sizeBytes: Int?, startedAt: Date?, endedAt: Date?) {
            self.type = type
            self.sizeBytes = sizeBytes
            self.startedAt = startedAt
            self.endedAt = endedAt
        }
    }
    public var meetingId: String
    public var platform: String
    /// The platform's share page of the recording (viewers may still need its passcode).
    public var shareUrl: String?
    public var files: [File]
    public init(meetingId: String, platform: String, shareUrl: String?, files: [File]) {
        self.meetingId = meetingId
        self.platform = platform
        self.shareUrl = shareUrl
        self.files = files
    }
}

// MARK: Members (attendee sync)

/// `platform-bridge.list_department_members` (request) → `[PlatformMember]`: the members of a
/// DingTalk department of the organization's app (the legacy `topapi/v2/user/list`, every page),
/// for registration to turn into attendees. `platform.credentials_missing` without DingTalk
/// credentials, `platform.not_found` for an unknown department.
public struct ListDepartmentMembers: MessagePayload, Equatable {
    public static let messageType = "platform-bridge.list_department_members"
    /// `dingtalk` (the only platform with departments so far).
    public var platform: String
    public var departmentId: Int64
    public init(platform: String = MeetingPlatformName.dingtalk, departmentId: Int64) {
        self.platform = platform
        self.departmentId = departmentId
    }
}

public struct PlatformMember: Codable, Sendable, Equatable {
    /// DingTalk's `userid` (within the organization).
    public var userId: String
    /// DingTalk's `unionid` (across organizations; what scheduled conferences name).
    public var unionId: String?
    public var name: String
    public var email: String?
    public var mobile: String?
    public var title: String?
    public init(userId: String, unionId: String?, name: String, email: String?, mobile: String?, title: String?) {
        self.userId = userId
        self.unionId = unionId
        self.name = name
        self.email = email
        self.mobile = mobile
        self.title = title
    }
}
