import Contracts
import Foundation
import HTTPTypes
import Hummingbird

/// An organization's online-meeting platforms (credentials in, identifiers out), a meeting's
/// state on them and its live stream, for organization administrators; and the platforms' own
/// webhooks, passed raw to platform-bridge, which verifies them.
struct PlatformRoutes {
    let service: ServiceClient

    static let platforms: Set<String> = Set(MeetingPlatformName.all)

    struct ZoomBody: JSONRequestBody {
        var accountId: String
        var clientId: String
        var clientSecret: String
        var webhookSecretToken: String?
        var userId: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case accountId, clientId, clientSecret, webhookSecretToken, userId }
        typealias Fields = CodingKeys
    }

    struct TencentBody: JSONRequestBody {
        var secretId: String
        var secretKey: String
        var appId: String
        var sdkId: String?
        var creatorUserId: String
        var webhookToken: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case secretId, secretKey, appId, sdkId, creatorUserId, webhookToken }
        typealias Fields = CodingKeys
    }

    struct DingTalkBody: JSONRequestBody {
        var appKey: String
        var appSecret: String
        var creatorUnionId: String
        enum CodingKeys: String, CodingKey, CaseIterable { case appKey, appSecret, creatorUnionId }
        typealias Fields = CodingKeys
    }

    struct LiveStreamBody: JSONRequestBody {
        var provider: String
        var pushUrl: String
        var streamKey: String?
        var watchUrl: String
        enum CodingKeys: String, CodingKey, CaseIterable { case provider, pushUrl, streamKey, watchUrl }
        typealias Fields = CodingKeys
    }

    /// `POST /v1/platforms/callbacks/{platform}`: no token; the platform's signature is the proof.
    /// `GET` too: Tencent Meeting checks its callback URL with one.
    func registerPublic(on router: Router<GatewayRequestContext>) {
        router.get("v1/platforms/callbacks/:platform") { request, context -> Response in
            guard let platform = context.parameters.get("platform"), Self.platforms.contains(platform) else {
                throw Problem.notFound("no such platform")
            }
            let headers = request.headers.map { [$0.name.canonicalName, $0.value] }
            let answer = try await service.call(
                PlatformCallback(platform: platform, headers: headers, body: "", method: "GET", query: request.uri.query ?? ""),
                as: CallbackAnswer.self, organizationId: nil, context: context)
            return ProviderCallbackForwarding.response(answer)
        }
        router.post("v1/platforms/callbacks/:platform") { request, context -> Response in
            guard let platform = context.parameters.get("platform"), Self.platforms.contains(platform) else {
                throw Problem.notFound("no such platform")
            }
            let (headers, body) = try await ProviderCallbackForwarding.raw(request)
            let answer = try await service.call(
                PlatformCallback(platform: platform, headers: headers, body: body, method: "POST", query: request.uri.query),
                as: CallbackAnswer.self, organizationId: nil, context: context)
            return ProviderCallbackForwarding.response(answer)
        }
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // GET /v1/organizations/{org}/platforms → {"items": [PlatformCredentialStatus]}
        routes.get("organizations/:org/platforms") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let items = try await service.call(ListPlatformCredentials(), as: [PlatformCredentialStatus].self,
                                               organizationId: organizationId, context: context)
            return try JSONResponse.make(ItemList(items: items))
        }
        // PUT /v1/organizations/{org}/platforms/{platform}/credentials → PlatformCredentialStatus
        routes.put("organizations/:org/platforms/:platform/credentials") { request, context -> Response in
            let organizationId = try context.administeredOrganization()
            let principal = try context.caller()
            let platform = try Self.platform(context)
            var command = SetPlatformCredentials(platform: platform, setBy: principal.accountId)
            switch platform {
            case MeetingPlatformName.zoom:
                let b = try await JSONBody.decode(ZoomBody.self, from: request)
                command.zoom = ZoomCredentials(accountId: b.accountId, clientId: b.clientId, clientSecret: b.clientSecret,
                                               webhookSecretToken: b.webhookSecretToken, userId: b.userId)
            case MeetingPlatformName.tencent:
                let b = try await JSONBody.decode(TencentBody.self, from: request)
                command.tencent = TencentCredentials(secretId: b.secretId, secretKey: b.secretKey, appId: b.appId, sdkId: b.sdkId,
                                                     creatorUserId: b.creatorUserId, webhookToken: b.webhookToken)
            default:
                let b = try await JSONBody.decode(DingTalkBody.self, from: request)
                command.dingtalk = DingTalkCredentials(appKey: b.appKey, appSecret: b.appSecret, creatorUnionId: b.creatorUnionId)
            }
            return try await service.respond(command, as: PlatformCredentialStatus.self, organizationId: organizationId,
                                             context: context)
        }
        // DELETE /v1/organizations/{org}/platforms/{platform}/credentials → 204
        routes.delete("organizations/:org/platforms/:platform/credentials") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let platform = try Self.platform(context)
            _ = try await service.call(RemovePlatformCredentials(platform: platform), as: Empty.self,
                                       organizationId: organizationId, context: context)
            return JSONResponse.noContent()
        }
        // GET /v1/organizations/{org}/meetings/{meetingId}/platforms → {"items": [PlatformMeetingStatus]}
        routes.get("organizations/:org/meetings/:meetingId/platforms") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let id = try context.resourceId("meetingId", kind: "meeting")
            let items = try await service.call(GetMeetingPlatforms(meetingId: id), as: [PlatformMeetingStatus].self,
                                               organizationId: organizationId, context: context)
            return try JSONResponse.make(ItemList(items: items))
        }
        // PUT /v1/organizations/{org}/meetings/{meetingId}/live-stream → LiveStreamView
        routes.put("organizations/:org/meetings/:meetingId/live-stream") { request, context -> Response in
            let organizationId = try context.administeredOrganization()
            let principal = try context.caller()
            let id = try context.resourceId("meetingId", kind: "meeting")
            let b = try await JSONBody.decode(LiveStreamBody.self, from: request)
            return try await service.respond(SetLiveStream(meetingId: id, provider: b.provider, pushUrl: b.pushUrl, streamKey: b.streamKey,
                                                           watchUrl: b.watchUrl, setBy: principal.accountId),
                                             as: LiveStreamView.self, organizationId: organizationId, context: context)
        }
        // GET /v1/organizations/{org}/meetings/{meetingId}/live-stream → LiveStreamView
        routes.get("organizations/:org/meetings/:meetingId/live-stream") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let id = try context.resourceId("meetingId", kind: "meeting")
            return try await service.respond(GetLiveStream(meetingId: id), as: LiveStreamView.self, organizationId: organizationId,
                                             context: context)
        }
    }

    private static func platform(_ context: GatewayRequestContext) throws(Problem) -> String {
        guard let platform = context.parameters.get("platform"), platforms.contains(platform) else {
            throw Problem.notFound("no such platform")
        }
        return platform
    }
}
