import Foundation

/// What a registration gets when it asks for a seat.
enum SeatDecision: String, Codable, Sendable, CaseIterable {
    case seat
    case waitlist
    /// Full and no waitlist: the request fails with `registration.capacity_full`.
    case refuse
}

/// The seats of one conference: an overall limit and per-category limits (nil = no limit; a
/// category the map does not list has no limit of its own — which categories exist is the fee
/// schedule's and the form's business), whether a waitlist is kept, and how long a seat offered
/// from it stays reserved.
///
/// These rules only decide; they are safe because the handler reads the counts and the
/// waitlist, decides and writes back inside one transaction that locks the conference's capacity
/// row, so two decisions never see the same free seat.
struct CapacityPolicy: Codable, Sendable, Equatable {
    var overall: Int?
    var perCategory: [String: Int?]
    var waitlistEnabled: Bool
    /// Seconds an offered seat stays reserved for the person it was offered to.
    var offerValidity: TimeInterval

    init(overall: Int? = nil, perCategory: [String: Int?] = [:], waitlistEnabled: Bool = false,
         offerValidity: TimeInterval = 48 * 3600) {
        self.overall = overall
        self.perCategory = perCategory
        self.waitlistEnabled = waitlistEnabled
        self.offerValidity = offerValidity
    }

    func limit(for category: String) -> Int? { perCategory[category] ?? nil }

    /// Whether one more seat fits both the overall and the category's limit.
    /// No limit applies to `category`: `decide` answers `.seat` whatever is held or waiting.
    func isUnlimited(_ category: String) -> Bool { overall == nil && limit(for: category) == nil }

    func hasRoom(for category: String, in counts: CapacityCounts) -> Bool {
        if let overall, counts.overallHeld >= overall { return false }
        if let limit = limit(for: category), counts.held(category) >= limit { return false }
        return true
    }

    /// A new request (submission without review, or approval) in `category`. The people already
    /// waiting come first: the request gets a seat only if one is left after every waiting entry
    /// that fits now has been offered one (normally none fits, since `afterRelease` runs whenever
    /// a seat frees up; but limits can be raised, and this keeps the rule in one place).
    func decide(category: String, counts: CapacityCounts, waitlist: [WaitlistEntry] = []) -> SeatDecision {
        var counts = counts
        for entry in afterRelease(counts: counts, waitlist: waitlist) { counts.take(entry.category) }
        if hasRoom(for: category, in: counts) { return .seat }
        return waitlistEnabled ? .waitlist : .refuse
    }

    /// Who to offer a seat now (after a release, an expiry or a raised limit): walking the
    /// waitlist in position order, every entry whose category still has room once the entries
    /// before it have been offered theirs. An entry whose category is full is skipped but keeps
    /// its place. The handler offers each (`offerSeat(until: offerExpiry(from: now))`).
    func afterRelease(counts: CapacityCounts, waitlist: [WaitlistEntry]) -> [WaitlistEntry] {
        var counts = counts
        var offers: [WaitlistEntry] = []
        for entry in waitlist.sorted(by: { ($0.position, $0.id.uuidString) < ($1.position, $1.id.uuidString) }) {
            if let overall, counts.overallHeld >= overall { break }
            if hasRoom(for: entry.category, in: counts) {
                offers.append(entry)
                counts.take(entry.category)
            }
        }
        return offers
    }

    /// When an offer made at `now` lapses.
    func offerExpiry(from now: Date) -> Date { now.addingTimeInterval(offerValidity) }

    /// Codes: `invalid_limit` (a negative limit), `invalid_offer_validity` (not positive).
    func validate() -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        if let overall, overall < 0 {
            problems.append(ValidationProblem(path: "overall", code: "invalid_limit", message: "a limit is zero or more"))
        }
        for (category, limit) in perCategory.sorted(by: { $0.key < $1.key }) {
            if let limit, limit < 0 {
                problems.append(ValidationProblem(path: "perCategory.\(category)", code: "invalid_limit",
                                                  message: "a limit is zero or more"))
            }
        }
        if !(offerValidity > 0) || !offerValidity.isFinite {
            problems.append(ValidationProblem(path: "offerValidity", code: "invalid_offer_validity",
                                              message: "an offer must stay valid for some time"))
        }
        return problems
    }
}

/// Seats held now (by registrations that are awaiting payment, confirmed or offered a seat).
struct CapacityCounts: Codable, Sendable, Equatable {
    var overallHeld: Int
    var perCategoryHeld: [String: Int]

    init(overallHeld: Int = 0, perCategoryHeld: [String: Int] = [:]) {
        self.overallHeld = overallHeld
        self.perCategoryHeld = perCategoryHeld
    }

    /// Counts recomputed from registrations (a check on the stored counters).
    init(counting registrations: some Sequence<(category: String, status: RegistrationStatus)>) {
        self.init()
        for registration in registrations where registration.status.holdsSeat { take(registration.category) }
    }

    func held(_ category: String) -> Int { perCategoryHeld[category] ?? 0 }

    mutating func take(_ category: String) {
        overallHeld += 1
        perCategoryHeld[category, default: 0] += 1
    }

    /// One seat of `category` back; nothing when the category holds none (a repeated release
    /// must not free a seat someone else holds).
    mutating func release(_ category: String) {
        guard held(category) > 0 else { return }
        overallHeld = Swift.max(overallHeld - 1, 0)
        perCategoryHeld[category] = held(category) - 1
    }

    /// Applies a transition's `seatTaken` / `seatReleased` effects.
    mutating func apply(_ effects: [RegistrationEffect], category: String) {
        for effect in effects {
            switch effect {
            case .seatTaken: take(category)
            case .seatReleased: release(category)
            default: break
            }
        }
    }
}

/// One registration waiting for a seat; `position` orders the line (first come, first served).
struct WaitlistEntry: Codable, Sendable, Equatable, Hashable {
    var id: UUID
    var category: String
    var position: Int64
}
