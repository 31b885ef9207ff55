import Contracts
import Crypto
import Foundation

/// Tencent Meeting's event callbacks, without I/O. Headers `timestamp` (Unix seconds), `nonce` and
/// `signature` = lowercase hex SHA-1 of token, timestamp, nonce and data sorted and joined (data:
/// the POST body's `data`, or the GET check's `check_str`); `data` is base64 of the event JSON.
/// (From Tencent Meeting's callback documentation; external-apis.md lists it as unverified, so
/// it sits behind its own verifier.)
enum TencentWebhook {
    static func signature(token: String, timestamp: String, nonce: String, data: String) -> String {
        let joined = [token, timestamp, nonce, data].sorted().joined()
        return Hex.encode(Array(Insecure.SHA1.hash(data: Data(joined.utf8))))
    }

    static func verify(token: String, timestamp: String?, nonce: String?, signature: String?, data: String, now: Date,
                       window: TimeInterval = 300) -> ZoomWebhook.Verdict {
        guard let timestamp, let nonce, let signature, let seconds = Double(timestamp) else { return .badSignature }
        guard Hex.constantTimeEquals(Self.signature(token: token, timestamp: timestamp, nonce: nonce, data: data),
                                     signature.lowercased()) else { return .badSignature }
        return abs(now.timeIntervalSince1970 - seconds) <= window ? .valid : .stale
    }

    /// `check_str` of the GET URL check, URL-decoded.
    static func checkString(query: String) -> String? {
        URLComponents(string: "?" + query)?.queryItems?.first { $0.name == "check_str" }?.value
    }

    struct Event: Decodable {
        struct Item: Decodable {
            struct Operator: Decodable {
                var userid: String?
                var user_name: String?
            }
            struct MeetingInfo: Decodable {
                var meeting_id: String?
            }
            var operate_time: Double?
            var `operator`: Operator?
            var meeting_info: MeetingInfo?
        }
        var event: String
        var payload: [Item]?
    }

    /// The event inside a POST body `{"data": base64(JSON)}`.
    static func decode(data: String) -> Event? {
        guard let json = Data(base64Encoded: data) else { return nil }
        return try? JSONDecoder().decode(Event.self, from: json)
    }

    static func facts(of event: Event, receivedAt: Date) -> [ZoomWebhook.Fact] {
        (event.payload ?? []).map { item in
            guard let id = item.meeting_info?.meeting_id, !id.isEmpty else { return .ignored(event.event) }
            let at = item.operate_time.map { Date(timeIntervalSince1970: $0 / 1000) } ?? receivedAt
            let name = item.operator?.user_name ?? item.operator?.userid ?? "?"
            switch event.event {
            case "meeting.started": return .started(platformMeetingId: id, at: at)
            case "meeting.end": return .ended(platformMeetingId: id, at: at)
            case "meeting.participant-joined":
                return .joined(platformMeetingId: id, name: name, email: nil, userId: item.operator?.userid, at: at)
            case "meeting.participant-left":
                return .left(platformMeetingId: id, name: name, email: nil, userId: item.operator?.userid, at: at)
            default: return .ignored(event.event)
            }
        }
    }
}
