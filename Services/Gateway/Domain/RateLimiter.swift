import Foundation

/// Requests per caller in a fixed window: a caller's first request opens its window, which admits
/// `limit` requests and ends `window` seconds later. Kept in memory, so a limit holds per gateway
/// instance. Memory stays bounded: callers whose window has ended are forgotten (swept once per
/// window, and when `capacity` callers are tracked, at most once a second); a new caller arriving
/// while `capacity` callers are still inside their windows is admitted without being tracked,
/// rather than refused, so that a flood of addresses cannot lock everyone out.
struct RateLimiter: Sendable {
    struct Rule: Sendable, Equatable {
        /// Requests admitted per window.
        var limit: Int
        /// Seconds.
        var window: TimeInterval
    }

    /// What to tell the caller about one request.
    struct Decision: Sendable, Equatable {
        var admitted: Bool
        var limit: Int
        /// Requests left in the window after this one.
        var remaining: Int
        /// Whole seconds until the window ends (at least 1).
        var resetAfter: Int
    }

    private struct Entry: Sendable {
        var windowStarted: Date
        var count: Int
    }

    let rule: Rule
    /// The most callers tracked at once.
    let capacity: Int
    private var entries: [String: Entry] = [:]
    private var lastSweep: Date?

    init(rule: Rule, capacity: Int = 100_000) {
        precondition(rule.limit > 0 && rule.window > 0 && capacity > 0)
        self.rule = rule
        self.capacity = capacity
    }

    /// How many callers are tracked now.
    var trackedCallers: Int { entries.count }

    /// Counts one request of `caller` at `now`.
    mutating func admit(_ caller: String, now: Date) -> Decision {
        if lastSweep.map({ now.timeIntervalSince($0) >= rule.window }) ?? true {
            sweep(now: now)
        }
        var entry: Entry
        if let current = entries[caller], now.timeIntervalSince(current.windowStarted) < rule.window,
           now >= current.windowStarted {
            entry = current
        } else {
            entry = Entry(windowStarted: now, count: 0)
            if entries[caller] == nil && entries.count >= capacity {
                // At most one full sweep a second: a flood of new addresses at capacity must not
                // make every request walk every tracked caller.
                if lastSweep.map({ now.timeIntervalSince($0) >= 1 }) ?? true { sweep(now: now) }
                guard entries.count < capacity else {
                    return Decision(admitted: true, limit: rule.limit, remaining: rule.limit - 1, resetAfter: Self.seconds(rule.window))
                }
            }
        }
        let admitted = entry.count < rule.limit
        if admitted { entry.count += 1 }
        entries[caller] = entry
        let reset = Self.seconds(entry.windowStarted.addingTimeInterval(rule.window).timeIntervalSince(now))
        return Decision(admitted: admitted, limit: rule.limit, remaining: rule.limit - entry.count, resetAfter: reset)
    }

    /// Forgets every caller whose window has ended by `now`.
    mutating func sweep(now: Date) {
        entries = entries.filter { now.timeIntervalSince($0.value.windowStarted) < rule.window }
        lastSweep = now
    }

    private static func seconds(_ interval: TimeInterval) -> Int { max(1, Int(interval.rounded(.up))) }
}
