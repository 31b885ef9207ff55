import Foundation
import HTTPClient

/// What one attempt of a delivery came to.
enum DeliveryResult: Sendable, Equatable {
    /// The channel accepted it; the provider's answer is kept in the delivery log.
    case sent(answer: String)
    /// Worth trying again (a 4xx from SMTP, a 5xx, a timeout, a rate limit); `after` overrides
    /// the back-off when the provider said how long to wait.
    case transient(reason: String, after: Duration? = nil)
    /// Trying again would not help (a rejected recipient, a 4xx from a webhook, a bad signature).
    case permanent(reason: String)

    /// A transport error (no answer at all): timeouts and refused connections are transient,
    /// an address the SSRF guard refused or a malformed URL is permanent.
    static func transportFailure(_ error: any Error) -> DeliveryResult {
        if let http = error as? HTTPClientError {
            return http.isTransient ? .transient(reason: "\(http)") : .permanent(reason: "\(http)")
        }
        if let smtp = error as? SMTPError {
            return smtp.isPermanent ? .permanent(reason: "\(smtp)") : .transient(reason: "\(smtp)")
        }
        return .transient(reason: "\(error)")
    }

    /// An HTTP endpoint's answer, as outgoing webhooks read it: 2xx is delivered; 408, 429 and
    /// 5xx are transient; any other status, redirects included (they are not followed), is final.
    static func webhookAnswer(status: Int, body: [UInt8]) -> DeliveryResult {
        let excerpt = String(decoding: body.prefix(200), as: UTF8.self)
        switch status {
        case 200..<300: return .sent(answer: "HTTP \(status)")
        case 408, 429, 500...599: return .transient(reason: "HTTP \(status): \(excerpt)")
        case 300..<400: return .permanent(reason: "HTTP \(status): redirects are not followed")
        default: return .permanent(reason: "HTTP \(status): \(excerpt)")
        }
    }
}

/// Back-off between attempts: the n-th retry waits `delays[n-1]`; past the list there are no more.
struct Backoff: Sendable, Equatable {
    var delays: [Duration]

    /// The wait before the next attempt after `attempts` attempts, or nil when they are used up.
    func delay(afterAttempt attempts: Int) -> Duration? {
        attempts >= 1 && attempts <= delays.count ? delays[attempts - 1] : nil
    }
}
