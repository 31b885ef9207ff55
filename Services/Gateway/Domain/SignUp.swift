import Foundation

/// The rules an account's sign-up details must meet. Every problem is reported, not just the
/// first, so a form can show them all at once.
struct SignUpRules: Sendable {
    /// bcrypt reads at most 72 bytes; a longer password would be silently truncated, so it is refused.
    static let maximumPasswordBytes = 72
    static let minimumPasswordCharacters = 10
    static let locales: Set<String> = ["zh-CN", "en"]

    struct Violation: Sendable, Equatable, Codable {
        var field: String
        var code: String
        var message: String
    }

    static func checkEmail(_ raw: String) -> Violation? {
        let email = raw.trimmingCharacters(in: .whitespaces)
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        let valid = email.utf8.count <= 254
            && parts.count == 2
            && (1...64).contains(parts[0].utf8.count)
            && parts[1].contains(".") && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && !email.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
        return valid ? nil : Violation(field: "email", code: "invalid_email", message: "not a valid email address")
    }

    static func checkPassword(_ password: String, field: String = "password") -> Violation? {
        if password.count < minimumPasswordCharacters {
            return Violation(field: field, code: "password_too_short",
                             message: "at least \(minimumPasswordCharacters) characters")
        }
        if password.utf8.count > maximumPasswordBytes {
            return Violation(field: field, code: "password_too_long",
                             message: "at most \(maximumPasswordBytes) bytes of UTF-8")
        }
        return nil
    }

    static func checkText(_ value: String?, field: String, required: Bool, maximum: Int) -> Violation? {
        let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if trimmed.isEmpty {
            return required ? Violation(field: field, code: "required", message: "required") : nil
        }
        if trimmed.count > maximum {
            return Violation(field: field, code: "too_long", message: "at most \(maximum) characters")
        }
        return nil
    }

    static func checkPhone(_ value: String?) -> Violation? {
        guard let value, !value.isEmpty else { return nil }
        let rest = value.hasPrefix("+") ? value.dropFirst() : Substring(value)
        let allowed = rest.allSatisfy { ("0"..."9").contains($0) || " -()".contains($0) }
        let digits = rest.filter { ("0"..."9").contains($0) }.count
        return allowed && (6...20).contains(digits) ? nil
            : Violation(field: "phone", code: "invalid_phone", message: "digits, optionally with a leading +")
    }

    static func checkLocale(_ value: String?) -> Violation? {
        guard let value else { return nil }
        return locales.contains(value) ? nil
            : Violation(field: "locale", code: "unknown_locale", message: "one of \(locales.sorted().joined(separator: ", "))")
    }
}
