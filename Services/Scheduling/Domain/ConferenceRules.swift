import Contracts
import Foundation

/// What makes a conference's details acceptable, and which status changes are allowed.
enum ConferenceRules {
    static let platforms: Set<String> = ["zoom", "tencent", "dingtalk", "other"]
    static let maximumDuration: TimeInterval = 31 * 24 * 3600

    /// Every problem of `details`, by field; empty when acceptable.
    static func problems(_ details: ConferenceDetails) -> [String: String] {
        var problems: [String: String] = [:]
        let title = details.title.trimmingCharacters(in: .whitespacesAndNewlines)
        if title.isEmpty || title.count > 300 { problems["title"] = "1 to 300 characters" }
        if (details.description?.count ?? 0) > 20_000 { problems["description"] = "at most 20,000 characters" }
        if TimeZone(identifier: details.timeZone) == nil || !details.timeZone.contains("/") && details.timeZone != "UTC" {
            problems["timeZone"] = "an IANA time zone such as Asia/Shanghai"
        }
        if details.endsAt <= details.startsAt {
            problems["endsAt"] = "after startsAt"
        } else if details.endsAt.timeIntervalSince(details.startsAt) > maximumDuration {
            problems["endsAt"] = "at most 31 days after startsAt"
        }
        if details.registrationClosesAt <= details.registrationOpensAt {
            problems["registrationClosesAt"] = "after registrationOpensAt"
        } else if details.registrationClosesAt > details.endsAt {
            problems["registrationClosesAt"] = "no later than the conference's end"
        }
        let venue = details.venue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if venue.isEmpty && details.onlinePlatform == nil {
            problems["venue"] = "a venue or an onlinePlatform is required"
        }
        if venue.count > 500 { problems["venue"] = "at most 500 characters" }
        if let platform = details.onlinePlatform, !platforms.contains(platform) {
            problems["onlinePlatform"] = "one of \(platforms.sorted().joined(separator: ", "))"
        }
        if details.languages.isEmpty || details.languages.count > 10
            || details.languages.contains(where: { !isLanguageTag($0) }) || Set(details.languages).count != details.languages.count {
            problems["languages"] = "1 to 10 distinct language tags such as zh-CN or en"
        }
        if !isEmail(details.contactEmail) { problems["contactEmail"] = "an email address" }
        if let phone = details.contactPhone, phone.count > 40 || phone.isEmpty { problems["contactPhone"] = "at most 40 characters" }
        return problems
    }

    enum Status: String, Sendable {
        case draft, published, cancelled
    }

    enum Change: Sendable {
        case update, publish, cancel
    }

    /// The status after `change`, or the error that refuses it.
    static func apply(_ change: Change, to status: Status, startsAt: Date, now: Date) throws -> Status {
        switch (change, status) {
        case (.update, .draft), (.update, .published):
            return status
        case (.publish, .draft):
            guard startsAt > now else {
                throw ConveneError(code: "scheduling.invalid_state", message: "a conference that has started cannot be published")
            }
            return .published
        case (.cancel, .draft), (.cancel, .published):
            return .cancelled
        default:
            throw ConveneError(code: "scheduling.invalid_state", message: "a \(status.rawValue) conference cannot be \(change.pastTense)")
        }
    }

    static func isLanguageTag(_ tag: String) -> Bool {
        let parts = tag.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLetter }) else { return false }
        return parts.dropFirst().allSatisfy { (2...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return text.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !text.contains(where: { $0.isWhitespace })
    }
}

extension ConferenceRules.Change {
    var pastTense: String {
        switch self {
        case .update: "updated"
        case .publish: "published"
        case .cancel: "cancelled"
        }
    }
}
