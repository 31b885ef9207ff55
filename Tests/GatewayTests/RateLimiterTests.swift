import Foundation
@testable import Gateway
import Synchronization
import Testing

@Suite("The request rate limiter")
struct RateLimiterTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let rule = RateLimiter.Rule(limit: 3, window: 60)

    @Test("a caller gets the limit's requests per window, then refusals until the window ends")
    func limit() {
        var limiter = RateLimiter(rule: rule)
        let decisions = (0..<4).map { limiter.admit("account:a", now: start.addingTimeInterval(Double($0))) }
        #expect(decisions.map(\.admitted) == [true, true, true, false])
        #expect(decisions.map(\.remaining) == [2, 1, 0, 0])
        #expect(decisions.map(\.limit) == [3, 3, 3, 3])
        #expect(decisions.map(\.resetAfter) == [60, 59, 58, 57])
        let late = limiter.admit("account:a", now: start.addingTimeInterval(59.5))
        #expect(!late.admitted && late.resetAfter == 1, "still the first window; the reset is never 0 seconds away")
    }

    @Test("the window rolls over: a new window admits the limit again")
    func rollover() {
        var limiter = RateLimiter(rule: rule)
        for second in 0..<3 { _ = limiter.admit("k", now: start.addingTimeInterval(Double(second))) }
        #expect(!limiter.admit("k", now: start.addingTimeInterval(30)).admitted)
        let next = limiter.admit("k", now: start.addingTimeInterval(60))
        #expect(next.admitted && next.remaining == 2 && next.resetAfter == 60)
    }

    @Test("callers are counted apart: one caller's refusals do not touch another's")
    func isolation() {
        var limiter = RateLimiter(rule: rule)
        for _ in 0..<5 { _ = limiter.admit("address:10.0.0.1", now: start) }
        #expect(!limiter.admit("address:10.0.0.1", now: start).admitted)
        #expect(limiter.admit("address:10.0.0.2", now: start).admitted)
        #expect(limiter.admit("apikey:1", now: start).remaining == 2)
    }

    @Test("callers whose window ended are forgotten, so memory stays bounded")
    func eviction() {
        var limiter = RateLimiter(rule: rule, capacity: 1000)
        for index in 0..<500 { _ = limiter.admit("address:\(index)", now: start) }
        #expect(limiter.trackedCallers == 500)
        // The next window: the first request sweeps the ended windows away.
        _ = limiter.admit("address:new", now: start.addingTimeInterval(61))
        #expect(limiter.trackedCallers == 1)
    }

    @Test("ended windows make room for new callers; a new caller beyond live capacity is admitted untracked")
    func capacity() {
        var limiter = RateLimiter(rule: rule, capacity: 3)
        for index in 0..<3 { _ = limiter.admit("c\(index)", now: start.addingTimeInterval(Double(index) * 20)) }
        #expect(limiter.trackedCallers == 3)
        // c0's window ended at 60: it is forgotten, and c3 takes its place.
        #expect(limiter.admit("c3", now: start.addingTimeInterval(65)).admitted)
        #expect(limiter.trackedCallers == 3)
        // Everyone is inside a window now: c4 is admitted but not tracked.
        #expect(limiter.admit("c4", now: start.addingTimeInterval(66)).admitted)
        #expect(limiter.trackedCallers == 3)
        // Tracked callers are still limited.
        for _ in 0..<2 { _ = limiter.admit("c3", now: start.addingTimeInterval(67)) }
        #expect(!limiter.admit("c3", now: start.addingTimeInterval(68)).admitted)
    }

    @Test("a new caller at capacity first sweeps the ended windows, and is tracked when that makes room")
    func sweepAtCapacity() {
        var limiter = RateLimiter(rule: rule, capacity: 2)
        _ = limiter.admit("a", now: start)
        // The periodic sweep at 60 forgets a; b and c arrive after it.
        _ = limiter.admit("b", now: start.addingTimeInterval(60))
        _ = limiter.admit("c", now: start.addingTimeInterval(61))
        #expect(limiter.trackedCallers == 2)
        // While b and c are inside their windows there is no room for d; b's ends at 120, between periodic sweeps.
        for _ in 0..<3 { _ = limiter.admit("d", now: start.addingTimeInterval(119.5)) }
        #expect(limiter.trackedCallers == 2, "d is untracked while b and c are inside their windows")
        #expect(limiter.admit("d", now: start.addingTimeInterval(120.5)).admitted)
        #expect(limiter.trackedCallers == 2, "b's window ended: d took its place")
        for _ in 0..<2 { _ = limiter.admit("d", now: start.addingTimeInterval(121)) }
        #expect(!limiter.admit("d", now: start.addingTimeInterval(121)).admitted, "and d is limited from then on")
    }

    @Test("at capacity, new callers sweep at most once a second: a flood of addresses does not walk every caller each time")
    func sweepThrottledAtCapacity() {
        var limiter = RateLimiter(rule: rule, capacity: 2)
        _ = limiter.admit("a", now: start)
        _ = limiter.admit("b", now: start.addingTimeInterval(30))
        // At 59.9 nothing has ended: the sweep finds no room, and x goes untracked.
        #expect(limiter.admit("x", now: start.addingTimeInterval(59.9)).admitted)
        // a's window ends at 60, but the last sweep was 0.2 s ago: y goes untracked too.
        #expect(limiter.admit("y", now: start.addingTimeInterval(60.1)).admitted)
        #expect(limiter.trackedCallers == 2)
        // From 60.9 on, a sweep may run again (the periodic one, a window after the first, too).
        _ = limiter.admit("z", now: start.addingTimeInterval(61))
        #expect(limiter.trackedCallers == 2, "a forgotten, z tracked in its place")
        for _ in 0..<2 { _ = limiter.admit("z", now: start.addingTimeInterval(61)) }
        #expect(!limiter.admit("z", now: start.addingTimeInterval(61)).admitted)
    }

    @Test("RATE_LIMIT_PER_MINUTE and RATE_LIMIT_ANONYMOUS_PER_MINUTE: defaults 600 and 120, 0 or off switch a limit off, anything else is refused")
    func settings() throws {
        let secret = String(repeating: "k", count: TokenSettings.minimumSecretBytes)
        let defaults = try GatewaySettings(["GATEWAY_TOKEN_SECRET": secret])
        #expect(defaults.rateLimitPerMinute == 600 && defaults.anonymousRateLimitPerMinute == 120)
        let off = try GatewaySettings(["GATEWAY_TOKEN_SECRET": secret, "RATE_LIMIT_PER_MINUTE": "off",
                                       "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "0"])
        #expect(off.rateLimitPerMinute == 0 && off.anonymousRateLimitPerMinute == 0)
        #expect(throws: (any Error).self) { try GatewaySettings(["GATEWAY_TOKEN_SECRET": secret, "RATE_LIMIT_PER_MINUTE": "lots"]) }
        #expect(throws: (any Error).self) { try GatewaySettings(["GATEWAY_TOKEN_SECRET": secret, "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "-1"]) }
    }

    @Test("the gateway's limits: identified callers and addresses apart, 0 switches one off, an injected clock decides the window")
    func limits() {
        let clock = TestClock(start)
        let limits = RateLimits(callersPerMinute: 2, anonymousPerMinute: 1, now: { clock.now })
        #expect(limits.admitCaller("account:a")?.admitted == true)
        #expect(limits.admitAnonymous("address:127.0.0.1")?.admitted == true)
        #expect(limits.admitAnonymous("address:127.0.0.1")?.admitted == false)
        #expect(limits.admitCaller("account:a")?.admitted == true)
        #expect(limits.admitCaller("account:a")?.admitted == false)
        clock.advance(60)
        #expect(limits.admitCaller("account:a")?.admitted == true)
        let off = RateLimits(callersPerMinute: 0, anonymousPerMinute: 5)
        #expect(off.admitCaller("account:a") == nil)
        #expect(off.admitAnonymous("address:x")?.limit == 5)
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0.addTimeInterval(seconds) } }
}
