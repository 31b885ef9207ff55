import Contracts
import Foundation
import HTTPClient

/// An organization's credentials for one platform, opened for a call.
enum PlatformCredentials: Sendable {
    case zoom(ZoomCredentials)
    case tencent(TencentCredentials)
    case dingtalk(DingTalkCredentials)

    var platform: String {
        switch self {
        case .zoom: MeetingPlatformName.zoom
        case .tencent: MeetingPlatformName.tencent
        case .dingtalk: MeetingPlatformName.dingtalk
        }
    }
}

/// A meeting as a platform created it. `startUrl` is the host's (a secret).
struct CreatedMeeting: Sendable, Equatable {
    var platformMeetingId: String
    var meetingNumber: String?
    var joinUrl: String
    var password: String?
    var startUrl: String?
}

/// What a platform adapter does, each call one request (after a token, if it needs one).
protocol PlatformAdapter: Sendable {
    func create(meetingId: String, plan: MeetingPlan, organizationId: String,
                credentials: PlatformCredentials) async throws(PlatformFailure) -> CreatedMeeting
    /// New times or topic; returns the meeting as it now is when the platform changes what
    /// attendees need (else nil: the stored join details stay).
    func update(platformMeetingId: String, meetingId: String, plan: MeetingPlan, organizationId: String,
                credentials: PlatformCredentials) async throws(PlatformFailure) -> CreatedMeeting?
    func remove(platformMeetingId: String, organizationId: String, credentials: PlatformCredentials) async throws(PlatformFailure)
}

/// The HTTP side every adapter shares: JSON in and out, errors sorted into transient and permanent.
struct PlatformHTTP: Sendable {
    let client: any HTTPExecuting
    let timeout: Duration

    func send(_ request: HTTPRequest, platform: String) async throws(PlatformFailure) -> HTTPResponse {
        do {
            return try await client.execute(request, timeout: timeout)
        } catch let error as HTTPClientError {
            if error.isTransient { throw .transient("\(platform): \(error)") }
            throw .permanent(code: PlatformReason.rejected, message: "\(platform): \(error)")
        } catch {
            throw .transient("\(platform): \(error)")
        }
    }

    static func json(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    static func object(_ response: HTTPResponse, platform: String) throws(PlatformFailure) -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] else {
            throw .permanent(code: PlatformReason.badAnswer, message: "\(platform) answered HTTP \(response.status) without a JSON object")
        }
        return object
    }

    /// A short, non-secret description of an error answer (the platform's own code).
    static func errorCode(_ response: HTTPResponse) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] else { return nil }
        if let info = object["error_info"] as? [String: Any], let code = info["error_code"] { return "error_code \(code)" }
        if let code = object["code"] { return "code \(code)" }
        if let code = object["error"] as? String { return code }
        return nil
    }
}

/// Text of a JSON value that may be a number or a string (platform ids come as both).
func idText(_ value: Any?) -> String? {
    switch value {
    case let text as String where !text.isEmpty: text
    case let number as NSNumber: number.stringValue
    default: nil
    }
}
