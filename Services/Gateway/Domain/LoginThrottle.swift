import Foundation

/// When sign-in attempts are refused for a while. Failures are counted per account (the email
/// tried, whether or not it exists, so the answer says nothing about existence) and per client
/// address, in a fixed window; reaching the limit locks the key until the lock expires.
struct LoginThrottle: Sendable, Equatable {
    struct Limit: Sendable, Equatable {
        var failures: Int
        var window: TimeInterval
        var lock: TimeInterval
    }

    var perAccount = Limit(failures: 5, window: 15 * 60, lock: 15 * 60)
    var perAddress = Limit(failures: 30, window: 15 * 60, lock: 15 * 60)

    /// The recorded state of one key.
    struct State: Sendable, Equatable {
        var failures: Int
        var windowStarted: Date
        var lockedUntil: Date?
    }

    /// Until when `state` refuses attempts, if it does at `now`.
    static func lockedUntil(_ state: State?, now: Date) -> Date? {
        guard let until = state?.lockedUntil, until > now else { return nil }
        return until
    }

    /// The state after one more failure at `now`.
    static func recordingFailure(_ state: State?, limit: Limit, now: Date) -> State {
        var next: State
        if let state, now.timeIntervalSince(state.windowStarted) < limit.window {
            next = State(failures: state.failures + 1, windowStarted: state.windowStarted, lockedUntil: state.lockedUntil)
        } else {
            next = State(failures: 1, windowStarted: now, lockedUntil: nil)
        }
        if next.failures >= limit.failures {
            next.lockedUntil = now.addingTimeInterval(limit.lock)
            // The next window starts after the lock, so one more failure then does not relock at once.
            next.failures = 0
            next.windowStarted = now.addingTimeInterval(limit.lock)
        }
        return next
    }
}
