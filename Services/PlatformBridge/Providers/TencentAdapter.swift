import Contracts
import Foundation
import HTTPClient

/// Tencent Meeting: every call signed with the app's SecretKey (X-TC-* headers); create
/// (`POST /v1/meetings`), update (`PUT /v1/meetings/{id}`), cancel (`POST …/cancel`).
struct TencentAdapter: PlatformAdapter {
    let baseURL: String
    let http: PlatformHTTP
    let clock: @Sendable () -> Date
    static let name = "Tencent Meeting"

    /// The path part of the base URL: the signature covers the URI as sent.
    private var basePath: String { URLComponents(string: baseURL)?.path ?? "" }

    private func credentials(_ given: PlatformCredentials) throws(PlatformFailure) -> TencentCredentials {
        guard case .tencent(let c) = given else { throw .permanent(code: PlatformReason.credentialsMissing, message: "not Tencent credentials") }
        return c
    }

    private func call(_ method: HTTPMethod, _ path: String, body: [String: Any], c: TencentCredentials) async throws(PlatformFailure) -> [String: Any] {
        let text = String(decoding: PlatformHTTP.json(body), as: UTF8.self)
        let uri = basePath + path
        var request = HTTPRequest(method: method, url: baseURL + path, body: Array(text.utf8))
        request.headers = TencentSigning.headers(secretId: c.secretId, secretKey: c.secretKey, appId: c.appId, sdkId: c.sdkId,
                                                 method: method.rawValue, uri: uri, body: text, now: clock(),
                                                 nonce: UInt32.random(in: 1...UInt32.max))
        let response = try await http.send(request, platform: Self.name)
        guard response.isSuccess else {
            throw PlatformFailure.status(response.status, platform: Self.name, detail: PlatformHTTP.errorCode(response))
        }
        if response.body.isEmpty { return [:] }
        return try PlatformHTTP.object(response, platform: Self.name)
    }

    private static func times(_ plan: MeetingPlan) -> [String: Any] {
        ["subject": String(plan.topic.prefix(255)), "start_time": String(Int(plan.startsAt.timeIntervalSince1970)),
         "end_time": String(Int(plan.endsAt.timeIntervalSince1970.rounded(.up)))]
    }

    func create(meetingId: String, plan: MeetingPlan, organizationId: String,
                credentials given: PlatformCredentials) async throws(PlatformFailure) -> CreatedMeeting {
        let c = try credentials(given)
        var body = Self.times(plan)
        body["userid"] = c.creatorUserId
        body["instanceid"] = 1
        body["type"] = 0
        body["time_zone"] = plan.timeZone
        if let location = plan.location { body["location"] = String(location.prefix(100)) }
        body["settings"] = ["mute_enable_join": true, "allow_in_before_host": false]
        let object = try await call(.post, "/v1/meetings", body: body, c: c)
        guard let info = (object["meeting_info_list"] as? [[String: Any]])?.first,
              let id = idText(info["meeting_id"]), let join = info["join_url"] as? String else {
            throw .permanent(code: PlatformReason.badAnswer, message: "Tencent Meeting answered without meeting_info_list")
        }
        return CreatedMeeting(platformMeetingId: id, meetingNumber: idText(info["meeting_code"]), joinUrl: join,
                              password: info["password"] as? String, startUrl: nil)
    }

    func update(platformMeetingId: String, meetingId: String, plan: MeetingPlan, organizationId: String,
                credentials given: PlatformCredentials) async throws(PlatformFailure) -> CreatedMeeting? {
        let c = try credentials(given)
        var body = Self.times(plan)
        body["userid"] = c.creatorUserId
        body["instanceid"] = 1
        _ = try await call(.put, "/v1/meetings/\(platformMeetingId)", body: body, c: c)
        return nil
    }

    func remove(platformMeetingId: String, organizationId: String,
                credentials given: PlatformCredentials) async throws(PlatformFailure) {
        let c = try credentials(given)
        do {
            _ = try await call(.post, "/v1/meetings/\(platformMeetingId)/cancel",
                               body: ["userid": c.creatorUserId, "instanceid": 1, "reason_code": 1], c: c)
        } catch .permanent(let code, _) where code == PlatformReason.notFound {
            return      // already gone
        }
    }
}
