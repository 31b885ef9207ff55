import Contracts
import Crypto
import Foundation
import HTTPClient

/// Zoom: Server-to-Server OAuth (token cached per account until shortly before expiry), then
/// create (`POST /v2/users/{user}/meetings`), update (`PATCH`) and delete meetings.
struct ZoomAdapter: PlatformAdapter {
    let oauthURL: String
    let apiURL: String
    let http: PlatformHTTP
    let tokens: TokenCache
    static let name = "Zoom"

    private func credentials(_ given: PlatformCredentials) throws(PlatformFailure) -> ZoomCredentials {
        guard case .zoom(let zoom) = given else { throw .permanent(code: PlatformReason.credentialsMissing, message: "not Zoom credentials") }
        return zoom
    }

    static func cacheKey(_ c: ZoomCredentials, organizationId: String) -> String {
        let digest = SHA256.hash(data: Data("\(c.clientId):\(c.clientSecret)".utf8)).prefix(12)
        return "zoom:\(organizationId):\(c.accountId):\(Hex.encode(Array(digest)))"
    }

    func token(_ c: ZoomCredentials, organizationId: String) async throws(PlatformFailure) -> String {
        let http = self.http
        let url = oauthURL + "/oauth/token?grant_type=account_credentials&account_id="
            + (c.accountId.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? c.accountId)
        return try await tokens.token(for: Self.cacheKey(c, organizationId: organizationId)) { () async throws(PlatformFailure) in
            var request = HTTPRequest(method: .post, url: url)
            request.setBasicAuthorization(username: c.clientId, password: c.clientSecret)
            let response = try await http.send(request, platform: Self.name)
            guard response.isSuccess else {
                // Zoom answers wrong client credentials or account id with 400 invalid_client.
                if response.status == 400 || response.status == 401 {
                    throw .permanent(code: PlatformReason.authFailed,
                                     message: "Zoom refused the app credentials (HTTP \(response.status), \(PlatformHTTP.errorCode(response) ?? "no code"))")
                }
                throw PlatformFailure.status(response.status, platform: "Zoom OAuth", detail: PlatformHTTP.errorCode(response))
            }
            let object = try PlatformHTTP.object(response, platform: Self.name)
            guard let token = object["access_token"] as? String, !token.isEmpty else {
                throw .permanent(code: PlatformReason.badAnswer, message: "Zoom OAuth answered without an access_token")
            }
            let seconds = (object["expires_in"] as? NSNumber)?.intValue ?? 3600
            return (token, .seconds(max(seconds, 1)))
        }
    }

    /// One API call with the account's token; a token Zoom no longer accepts is renewed once.
    private func call(_ method: HTTPMethod, _ path: String, body: [String: Any]?, c: ZoomCredentials,
                      organizationId: String) async throws(PlatformFailure) -> HTTPResponse {
        for attempt in 0..<2 {
            let token = try await token(c, organizationId: organizationId)
            var request = HTTPRequest(method: method, url: apiURL + path)
            request.setHeader("Authorization", "Bearer " + token)
            if let body {
                request.setHeader("Content-Type", "application/json")
                request.body = PlatformHTTP.json(body)
            }
            let response = try await http.send(request, platform: Self.name)
            if response.status == 401 && attempt == 0 {
                await tokens.invalidate(Self.cacheKey(c, organizationId: organizationId), token: token)
                continue
            }
            return response
        }
        throw .permanent(code: PlatformReason.authFailed, message: "Zoom refused a fresh token")
    }

    static func fields(_ plan: MeetingPlan) -> [String: Any] {
        let minutes = max(1, Int((plan.endsAt.timeIntervalSince(plan.startsAt) / 60).rounded(.up)))
        var body: [String: Any] = [
            "topic": String(plan.topic.prefix(200)), "type": 2, "start_time": ISO8601.format(Date(timeIntervalSince1970: plan.startsAt.timeIntervalSince1970.rounded(.down))),
            "duration": minutes, "timezone": plan.timeZone,
            "settings": ["join_before_host": false, "waiting_room": true],
        ]
        if let description = plan.description, !description.isEmpty { body["agenda"] = String(description.prefix(2000)) }
        return body
    }

    func create(meetingId: String, plan: MeetingPlan, organizationId: String,
                credentials given: PlatformCredentials) async throws(PlatformFailure) -> CreatedMeeting {
        let c = try credentials(given)
        let user = (c.userId?.isEmpty == false ? c.userId! : "me")
        let path = "/v2/users/\(user.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? user)/meetings"
        let response = try await call(.post, path, body: Self.fields(plan), c: c, organizationId: organizationId)
        guard response.status == 201 || response.status == 200 else {
            throw PlatformFailure.status(response.status, platform: Self.name, detail: PlatformHTTP.errorCode(response))
        }
        let object = try PlatformHTTP.object(response, platform: Self.name)
        guard let id = idText(object["id"]), let join = object["join_url"] as? String else {
            throw .permanent(code: PlatformReason.badAnswer, message: "Zoom answered without id or join_url")
        }
        return CreatedMeeting(platformMeetingId: id, meetingNumber: id, joinUrl: join, password: object["password"] as? String,
                              startUrl: object["start_url"] as? String)
    }

    func update(platformMeetingId: String, meetingId: String, plan: MeetingPlan, organizationId: String,
                credentials given: PlatformCredentials) async throws(PlatformFailure) -> CreatedMeeting? {
        let c = try credentials(given)
        let response = try await call(.patch, "/v2/meetings/\(platformMeetingId)", body: Self.fields(plan), c: c,
                                      organizationId: organizationId)
        guard response.isSuccess else {
            throw PlatformFailure.status(response.status, platform: Self.name, detail: PlatformHTTP.errorCode(response))
        }
        return nil
    }

    func remove(platformMeetingId: String, organizationId: String,
                credentials given: PlatformCredentials) async throws(PlatformFailure) {
        let c = try credentials(given)
        let response = try await call(.delete, "/v2/meetings/\(platformMeetingId)", body: nil, c: c, organizationId: organizationId)
        // Already gone is what was wanted.
        guard response.isSuccess || response.status == 404 else {
            throw PlatformFailure.status(response.status, platform: Self.name, detail: PlatformHTTP.errorCode(response))
        }
    }
}
