import Contracts
import Crypto
import Foundation

/// Zoom's webhook rules (external-apis.md), without I/O: the signature over the raw body, the
/// clock window, URL validation, and what each event means for Convene.
enum ZoomWebhook {
    /// Zoom signs `v0:{x-zm-request-timestamp}:{raw body}`; the header is `v0=` + hex HMAC-SHA256.
    static func signature(secretToken: String, timestamp: String, body: String) -> String {
        signature(secretToken: secretToken, timestamp: timestamp, body: Array(body.utf8))
    }

    /// Over the raw bytes as they arrived (a body that is not valid UTF-8 is signed as it is).
    static func signature(secretToken: String, timestamp: String, body: [UInt8]) -> String {
        let message = Data("v0:\(timestamp):".utf8) + Data(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secretToken.utf8)))
        return "v0=" + Hex.encode(Array(mac))
    }

    enum Verdict: Equatable {
        case valid
        case badSignature
        case stale
    }

    /// The request's timestamp is Unix seconds (a value in milliseconds is read as such) and
    /// must be within `window` of `now`; the signature must match over the raw body.
    static func verify(secretToken: String, timestamp: String?, signature: String?, body: String, now: Date,
                       window: TimeInterval = 300) -> Verdict {
        verify(secretToken: secretToken, timestamp: timestamp, signature: signature, body: Array(body.utf8), now: now, window: window)
    }

    static func verify(secretToken: String, timestamp: String?, signature: String?, body: [UInt8], now: Date,
                       window: TimeInterval = 300) -> Verdict {
        guard let timestamp, let signature, let number = Double(timestamp), number.isFinite else { return .badSignature }
        guard Hex.constantTimeEquals(Self.signature(secretToken: secretToken, timestamp: timestamp, body: body), signature) else {
            return .badSignature
        }
        let seconds = number > 100_000_000_000 ? number / 1000 : number
        return abs(now.timeIntervalSince1970 - seconds) <= window ? .valid : .stale
    }

    /// The answer to `endpoint.url_validation`.
    static func validationAnswer(plainToken: String, secretToken: String) -> [String: String] {
        ["plainToken": plainToken, "encryptedToken": Hex.hmacSHA256(key: secretToken, plainToken)]
    }

    /// What a verified event says, with the platform's meeting id still to be mapped to Convene's.
    enum Fact: Equatable {
        case started(platformMeetingId: String, at: Date)
        case ended(platformMeetingId: String, at: Date)
        case joined(platformMeetingId: String, name: String, email: String?, userId: String?, at: Date)
        case left(platformMeetingId: String, name: String, email: String?, userId: String?, at: Date)
        case recording(platformMeetingId: String, shareUrl: String?, files: [PlatformRecordingReady.File])
        /// An event Convene has no use for (acknowledged, nothing done).
        case ignored(String)

        var platformMeetingId: String? {
            switch self {
            case .started(let id, _), .ended(let id, _), .joined(let id, _, _, _, _), .left(let id, _, _, _, _),
                 .recording(let id, _, _): id
            case .ignored: nil
            }
        }
    }

    /// The envelope fields of a Zoom event body.
    struct Event: Decodable {
        struct Payload: Decodable {
            var account_id: String?
            var plainToken: String?
            var object: JSONValue?
        }
        var event: String
        var event_ts: Double?
        var payload: Payload?
    }

    static func decode(_ body: [UInt8]) -> Event? {
        try? JSONDecoder().decode(Event.self, from: Data(body))
    }

    /// Reads a verified event. `receivedAt` stands in for times the event leaves out.
    static func fact(of event: Event, receivedAt: Date) -> Fact {
        guard case .object(let object)? = event.payload?.object else { return .ignored(event.event) }
        guard let meetingId = idString(object["id"]) else { return .ignored(event.event) }
        let eventTime = event.event_ts.map { Date(timeIntervalSince1970: $0 / 1000) } ?? receivedAt
        switch event.event {
        case "meeting.started":
            return .started(platformMeetingId: meetingId, at: date(object["start_time"]) ?? eventTime)
        case "meeting.ended":
            return .ended(platformMeetingId: meetingId, at: date(object["end_time"]) ?? eventTime)
        case "meeting.participant_joined", "meeting.participant_left":
            guard case .object(let participant)? = object["participant"] else { return .ignored(event.event) }
            let name = string(participant["user_name"]) ?? "?"
            let email = string(participant["email"]).flatMap { $0.isEmpty ? nil : $0 }
            let userId = string(participant["participant_user_id"]) ?? idString(participant["user_id"])
            if event.event == "meeting.participant_joined" {
                return .joined(platformMeetingId: meetingId, name: name, email: email, userId: userId,
                               at: date(participant["join_time"]) ?? eventTime)
            }
            return .left(platformMeetingId: meetingId, name: name, email: email, userId: userId,
                         at: date(participant["leave_time"]) ?? eventTime)
        case "recording.completed":
            var files: [PlatformRecordingReady.File] = []
            if case .array(let list)? = object["recording_files"] {
                for case .object(let file) in list {
                    files.append(.init(type: string(file["file_type"]) ?? "UNKNOWN",
                                       sizeBytes: number(file["file_size"]).map { Int($0) },
                                       startedAt: date(file["recording_start"]), endedAt: date(file["recording_end"])))
                }
            }
            return .recording(platformMeetingId: meetingId, shareUrl: string(object["share_url"]), files: files)
        default:
            return .ignored(event.event)
        }
    }

    private static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    private static func number(_ value: JSONValue?) -> Double? {
        if case .number(let n)? = value { return n }
        return nil
    }

    /// Zoom's meeting ids are numbers in JSON (and strings in some payloads).
    private static func idString(_ value: JSONValue?) -> String? {
        switch value {
        case .number(let n)? where n.rounded() == n && abs(n) < 1e17: String(Int64(n))
        case .string(let text)? where !text.isEmpty: text
        default: nil
        }
    }

    private static func date(_ value: JSONValue?) -> Date? {
        guard let text = string(value) else { return nil }
        return ISO8601.parse(text)
    }
}
