import Contracts
import Foundation
@testable import Registration
import Testing

@Suite("Capacity and waitlist")
struct CapacityTests {
    func entry(_ n: Int, _ category: String) -> WaitlistEntry {
        let digits = String(n)
        let id = UUID(uuidString: "00000000-0000-0000-0000-" + String(repeating: "0", count: 12 - digits.count) + digits)!
        return WaitlistEntry(id: id, category: category, position: Int64(n))
    }

    @Test("a seat needs room under both the overall and the category limit")
    func bothLimits() {
        let policy = CapacityPolicy(overall: 10, perCategory: ["student": 3, "regular": nil], waitlistEnabled: true)
        #expect(policy.decide(category: "student", counts: CapacityCounts(overallHeld: 5, perCategoryHeld: ["student": 2])) == .seat)
        #expect(policy.decide(category: "student", counts: CapacityCounts(overallHeld: 5, perCategoryHeld: ["student": 3])) == .waitlist)
        #expect(policy.decide(category: "regular", counts: CapacityCounts(overallHeld: 9, perCategoryHeld: ["regular": 9])) == .seat)
        #expect(policy.decide(category: "regular", counts: CapacityCounts(overallHeld: 10, perCategoryHeld: ["regular": 10])) == .waitlist)
        #expect(policy.decide(category: "speaker", counts: CapacityCounts(overallHeld: 9)) == .seat, "an unlisted category has no own limit")
        #expect(policy.decide(category: "student", counts: CapacityCounts(overallHeld: 10, perCategoryHeld: ["student": 0])) == .waitlist)
        let unlimited = CapacityPolicy(perCategory: ["student": 1])
        #expect(unlimited.decide(category: "regular", counts: CapacityCounts(overallHeld: 100_000)) == .seat)
        #expect(unlimited.decide(category: "student", counts: CapacityCounts(overallHeld: 1, perCategoryHeld: ["student": 1])) == .refuse)
        #expect(CapacityPolicy(overall: 0).decide(category: "x", counts: CapacityCounts()) == .refuse)
    }

    @Test("people already waiting come before a newcomer when a seat they fit is free")
    func waitingComesFirst() {
        let policy = CapacityPolicy(overall: 5, perCategory: ["student": 2], waitlistEnabled: true)
        let counts = CapacityCounts(overallHeld: 4, perCategoryHeld: ["student": 1, "regular": 3])
        #expect(policy.decide(category: "regular", counts: counts, waitlist: [entry(1, "regular")]) == .waitlist)
        #expect(policy.decide(category: "regular", counts: counts, waitlist: []) == .seat)
        let studentsFull = CapacityCounts(overallHeld: 3, perCategoryHeld: ["student": 2, "regular": 1])
        #expect(policy.decide(category: "regular", counts: studentsFull, waitlist: [entry(1, "student")]) == .seat,
                "a waiting student cannot take the seat, so the newcomer gets it")
    }

    @Test("after a release the first waiting entry whose category has room is offered; full categories keep their places")
    func afterRelease() {
        let policy = CapacityPolicy(overall: 10, perCategory: ["student": 2, "regular": 7], waitlistEnabled: true)
        let waitlist = [entry(3, "regular"), entry(1, "student"), entry(2, "student")]
        let studentsFull = CapacityCounts(overallHeld: 9, perCategoryHeld: ["student": 2, "regular": 6])
        #expect(policy.afterRelease(counts: studentsFull, waitlist: waitlist) == [entry(3, "regular")])
        let oneStudentSeat = CapacityCounts(overallHeld: 9, perCategoryHeld: ["student": 1, "regular": 7])
        #expect(policy.afterRelease(counts: oneStudentSeat, waitlist: waitlist) == [entry(1, "student")])
        let full = CapacityCounts(overallHeld: 10, perCategoryHeld: ["student": 1, "regular": 7])
        #expect(policy.afterRelease(counts: full, waitlist: waitlist) == [])
    }

    @Test("when several seats are free, as many entries are offered as fit, in line order")
    func severalOffers() {
        let policy = CapacityPolicy(overall: 6, perCategory: ["student": 2], waitlistEnabled: true)
        let waitlist = (1...6).map { entry($0, $0.isMultiple(of: 2) ? "regular" : "student") }
        let counts = CapacityCounts(overallHeld: 2, perCategoryHeld: ["student": 1, "regular": 1])
        // Four free seats overall, one for a student: student 1, then regulars 2, 4, 6.
        #expect(policy.afterRelease(counts: counts, waitlist: waitlist).map(\.position) == [1, 2, 4, 6])
    }

    @Test("counts are taken and released by effects, never below zero, and can be recounted from statuses")
    func counts() {
        var counts = CapacityCounts()
        counts.apply([.seatTaken, .createOrder(cny(1))], category: "student")
        counts.apply([.seatTaken], category: "regular")
        #expect(counts == CapacityCounts(overallHeld: 2, perCategoryHeld: ["student": 1, "regular": 1]))
        counts.apply([.seatReleased, .offerNextOnWaitlist], category: "student")
        counts.release("student")
        #expect(counts == CapacityCounts(overallHeld: 1, perCategoryHeld: ["student": 0, "regular": 1]))
        let recounted = CapacityCounts(counting: [
            (category: "a", status: RegistrationStatus.confirmed), (category: "a", status: .offered), (category: "b", status: .awaitingPayment),
            (category: "b", status: .waitlisted), (category: "b", status: .pendingReview), (category: "a", status: .expired),
        ])
        #expect(recounted == CapacityCounts(overallHeld: 3, perCategoryHeld: ["a": 2, "b": 1]))
    }

    @Test("a policy with a negative limit or no offer validity is refused; the offer expiry follows the validity")
    func validation() throws {
        let policy = CapacityPolicy(overall: -1, perCategory: ["a": -2, "b": nil, "c": 0], waitlistEnabled: true, offerValidity: 0)
        #expect(policy.validate().map { "\($0.path) \($0.code)" } == [
            "overall invalid_limit", "perCategory.a invalid_limit", "offerValidity invalid_offer_validity",
        ])
        let good = CapacityPolicy(overall: 100, perCategory: ["student": 20, "regular": nil], waitlistEnabled: true, offerValidity: 86_400)
        #expect(good.validate() == [])
        #expect(good.offerExpiry(from: date("2026-09-01T00:00:00Z")) == date("2026-09-02T00:00:00Z"))
        let json = #"{"overall":100,"perCategory":{"student":20,"regular":null},"waitlistEnabled":true,"offerValidity":86400}"#
        #expect(try JSONDecoder().decode(CapacityPolicy.self, from: Data(json.utf8)) == good)
    }

    // MARK: property-style

    @Test("afterRelease never oversells, keeps line order, and passes over an entry only when its category had no room",
          arguments: 0..<200)
    func afterReleaseProperties(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let categories = ["regular", "student", "speaker"]
        let policy = CapacityPolicy(
            overall: Bool.random(using: &random) ? Int.random(in: 0...12, using: &random) : nil,
            perCategory: Dictionary(uniqueKeysWithValues: categories.map { ($0, Bool.random(using: &random) ? Int.random(in: 0...6, using: &random) : nil) }),
            waitlistEnabled: true)
        var counts = CapacityCounts()
        for category in categories {
            let held = Int.random(in: 0...(policy.limit(for: category) ?? 5), using: &random)
            for _ in 0..<held where policy.hasRoom(for: category, in: counts) { counts.take(category) }
        }
        let waitlist = (0..<Int.random(in: 0...15, using: &random)).map {
            WaitlistEntry(id: UUID(), category: categories.randomElement(using: &random)!, position: Int64($0 * 3 + Int.random(in: 0...2, using: &random)))
        }.shuffled(using: &random)

        let offers = policy.afterRelease(counts: counts, waitlist: waitlist)
        #expect(offers.map(\.position) == offers.map(\.position).sorted())
        var running = counts
        let offered = Set(offers.map(\.id))
        for entry in waitlist.sorted(by: { $0.position < $1.position }) {
            if offered.contains(entry.id) {
                #expect(policy.hasRoom(for: entry.category, in: running), "seed \(seed)")
                running.take(entry.category)
            } else {
                #expect(!policy.hasRoom(for: entry.category, in: running), "seed \(seed): skipped \(entry) with room")
            }
        }
        if let overall = policy.overall { #expect(running.overallHeld <= Swift.max(overall, counts.overallHeld)) }
    }

    @Test("random submit / pay / expire / withdraw / cancel / offer / accept sequences never exceed a limit nor skip anyone with room",
          arguments: 1...40)
    func randomSequences(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        var world = World(random: &random)
        for step in 0..<400 {
            try world.step(&random)
            try world.checkInvariants("seed \(seed), step \(step)")
        }
        #expect(world.submissions > 0)
    }

    @Test("the random sequences reach every status and make, accept and lose offers (the properties above are not vacuous)")
    func randomSequencesCoverage() throws {
        var reached = Set<RegistrationStatus>()
        var offers = 0, refusals = 0
        for seed in UInt64(1)...40 {
            var random = SeededGenerator(seed: seed)
            var world = World(random: &random)
            for _ in 0..<400 { try world.step(&random) }
            reached.formUnion(world.reached)
            offers += world.offersMade
            refusals += world.refusals
        }
        #expect(reached == Set(RegistrationStatus.allCases))
        #expect(offers > 50 && refusals > 10)
    }
}

/// A conference's registrations driven the way the handlers will drive them: every command goes
/// through the state machine, its seat effects update the counts, and `offerNextOnWaitlist` runs
/// `afterRelease` and offers the seats it names.
struct World {
    let policy: CapacityPolicy
    let reviewRequired: Bool
    let prices: [String: Money]
    var registrations: [UUID: Registration] = [:]
    var waitlist: [WaitlistEntry] = []
    var counts = CapacityCounts()
    var nextPosition: Int64 = 0
    var now = date("2026-06-01T00:00:00Z")
    var submissions = 0
    var offersMade = 0
    var refusals = 0
    var reached = Set<RegistrationStatus>()

    init(random: inout SeededGenerator) {
        let overall = Int.random(in: 1...8, using: &random)
        policy = CapacityPolicy(
            overall: Bool.random(using: &random) ? overall : nil,
            perCategory: ["regular": Int.random(in: 0...5, using: &random), "student": Int.random(in: 1...3, using: &random),
                          "speaker": nil],
            waitlistEnabled: Int.random(in: 0..<4, using: &random) != 0,
            offerValidity: 3600)
        reviewRequired = Bool.random(using: &random)
        prices = ["regular": cny(128_00), "student": cny(64_00), "speaker": cny(0)]
    }

    func ids(_ statuses: Set<RegistrationStatus>) -> [UUID] {
        registrations.filter { statuses.contains($0.value.status) }.keys.sorted { $0.uuidString < $1.uuidString }
    }

    mutating func step(_ random: inout SeededGenerator) throws {
        now.addTimeInterval(TimeInterval(Int.random(in: 0...900, using: &random)))
        // Timers first: offers whose time is up.
        for id in ids([.offered]) where registrations[id]!.offerExpiresAt! <= now {
            try run(id, .offerExpired)
        }
        func pick(_ statuses: Set<RegistrationStatus>) -> UUID? { ids(statuses).randomElement(using: &random) }
        switch Int.random(in: 0..<11, using: &random) {
        case 0, 1, 2:
            try submit(category: ["regular", "student", "speaker"].randomElement(using: &random)!)
        case 3:
            if let id = pick([.pendingReview]), Int.random(in: 0..<4, using: &random) == 0 {
                try run(id, .requestChanges(by: "s", comment: "add the abstract"))
            } else if let id = pick([.pendingReview]) {
                let seat = policy.decide(category: registrations[id]!.category, counts: counts, waitlist: waitlist)
                if seat == .refuse {
                    refusals += 1
                    #expect(throws: ConveneError.capacityFull) { try registrations[id]!.transition(.approve(by: "s", comment: nil), context: context(seat: seat)) }
                    try run(id, .reject(by: "s", comment: "full"))
                } else {
                    try run(id, .approve(by: "s", comment: nil), seat: seat)
                }
            }
        case 4:
            if let id = pick([.awaitingPayment]) { try run(id, .paymentSucceeded(registrations[id]!.price)) }
        case 5:
            if let id = pick([.awaitingPayment]) { try run(id, .orderExpired) }
        case 6:
            if let id = pick([.pendingReview, .changesRequested, .awaitingPayment, .confirmed, .waitlisted, .offered]) {
                try run(id, .withdraw)
            }
        case 7:
            if let id = pick([.pendingReview, .awaitingPayment, .confirmed, .waitlisted, .offered]) {
                try run(id, .cancel(by: "organizer", reason: nil))
            }
        case 8:
            if let id = pick([.changesRequested]) { try run(id, .resubmit) }
        default:
            if let id = pick([.offered]) { try run(id, .acceptOffer) }
        }
    }

    func context(seat: SeatDecision? = nil) -> TransitionContext {
        TransitionContext(now: now, reviewRequired: reviewRequired, seat: seat, refundPolicy: .full)
    }

    mutating func submit(category: String) throws {
        submissions += 1
        let seat = policy.decide(category: category, counts: counts, waitlist: waitlist)
        var context = context(seat: reviewRequired ? nil : seat)
        context.price = prices[category]
        if !reviewRequired && seat == .refuse {
            refusals += 1
            #expect(throws: ConveneError.capacityFull) { try Registration.submit(category: category, context: context) }
            return
        }
        let transition = try Registration.submit(category: category, context: context)
        try record(UUID(), transition)
    }

    mutating func run(_ id: UUID, _ command: RegistrationCommand, seat: SeatDecision? = nil) throws {
        let transition = try registrations[id]!.transition(command, context: context(seat: seat))
        try record(id, transition)
    }

    mutating func record(_ id: UUID, _ transition: Transition) throws {
        let registration = transition.registration
        registrations[id] = registration
        reached.insert(registration.status)
        counts.apply(transition.effects, category: registration.category)
        if transition.to == .waitlisted && transition.from != .waitlisted {
            waitlist.append(WaitlistEntry(id: id, category: registration.category, position: nextPosition))
            nextPosition += 1
        }
        if transition.from == .waitlisted && transition.to != .waitlisted {
            waitlist.removeAll { $0.id == id }
        }
        if transition.effects.contains(.offerNextOnWaitlist) {
            for entry in policy.afterRelease(counts: counts, waitlist: waitlist) {
                offersMade += 1
                try run(entry.id, .offerSeat(until: policy.offerExpiry(from: now)), seat: .seat)
            }
        }
    }

    func checkInvariants(_ label: String) throws {
        // Effects and statuses agree on who holds a seat.
        let recounted = CapacityCounts(counting: registrations.values.map { (category: $0.category, status: $0.status) })
        #expect(counts.overallHeld == recounted.overallHeld, "\(label)")
        for category in ["regular", "student", "speaker"] {
            #expect(counts.held(category) == recounted.held(category), "\(label) \(category)")
            if let limit = policy.limit(for: category) { #expect(counts.held(category) <= limit, "\(label): \(category) oversold") }
        }
        if let overall = policy.overall { #expect(counts.overallHeld <= overall, "\(label): oversold") }
        // Nobody waits while a seat they fit is free.
        #expect(policy.afterRelease(counts: counts, waitlist: waitlist).isEmpty, "\(label): someone with room was skipped")
        // The waitlist is exactly the waitlisted registrations, in the order they joined.
        #expect(Set(waitlist.map(\.id)) == Set(ids([.waitlisted])), "\(label)")
        #expect(waitlist.map(\.position) == waitlist.map(\.position).sorted(), "\(label)")
        if !policy.waitlistEnabled { #expect(waitlist.isEmpty, "\(label)") }
    }
}
