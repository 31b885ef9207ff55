import Foundation
import HTTPClient

/// DingTalk custom robots and WeCom group robots: markdown messages to a group chat.
enum RobotKind: String, Sendable, Codable, CaseIterable {
    case dingtalk, wecom

    /// The query parameter that carries the robot's token (the secret part of its address).
    var tokenParameter: String { self == .dingtalk ? "access_token" : "key" }
}

/// What a robot needs to send: its token or key and, for a signed DingTalk robot, its secret.
/// Stored sealed; never logged.
struct RobotCredentials: Codable, Sendable, Equatable {
    var token: String
    var secret: String?
}

enum RobotAPI {
    struct Refusal: Error, CustomStringConvertible, Equatable {
        let description: String
    }

    /// Takes the token out of the address an IM client shows (`…/robot/send?access_token=…`).
    /// The address must be the provider's (as configured), so a robot cannot point Convene at an
    /// arbitrary host.
    static func token(fromWebhookURL text: String, kind: RobotKind, base: String) throws -> String {
        guard let url = URLComponents(string: text), let expected = URLComponents(string: base),
              url.scheme == expected.scheme, url.host == expected.host, url.port == expected.port, url.path == expected.path
        else {
            throw Refusal(description: "a \(kind.rawValue) robot address starts with \(base)")
        }
        guard let token = url.queryItems?.first(where: { $0.name == kind.tokenParameter })?.value, !token.isEmpty,
              token.count <= 256, token.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        else {
            throw Refusal(description: "the robot address has no valid \(kind.tokenParameter)")
        }
        return token
    }

    /// The provider's markdown message. DingTalk shows `title` in the notification, WeCom has no
    /// title so it leads the content as a heading.
    static func request(kind: RobotKind, base: String, credentials: RobotCredentials, title: String, markdown: String,
                        now: Date) throws -> HTTPRequest {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let token = credentials.token.addingPercentEncoding(withAllowedCharacters: allowed) ?? credentials.token
        var url = "\(base)?\(kind.tokenParameter)=\(token)"
        let body: [String: Any]
        switch kind {
        case .dingtalk:
            if let secret = credentials.secret {
                url = DingTalkRobotSignature.signedURL(url, secret: secret,
                                                       timestampMilliseconds: Int64(now.timeIntervalSince1970 * 1000))
            }
            body = ["msgtype": "markdown", "markdown": ["title": title, "text": markdown]]
        case .wecom:
            body = ["msgtype": "markdown", "markdown": ["content": Self.weComContent(title: title, markdown: markdown)]]
        }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return HTTPRequest(method: .post, url: url, headers: [("Content-Type", "application/json; charset=utf-8")],
                           body: Array(data))
    }

    /// WeCom refuses markdown content over 4,096 bytes: cut at a character boundary.
    static func weComContent(title: String, markdown: String) -> String {
        var content = "### \(title)\n\(markdown)"
        let limit = 4096
        guard content.utf8.count > limit else { return content }
        let marker = "…"
        while content.utf8.count > limit - marker.utf8.count { content.removeLast() }
        return content + marker
    }

    /// Both providers answer HTTP 200 with `errcode` (0 = sent). Their "too fast" codes mean the
    /// message should wait a minute; anything else they refuse will not improve with retrying.
    static func interpret(kind: RobotKind, status: Int, body: [UInt8]) -> DeliveryResult {
        guard (200..<300).contains(status) else {
            return status >= 500 || status == 429 || status == 408
                ? .transient(reason: "HTTP \(status)") : .permanent(reason: "HTTP \(status)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let code = (object["errcode"] as? NSNumber)?.intValue
        else {
            return .transient(reason: "unreadable answer: \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        let message = object["errmsg"] as? String ?? ""
        let answer = "errcode \(code): \(message)"
        switch (kind, code) {
        case (_, 0): return .sent(answer: answer)
        case (.dingtalk, 130101), (.wecom, 45009): return .transient(reason: answer, after: .seconds(60))
        case (.wecom, -1): return .transient(reason: answer)
        default: return .permanent(reason: answer)
        }
    }
}
