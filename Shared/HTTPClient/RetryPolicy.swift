/// How often and how patiently to retry: exponential back-off with jitter, a maximum number of
/// attempts and an optional overall time budget.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included (1 = never retry).
    public var maxAttempts: Int
    /// Wait before the second attempt; each later wait is `multiplier` times the previous one.
    public var initialDelay: Duration
    /// Upper bound of a single wait.
    public var maxDelay: Duration
    public var multiplier: Double
    /// Fraction (0...1) of each wait that is random: a wait lies in `[d × (1 − jitter), d]`, so
    /// clients that failed together do not retry together.
    public var jitter: Double
    /// Budget for all attempts and waits together, from the first attempt. No wait is started
    /// that would end past it, and each attempt is told how much time is left.
    public var overallTimeout: Duration?

    public init(
        maxAttempts: Int = 3,
        initialDelay: Duration = .milliseconds(200),
        maxDelay: Duration = .seconds(5),
        multiplier: Double = 2,
        jitter: Double = 0.5,
        overallTimeout: Duration? = nil
    ) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.jitter = jitter
        self.overallTimeout = overallTimeout
    }

    /// The wait after failed attempt `attempt` (1-based), with `random` in 0...1 picking the
    /// point inside the jitter range (1 = the full delay).
    public func delay(afterAttempt attempt: Int, random: Double) -> Duration {
        let exponent = Double(max(0, attempt - 1))
        let initial = Self.seconds(initialDelay)
        let capped = min(Self.seconds(maxDelay), initial * pow(max(1, multiplier), exponent))
        let spread = min(1, max(0, jitter))
        let factor = 1 - spread + spread * min(1, max(0, random))
        return .nanoseconds(Int64(max(0, capped * factor) * 1e9))
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// `base` raised to `exponent` without Foundation.
    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent.rounded(.down))
        while remaining > 0 && result < 1e12 {
            result *= base
            remaining -= 1
        }
        return result
    }
}

/// What an attempt is told about itself.
public struct RetryAttempt: Sendable {
    /// 1 for the first attempt.
    public let number: Int
    /// When the policy's overall budget runs out, if it has one.
    public let deadline: ContinuousClock.Instant?

    /// Time left before the deadline (never negative), or nil without a deadline.
    public var remaining: Duration? {
        guard let deadline else { return nil }
        let left = ContinuousClock.now.duration(to: deadline)
        return left > .zero ? left : .zero
    }
}
