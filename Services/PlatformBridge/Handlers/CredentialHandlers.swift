import Contracts
import Foundation
import Persistence

extension HandlerContext {
    /// The organization a request is made for (the gateway always names one).
    func organization() throws -> String {
        guard let organizationId = message.header.organizationId, !organizationId.isEmpty else {
            throw ConveneError(code: "platform.organization_required", message: "the request names no organization")
        }
        return organizationId
    }
}

/// Field checks of credentials: present, of sane length, no control characters. What each
/// platform accepts beyond that is for the platform to say.
enum CredentialRules {
    static func check(_ request: SetPlatformCredentials) throws -> PlatformCredentials {
        var problems: [String: String] = [:]
        func field(_ name: String, _ value: String?, required: Bool = true, max: Int = 256) {
            guard let value, !value.isEmpty else {
                if required { problems[name] = "is required" }
                return
            }
            if value.count > max || value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
                || value != value.trimmingCharacters(in: .whitespaces) {
                problems[name] = "must be at most \(max) printable characters without surrounding spaces"
            }
        }
        let given = [request.zoom != nil, request.tencent != nil, request.dingtalk != nil].filter { $0 }.count
        let result: PlatformCredentials?
        switch request.platform {
        case MeetingPlatformName.zoom where request.zoom != nil:
            let c = request.zoom!
            field("zoom.accountId", c.accountId)
            field("zoom.clientId", c.clientId)
            field("zoom.clientSecret", c.clientSecret)
            field("zoom.webhookSecretToken", c.webhookSecretToken, required: false)
            field("zoom.userId", c.userId, required: false)
            result = .zoom(c)
        case MeetingPlatformName.tencent where request.tencent != nil:
            let c = request.tencent!
            field("tencent.secretId", c.secretId)
            field("tencent.secretKey", c.secretKey)
            field("tencent.appId", c.appId)
            field("tencent.sdkId", c.sdkId, required: false)
            field("tencent.creatorUserId", c.creatorUserId)
            field("tencent.webhookToken", c.webhookToken, required: false)
            result = .tencent(c)
        case MeetingPlatformName.dingtalk where request.dingtalk != nil:
            let c = request.dingtalk!
            field("dingtalk.appKey", c.appKey)
            field("dingtalk.appSecret", c.appSecret)
            field("dingtalk.creatorUnionId", c.creatorUnionId)
            result = .dingtalk(c)
        default:
            result = nil
        }
        guard let result, given == 1 else {
            throw ConveneError(code: "platform.invalid_credentials",
                               message: "give the credentials of exactly the platform named (zoom, tencent or dingtalk)")
        }
        guard problems.isEmpty else {
            // Field names only: a value may be a secret.
            throw ConveneError(code: "platform.invalid_credentials", message: "some credential fields are invalid",
                               details: problems)
        }
        return result
    }
}

/// `platform-bridge.set_credentials`: sealed at rest; the answer shows identifiers only.
struct SetCredentialsHandler: MessageHandler {
    let credentials: CredentialStore
    let service: String
    var messageType: String { "\(service).set_credentials" }

    func handle(_ message: Envelope<SetPlatformCredentials>, context: HandlerContext) async throws -> PlatformCredentialStatus {
        let organizationId = try context.organization()
        let checked = try CredentialRules.check(message.data)
        let status = try await credentials.set(checked, organizationId: organizationId, setBy: message.data.setBy,
                                               in: context.transaction)
        context.logger.info("platform credentials set", metadata: ["platform": "\(status.platform)",
                                                                  "organizationId": "\(organizationId)"])
        return status
    }
}

struct ListCredentialsHandler: MessageHandler {
    let credentials: CredentialStore
    let service: String
    var messageType: String { "\(service).list_credentials" }

    func handle(_ message: Envelope<ListPlatformCredentials>, context: HandlerContext) async throws -> [PlatformCredentialStatus] {
        try await credentials.list(organizationId: try context.organization(), in: context.transaction)
    }
}

struct RemoveCredentialsHandler: MessageHandler {
    let credentials: CredentialStore
    let service: String
    var messageType: String { "\(service).remove_credentials" }

    func handle(_ message: Envelope<RemovePlatformCredentials>, context: HandlerContext) async throws -> Empty {
        guard try await credentials.remove(platform: message.data.platform, organizationId: try context.organization(),
                                           in: context.transaction) else {
            throw ConveneError(code: "platform.not_found", message: "no \(message.data.platform) credentials are set")
        }
        return Empty()
    }
}

/// `platform-bridge.get_meeting_platforms`: where a meeting of the organization stands on each platform.
struct GetMeetingPlatformsHandler: MessageHandler {
    let service: String
    let store = ProvisionStore()
    var messageType: String { "\(service).get_meeting_platforms" }

    func handle(_ message: Envelope<GetMeetingPlatforms>, context: HandlerContext) async throws -> [PlatformMeetingStatus] {
        let organizationId = try context.organization()
        guard let meeting = try await store.meeting(message.data.meetingId, locked: false, in: context.transaction),
              meeting.organizationId == organizationId else {
            throw ConveneError(code: "platform.not_found", message: "no such meeting")
        }
        return try await store.statuses(meetingId: message.data.meetingId, in: context.transaction)
    }
}

/// `platform-bridge.list_department_members`: a DingTalk department's members, for attendee sync.
/// Calls DingTalk while answering: never batched with other messages.
struct ListDepartmentMembersHandler: MessageHandler {
    let credentials: CredentialStore
    let dingtalk: DingTalkAdapter
    let service: String
    var messageType: String { "\(service).list_department_members" }
    var batchable: Bool { false }

    func handle(_ message: Envelope<ListDepartmentMembers>, context: HandlerContext) async throws -> [PlatformMember] {
        let organizationId = try context.organization()
        guard message.data.platform == MeetingPlatformName.dingtalk else {
            throw ConveneError(code: "platform.invalid_platform", message: "only DingTalk has departments")
        }
        guard let opened = try await credentials.open(platform: MeetingPlatformName.dingtalk, organizationId: organizationId,
                                                      in: context.transaction) else {
            throw ConveneError(code: PlatformReason.credentialsMissing, message: "the organization has no DingTalk credentials")
        }
        do throws(PlatformFailure) {
            return try await dingtalk.departmentMembers(message.data.departmentId, organizationId: organizationId, credentials: opened)
        } catch .transient(let reason) {
            throw ConveneError(code: "platform.unavailable", message: reason, retryable: false)
        } catch .permanent(let code, let reason) {
            throw ConveneError(code: code == PlatformReason.notFound ? "platform.not_found" : code, message: reason)
        }
    }
}
