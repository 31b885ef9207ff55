import Contracts

/// Why a platform call did not succeed, sorted by what to do about it: a transient failure is
/// tried again after a back-off, a permanent one ends the provisioning with its reason code.
enum PlatformFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// 5xx, 408, 429, a timeout, a refused or broken connection.
    case transient(String)
    /// The platform refused the request (4xx): `code` is one of `PlatformReason`.
    case permanent(code: String, message: String)

    var description: String {
        switch self {
        case .transient(let reason): "transient: \(reason)"
        case .permanent(let code, let message): "\(code): \(message)"
        }
    }

    /// A failure from an HTTP status the platform answered (the body is not repeated: it may
    /// echo what was sent).
    static func status(_ status: Int, platform: String, detail: String? = nil) -> PlatformFailure {
        let suffix = detail.map { " (\($0))" } ?? ""
        if status >= 500 || status == 408 || status == 429 {
            return .transient("\(platform) answered HTTP \(status)\(suffix)")
        }
        if status == 401 || status == 403 {
            return .permanent(code: PlatformReason.authFailed, message: "\(platform) refused the credentials (HTTP \(status))\(suffix)")
        }
        if status == 404 {
            return .permanent(code: PlatformReason.notFound, message: "\(platform) does not know the meeting (HTTP 404)\(suffix)")
        }
        return .permanent(code: PlatformReason.rejected, message: "\(platform) refused the request (HTTP \(status))\(suffix)")
    }
}

/// The stable reason codes of `platform.provisioning_failed`.
enum PlatformReason {
    /// The organization has no credentials for the platform.
    static let credentialsMissing = "platform.credentials_missing"
    /// The platform refused the credentials or the request's signature.
    static let authFailed = "platform.auth_failed"
    /// The platform refused the request itself (a field it does not accept).
    static let rejected = "platform.rejected"
    /// The platform kept failing (5xx, timeouts, down) until the attempts ran out.
    static let unavailable = "platform.unavailable"
    /// The platform no longer knows the meeting (an update or a cancellation).
    static let notFound = "platform.meeting_not_found"
    /// The platform's answer could not be read.
    static let badAnswer = "platform.bad_answer"
}
