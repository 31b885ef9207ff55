import Crypto
import Foundation

/// What an API key may do. A key acts only in its own organization, and only on the organizer
/// routes whose scope it holds; account routes and the organization's administration (members,
/// departments, role requests, webhooks, robots, notification rules, API keys) are for signed-in
/// accounts only.
enum APIKeyScope: String, Sendable, CaseIterable, Codable, Comparable {
    /// The organization's conferences, drafts included.
    case conferencesRead = "conferences:read"
    /// Create, edit, publish and cancel conferences; set their registration settings.
    case conferencesWrite = "conferences:write"
    /// Registrations of the organization's conferences, their exports and the participant database.
    case registrationsRead = "registrations:read"
    /// Approve, reject or ask for changes to a registration.
    case registrationsReview = "registrations:review"
    /// A registration's order.
    case paymentsRead = "payments:read"
    /// Confirm bank transfers, import bank statements, waive a fee.
    case paymentsWrite = "payments:write"
    /// The organization's enterprise meetings (with agenda, materials, join links) and rooms.
    case meetingsRead = "meetings:read"
    /// Schedule, change and cancel enterprise meetings; set agendas, attach materials; manage rooms.
    case meetingsWrite = "meetings:write"
    /// The attendees of the organization's meetings, and the import templates.
    case attendeesRead = "attendees:read"
    /// Add, change, remove and import attendees of the organization's meetings.
    case attendeesWrite = "attendees:write"

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Every scope's name, in the documented order.
    static var names: [String] { allCases.map(\.rawValue) }
}

/// The rules of a new API key's name, scopes and expiry; every violation is reported at once.
enum APIKeyRules {
    static let maximumNameLength = 100
    static let maximumScopes = 20

    /// Why a list of scopes is refused.
    struct InvalidScopes: Error, Equatable {
        var violation: SignUpRules.Violation
    }

    /// The scopes named, without repeats; refused when there is none, too many, or one this
    /// build does not know.
    static func parseScopes(_ scopes: [String]) throws(InvalidScopes) -> Set<APIKeyScope> {
        guard !scopes.isEmpty else {
            throw InvalidScopes(violation: .init(field: "scopes", code: "scopes_required", message: "name at least one scope"))
        }
        guard scopes.count <= maximumScopes else {
            throw InvalidScopes(violation: .init(field: "scopes", code: "too_many", message: "at most \(maximumScopes) scopes"))
        }
        let unknown = scopes.filter { APIKeyScope(rawValue: $0) == nil }
        guard unknown.isEmpty else {
            let shown = unknown.prefix(5).map { String($0.prefix(40)) }.joined(separator: ", ")
            throw InvalidScopes(violation: .init(field: "scopes", code: "unknown_scope",
                                                 message: "unknown scope \(shown); one of \(APIKeyScope.names.joined(separator: ", "))"))
        }
        return Set(scopes.compactMap(APIKeyScope.init(rawValue:)))
    }

    /// Every problem of a new key's fields; empty when the key may be created.
    static func violations(name: String, scopes: [String], expiresAt: Date?, now: Date) -> [SignUpRules.Violation] {
        var violations: [SignUpRules.Violation] = []
        if let violation = SignUpRules.checkText(name, field: "name", required: true, maximum: maximumNameLength) {
            violations.append(violation)
        }
        do {
            _ = try parseScopes(scopes)
        } catch {
            violations.append(error.violation)
        }
        if let expiresAt, expiresAt <= now {
            violations.append(.init(field: "expiresAt", code: "invalid_expiry", message: "must be in the future"))
        }
        return violations
    }
}

/// An API key's secret: `cvk_<id>_<secret>`, where `<id>` is 12 lower-case hex digits that name
/// the key (shown in lists as the key's prefix `cvk_<id>`, and what a leaked-secret scan can
/// match) and `<secret>` is 32 random bytes in base64url without padding. Only the SHA-256 of the
/// whole string is stored: the secret has 256 bits of entropy, so a fast hash is enough.
struct APIKeySecret: Sendable, Equatable {
    static let marker = "cvk_"
    static let publicIdLength = 12
    static let secretLength = 43
    /// `cvk_` + id + `_` + secret.
    static let length = marker.count + publicIdLength + 1 + secretLength

    /// The key's public id (12 hex digits).
    var publicId: String
    /// The whole secret as the caller presents it.
    var value: String

    /// `cvk_<id>`, as lists show it.
    var prefix: String { Self.marker + publicId }

    static func generate() -> APIKeySecret {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<publicIdLength / 2).map { _ in
            let hex = String(UInt8.random(in: .min ... .max, using: &generator), radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return APIKeySecret(publicId: id, value: marker + id + "_" + Base64URL.encode(bytes))
    }

    /// Whether a bearer credential is meant as an API key (and not as an access token): it starts
    /// with `cvk_`. Such a credential is never tried as a JWT.
    static func isAPIKey(_ credential: String) -> Bool { credential.hasPrefix(marker) }

    /// The secret when `credential` has the shape of one; nil otherwise.
    static func parse(_ credential: String) -> APIKeySecret? {
        let bytes = Array(credential.utf8)
        guard bytes.count == length, credential.hasPrefix(marker) else { return nil }
        let id = bytes[marker.count..<(marker.count + publicIdLength)]
        let separator = bytes[marker.count + publicIdLength]
        let secret = bytes[(marker.count + publicIdLength + 1)...]
        guard id.allSatisfy(isLowerHex), separator == UInt8(ascii: "_"), secret.allSatisfy(isBase64URL) else { return nil }
        return APIKeySecret(publicId: String(decoding: id, as: UTF8.self), value: credential)
    }

    /// SHA-256 of the whole secret: what the database keeps.
    var hash: [UInt8] { Array(SHA256.hash(data: Array(value.utf8))) }

    /// Whether this secret is the one whose hash is `stored`, compared in constant time.
    func matches(_ stored: [UInt8]) -> Bool { Self.constantTimeEqual(hash, stored) }

    /// Equal byte strings, in a time that depends only on their lengths.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
}

/// When a key's `last_used_at` is worth writing: not on every request, at most once a minute.
enum APIKeyUsage {
    static let recordingInterval: TimeInterval = 60

    static func shouldRecord(lastUsedAt: Date?, now: Date) -> Bool {
        guard let lastUsedAt else { return true }
        return now.timeIntervalSince(lastUsedAt) >= recordingInterval
    }
}
