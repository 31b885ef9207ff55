import Contracts
import Crypto
import Foundation
import HTTPClient

/// DingTalk: an app access token (cached per app, 7200 s), then scheduled conferences:
/// create, update (`PUT`), cancel.
struct DingTalkAdapter: PlatformAdapter {
    let baseURL: String
    /// The legacy API (`oapi`), for the department member list.
    let oapiURL: String
    let http: PlatformHTTP
    let tokens: TokenCache
    static let name = "DingTalk"

    private func credentials(_ given: PlatformCredentials) throws(PlatformFailure) -> DingTalkCredentials {
        guard case .dingtalk(let c) = given else { throw .permanent(code: PlatformReason.credentialsMissing, message: "not DingTalk credentials") }
        return c
    }

    static func cacheKey(_ c: DingTalkCredentials, organizationId: String) -> String {
        let digest = SHA256.hash(data: Data("\(c.appKey):\(c.appSecret)".utf8)).prefix(12)
        return "dingtalk:\(organizationId):\(c.appKey):\(Hex.encode(Array(digest)))"
    }

    func token(_ c: DingTalkCredentials, organizationId: String) async throws(PlatformFailure) -> String {
        let (http, url) = (self.http, baseURL + "/v1.0/oauth2/accessToken")
        return try await tokens.token(for: Self.cacheKey(c, organizationId: organizationId)) { () async throws(PlatformFailure) in
            var request = HTTPRequest(method: .post, url: url, body: PlatformHTTP.json(["appKey": c.appKey, "appSecret": c.appSecret]))
            request.setHeader("Content-Type", "application/json")
            let response = try await http.send(request, platform: Self.name)
            guard response.isSuccess else {
                // DingTalk answers a wrong appKey or appSecret with 400.
                if response.status == 400 {
                    throw .permanent(code: PlatformReason.authFailed, message: "DingTalk refused the app credentials (HTTP 400)")
                }
                throw PlatformFailure.status(response.status, platform: "DingTalk token", detail: PlatformHTTP.errorCode(response))
            }
            let object = try PlatformHTTP.object(response, platform: Self.name)
            guard let token = object["accessToken"] as? String, !token.isEmpty else {
                throw .permanent(code: PlatformReason.badAnswer, message: "DingTalk answered without an accessToken")
            }
            return (token, .seconds(max((object["expireIn"] as? NSNumber)?.intValue ?? 7200, 1)))
        }
    }

    private func call(_ method: HTTPMethod, _ path: String, body: [String: Any], c: DingTalkCredentials,
                      organizationId: String) async throws(PlatformFailure) -> [String: Any] {
        for attempt in 0..<2 {
            let token = try await token(c, organizationId: organizationId)
            var request = HTTPRequest(method: method, url: baseURL + path, body: PlatformHTTP.json(body))
            request.setHeader("Content-Type", "application/json")
            request.setHeader("x-acs-dingtalk-access-token", token)
            let response = try await http.send(request, platform: Self.name)
            if response.status == 401 && attempt == 0 {
                await tokens.invalidate(Self.cacheKey(c, organizationId: organizationId), token: token)
                continue
            }
            guard response.isSuccess else {
                throw PlatformFailure.status(response.status, platform: Self.name, detail: PlatformHTTP.errorCode(response))
            }
            return try PlatformHTTP.object(response, platform: Self.name)
        }
        throw .permanent(code: PlatformReason.authFailed, message: "DingTalk refused a fresh token")
    }

    private static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    func create(meetingId: String, plan: MeetingPlan, organizationId: String,
                credentials given: PlatformCredentials) async throws(PlatformFailure) -> CreatedMeeting {
        let c = try credentials(given)
        let object = try await call(.post, "/v1.0/conference/scheduleConferences", body: [
            "creatorUnionId": c.creatorUnionId, "title": String(plan.topic.prefix(128)),
            "startTime": Self.millis(plan.startsAt), "endTime": Self.millis(plan.endsAt),
        ], c: c, organizationId: organizationId)
        guard let id = idText(object["scheduleConferenceId"]), let url = object["url"] as? String else {
            throw .permanent(code: PlatformReason.badAnswer, message: "DingTalk answered without scheduleConferenceId or url")
        }
        return CreatedMeeting(platformMeetingId: id, meetingNumber: idText(object["roomCode"]), joinUrl: url, password: nil,
                              startUrl: nil)
    }

    func update(platformMeetingId: String, meetingId: String, plan: MeetingPlan, organizationId: String,
                credentials given: PlatformCredentials) async throws(PlatformFailure) -> CreatedMeeting? {
        let c = try credentials(given)
        _ = try await call(.put, "/v1.0/conference/scheduleConferences", body: [
            "creatorUnionId": c.creatorUnionId, "scheduleConferenceId": platformMeetingId,
            "title": String(plan.topic.prefix(128)), "startTime": Self.millis(plan.startsAt), "endTime": Self.millis(plan.endsAt),
        ], c: c, organizationId: organizationId)
        return nil
    }

    func remove(platformMeetingId: String, organizationId: String,
                credentials given: PlatformCredentials) async throws(PlatformFailure) {
        let c = try credentials(given)
        do {
            _ = try await call(.post, "/v1.0/conference/scheduleConferences/cancel", body: [
                "creatorUnionId": c.creatorUnionId, "scheduleConferenceId": platformMeetingId,
            ], c: c, organizationId: organizationId)
        } catch .permanent(let code, _) where code == PlatformReason.notFound {
            return
        }
    }

    /// Every member of a department (all pages of `topapi/v2/user/list`, at most `limit`).
    func departmentMembers(_ departmentId: Int64, organizationId: String, credentials given: PlatformCredentials,
                           limit: Int = 5000) async throws(PlatformFailure) -> [PlatformMember] {
        let c = try credentials(given)
        var members: [PlatformMember] = []
        var cursor = 0
        var renewed = false
        while members.count < limit {
            let token = try await token(c, organizationId: organizationId)
            var request = HTTPRequest(method: .post, url: oapiURL + "/topapi/v2/user/list?access_token="
                                      + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token),
                                      body: PlatformHTTP.json(["dept_id": departmentId, "cursor": cursor, "size": 100]))
            request.setHeader("Content-Type", "application/json")
            let response = try await http.send(request, platform: Self.name)
            guard response.isSuccess else {
                throw PlatformFailure.status(response.status, platform: Self.name, detail: PlatformHTTP.errorCode(response))
            }
            let object = try PlatformHTTP.object(response, platform: Self.name)
            let code = (object["errcode"] as? NSNumber)?.intValue ?? -1
            switch code {
            case 0: break
            case 40014 where !renewed, 42001 where !renewed:
                // A token DingTalk no longer takes: once more with a fresh one.
                await tokens.invalidate(Self.cacheKey(c, organizationId: organizationId), token: token)
                renewed = true
                continue
            case 60003:
                throw .permanent(code: PlatformReason.notFound, message: "DingTalk has no department \(departmentId)")
            case -1:
                throw .transient("DingTalk is busy (errcode -1)")
            default:
                throw .permanent(code: PlatformReason.rejected, message: "DingTalk refused the member list (errcode \(code))")
            }
            let result = object["result"] as? [String: Any] ?? [:]
            for user in result["list"] as? [[String: Any]] ?? [] {
                guard let userId = idText(user["userid"]) else { continue }
                members.append(PlatformMember(userId: userId, unionId: idText(user["unionid"]), name: user["name"] as? String ?? userId,
                                              email: (user["email"] as? String).flatMap { $0.isEmpty ? nil : $0 },
                                              mobile: (user["mobile"] as? String).flatMap { $0.isEmpty ? nil : $0 },
                                              title: (user["title"] as? String).flatMap { $0.isEmpty ? nil : $0 }))
            }
            guard result["has_more"] as? Bool == true, let next = (result["next_cursor"] as? NSNumber)?.intValue else { break }
            cursor = next
        }
        return Array(members.prefix(limit))
    }
}
