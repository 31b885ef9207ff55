import Foundation
@testable import Gateway
import Testing

@Suite("Sign-in throttling and sign-up rules")
struct IdentityRulesTests {
    let limit = LoginThrottle.Limit(failures: 3, window: 60, lock: 300)
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("the limit's failures inside one window lock the key for the lock time, not before")
    func locksAtTheLimit() {
        var state: LoginThrottle.State?
        for second in 0..<2 {
            state = LoginThrottle.recordingFailure(state, limit: limit, now: start.addingTimeInterval(Double(second)))
            #expect(LoginThrottle.lockedUntil(state, now: start.addingTimeInterval(Double(second))) == nil)
        }
        state = LoginThrottle.recordingFailure(state, limit: limit, now: start.addingTimeInterval(2))
        #expect(LoginThrottle.lockedUntil(state, now: start.addingTimeInterval(3)) == start.addingTimeInterval(302))
        #expect(LoginThrottle.lockedUntil(state, now: start.addingTimeInterval(302)) == nil, "the lock ends")
    }

    @Test("failures further apart than the window never lock")
    func windowExpires() {
        var state: LoginThrottle.State?
        for attempt in 0..<10 {
            let now = start.addingTimeInterval(Double(attempt) * 40)
            state = LoginThrottle.recordingFailure(state, limit: limit, now: now)
            if attempt % 2 == 1 { #expect(state?.failures == 2) }
            #expect(LoginThrottle.lockedUntil(state, now: now) == nil)
        }
    }

    @Test("emails, passwords, phones and locales are checked", arguments: [
        ("email", "a@example.org", true), ("email", "a@b", false), ("email", "a b@example.org", false),
        ("email", "@example.org", false), ("email", "a@.org", false),
        ("password", "0123456789", true), ("password", "012345678", false),
        ("password", String(repeating: "a", count: 72), true), ("password", String(repeating: "a", count: 73), false),
        ("phone", "+86 138-0013-8000", true), ("phone", "(010) 6275 1234", true), ("phone", "12345", false),
        ("phone", "+86 1380013800O", false), ("phone", "++8613800138000", false),
        ("locale", "zh-CN", true), ("locale", "en", true), ("locale", "de", false),
    ])
    func fieldRules(field: String, value: String, valid: Bool) {
        let violation: SignUpRules.Violation? = switch field {
        case "email": SignUpRules.checkEmail(value)
        case "password": SignUpRules.checkPassword(value)
        case "phone": SignUpRules.checkPhone(value)
        default: SignUpRules.checkLocale(value)
        }
        #expect((violation == nil) == valid, "\(field) \(value)")
    }

    @Test("refresh tokens and API keys are random, prefixed, and only their hash is kept")
    func opaqueTokens() {
        let a = OpaqueToken.generate(prefix: "crt_"), b = OpaqueToken.generate(prefix: "crt_")
        #expect(a != b && a.hasPrefix("crt_") && a.count == 4 + 43)
        #expect(!a.contains("+") && !a.contains("/") && !a.contains("="))
        #expect(OpaqueToken.hash(a) == OpaqueToken.hash(a) && OpaqueToken.hash(a) != OpaqueToken.hash(b))
        #expect(OpaqueToken.hash(a).count == 32)
    }
}
