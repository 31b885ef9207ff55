import Contracts
import Foundation
import Persistence

/// What every registration handler does after deciding: save the new state, carry out the
/// transition's effects (orders, refunds, offers to the waitlist) and announce its events, all in
/// the handler's transaction (commands and events through the outbox).
struct RegistrationFlow: Sendable {
    let store: RegistrationStore

    /// The rules a conference's settings give the domain.
    struct Rules: Sendable {
        var settings: RegistrationSettings
        var capacity: CapacityPolicy
        var fees: FeeSchedule
        var refundPolicy: RefundPolicy
        var form: FormDefinition

        init(_ settings: RegistrationSettings) throws {
            self.settings = settings
            capacity = CapacityPolicy(
                overall: settings.overallCapacity,
                perCategory: Dictionary(uniqueKeysWithValues: settings.categories.map { ($0.key, $0.capacity) }),
                waitlistEnabled: settings.waitlistEnabled, offerValidity: TimeInterval(settings.offerValidityHours * 3600))
            fees = FeeSchedule(perCategory: Dictionary(uniqueKeysWithValues: settings.categories.map { ($0.key, $0.fee) }))
            refundPolicy = try settings.refundPolicy.map { try ConveneJSON.decode(RefundPolicy.self, from: ConveneJSON.encode($0)) }
                ?? .none
            form = try ConveneJSON.decode(FormDefinition.self, from: ConveneJSON.encode(settings.form))
        }
    }

    /// Loads what a decision about `conferenceId` needs, locking its seats. The lock lasts until
    /// the transaction ends, so the next decision in the same transaction (a batch of
    /// submissions) reuses what was read; writing the settings or the conference forgets it.
    func locked(conferenceId: UUID, in tx: Transaction) async throws -> (ConferenceRecord, Rules) {
        let key = "registration.locked:\(conferenceId.lowercased)"
        if let known: LockedConference = tx.locals[key] { return (known.conference, known.rules) }
        guard let conference = try await store.conference(conferenceId, in: tx),
              let settings = try await store.settings(conferenceId: conferenceId, lock: .exclusive, in: tx) else {
            throw ConveneError(code: "registration.not_found", message: "no registration for this conference")
        }
        let rules = try Rules(settings)
        tx.locals.set(LockedConference(conference: conference, rules: rules), for: key)
        return (conference, rules)
    }

    /// What a new submission in `category` needs. A category without any limit (its own or the
    /// conference's) needs no seat decision: its submissions share the conference's lock and
    /// count their seats on spread-out counter rows, so they no longer wait for each other; a
    /// change of the settings takes the lock exclusively, so it waits for them and then reads
    /// complete counts. A limited category takes the exclusive lock as every other decision does.
    func forSubmission(conferenceId: UUID, category: String,
                       in tx: Transaction) async throws -> (conference: ConferenceRecord, rules: Rules, shared: Bool) {
        let exclusiveKey = "registration.locked:\(conferenceId.lowercased)", sharedKey = "registration.shared:\(conferenceId.lowercased)"
        if let known: LockedConference = tx.locals[exclusiveKey] { return (known.conference, known.rules, false) }
        if let known: LockedConference = tx.locals[sharedKey], known.rules.capacity.isUnlimited(category) {
            return (known.conference, known.rules, true)
        }
        // A first look without a lock tells which lock to take; one that is not limited is
        // checked again under the shared lock (the settings may have changed in between).
        guard let peek = try await store.settings(conferenceId: conferenceId, lock: .none, in: tx),
              try Rules(peek).capacity.isUnlimited(category) else {
            let (conference, rules) = try await locked(conferenceId: conferenceId, in: tx)
            return (conference, rules, false)
        }
        guard let conference = try await store.conference(conferenceId, in: tx),
              let settings = try await store.settings(conferenceId: conferenceId, lock: .shared, in: tx) else {
            throw ConveneError(code: "registration.not_found", message: "no registration for this conference")
        }
        let rules = try Rules(settings)
        guard rules.capacity.isUnlimited(category) else {
            throw ConveneError(code: "registration.settings_changed",
                               message: "the conference's seat limits changed while deciding; trying again", retryable: true)
        }
        tx.locals.set(LockedConference(conference: conference, rules: rules), for: sharedKey)
        return (conference, rules, true)
    }

    private struct LockedConference: Sendable {
        var conference: ConferenceRecord
        var rules: Rules
    }

    /// The context of a transition now: the price of the registration's category, and where a
    /// new seat request would land.
    func context(category: String, rules: Rules, now: Date, in conferenceId: UUID, tx: Transaction,
                 price: Money? = nil) async throws -> TransitionContext {
        // Without a limit on the category or overall, every request has a seat whatever is held
        // or waiting: the counts need not be read.
        let seat: SeatDecision
        if rules.capacity.isUnlimited(category) {
            seat = .seat
        } else {
            let counts = try await store.counts(conferenceId: conferenceId, in: tx)
            let waitlist = try await store.waitlist(conferenceId: conferenceId, in: tx)
            seat = rules.capacity.decide(category: category, counts: counts, waitlist: waitlist)
        }
        return TransitionContext(now: now, reviewRequired: rules.settings.reviewRequired,
                                 price: try price ?? rules.fees.price(category: category, at: now),
                                 seat: seat, refundPolicy: rules.refundPolicy)
    }

    /// Applies `command` to the (locked) registration and everything that follows from it.
    @discardableResult
    func apply(_ command: RegistrationCommand, to record: RegistrationRecord, conference: ConferenceRecord, rules: Rules,
               context: HandlerContext, now: Date = Date(), comment: String? = nil) async throws -> RegistrationRecord {
        let transitionContext = try await self.context(category: record.state.category, rules: rules, now: now,
                                                       in: record.conferenceId, tx: context.transaction, price: record.state.price)
        let transition = try record.state.transition(command, context: transitionContext)
        var next = record
        next.state = transition.registration
        try await store.save(next, in: context.transaction)
        try await carryOut(transition, for: next, conference: conference, rules: rules, context: context, now: now, comment: comment)
        return next
    }

    /// Effects and events of a transition already saved.
    /// `sharedSeats`: the caller holds only the shared lock (`forSubmission`), so a seat taken is
    /// counted on one of the spread-out counter rows.
    func carryOut(_ transition: Transition, for record: RegistrationRecord, conference: ConferenceRecord, rules: Rules,
                  context: HandlerContext, now: Date, comment: String? = nil, sharedSeats: Bool = false) async throws {
        var offerNext = false
        for effect in transition.effects {
            switch effect {
            case .seatTaken:
                try await store.adjustSeats(conferenceId: record.conferenceId, category: record.state.category, by: 1,
                                            shard: sharedSeats ? SeatCounter.shard(of: context.transaction) : 0,
                                            in: context.transaction)
            case .seatReleased:
                try await store.adjustSeats(conferenceId: record.conferenceId, category: record.state.category, by: -1,
                                            shard: 0, in: context.transaction)
            case .createOrder(let amount):
                try await context.send(CreateOrder(
                    registrationId: record.id.lowercased, conferenceId: record.conferenceId.lowercased, payer: record.registrant,
                    amount: amount, description: "\(conference.title) (\(record.state.category))",
                    expiresAt: now.addingTimeInterval(TimeInterval(rules.settings.paymentWindowMinutes * 60)),
                    methods: rules.settings.paymentMethods, invoice: record.invoice), organizationId: record.organizationId)
            case .cancelOrder:
                try await context.send(CancelOrder(registrationId: record.id.lowercased), organizationId: record.organizationId)
            case .refund(let amount, let reason):
                guard amount.isPositive else { break }
                try await context.send(RequestRefund(registrationId: record.id.lowercased,
                                                     refundNumber: "RF" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24),
                                                     amount: amount, reason: reason.rawValue), organizationId: record.organizationId)
            case .offerNextOnWaitlist:
                offerNext = true
            }
        }
        if !transition.events.isEmpty {
            try await context.publish(notice(record, conference: conference, comment: comment),
                                      as: transition.events.map(\.rawValue), organizationId: record.organizationId)
        }
        if offerNext { try await offerFreedSeats(conference: conference, rules: rules, context: context, now: now) }
    }

    /// Offers every freed seat to the next in line whose category has room (FIFO).
    func offerFreedSeats(conference: ConferenceRecord, rules: Rules, context: HandlerContext, now: Date) async throws {
        guard rules.capacity.waitlistEnabled, !conference.cancelled else { return }
        let counts = try await store.counts(conferenceId: conference.id, in: context.transaction)
        let waitlist = try await store.waitlist(conferenceId: conference.id, in: context.transaction)
        for entry in rules.capacity.afterRelease(counts: counts, waitlist: waitlist) {
            guard let waiting = try await store.find(entry.id, forUpdate: true, in: context.transaction) else { continue }
            let transition = try waiting.state.transition(.offerSeat(until: rules.capacity.offerExpiry(from: now)),
                                                          context: TransitionContext(now: now, seat: .seat, refundPolicy: rules.refundPolicy))
            var offered = waiting
            offered.state = transition.registration
            try await store.save(offered, in: context.transaction)
            try await carryOut(transition, for: offered, conference: conference, rules: rules, context: context, now: now)
        }
    }

    func notice(_ record: RegistrationRecord, conference: ConferenceRecord, comment: String?) -> RegistrationNotice {
        RegistrationNotice(
            registrationId: record.id.lowercased, conferenceId: conference.id.lowercased, conferenceTitle: conference.title,
            conferenceStartLocal: Self.wallClock(conference.startsAt, zone: conference.timeZone), timeZone: conference.timeZone,
            category: record.state.category, status: record.state.status.rawValue, registrant: record.registrant,
            price: record.state.price, comment: comment, offerExpiresAt: record.state.offerExpiresAt, link: nil)
    }

    static func wallClock(_ date: Date, zone: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: zone) ?? .gmt
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    func view(_ record: RegistrationRecord, in tx: Transaction) async throws -> RegistrationView {
        let review = record.state.lastReview.map {
            RegistrationView.ReviewView(decision: $0.decision.rawValue, comment: $0.comment, at: $0.at)
        }
        return RegistrationView(
            id: record.id.lowercased, conferenceId: record.conferenceId.lowercased, organizationId: record.organizationId,
            accountId: record.registrant.accountId, email: record.registrant.email, name: record.registrant.name,
            category: record.state.category, status: record.state.status.rawValue, price: record.state.price,
            paid: record.state.paid, refunded: record.state.refunded, answers: record.answers, invoice: record.invoice,
            consentToContact: record.consentToContact, offerExpiresAt: record.state.offerExpiresAt, review: review,
            waitlistPosition: try await store.waitlistPosition(of: record, in: tx), submittedAt: record.submittedAt,
            updatedAt: record.updatedAt)
    }
}

extension UUID {
    var lowercased: String { uuidString.lowercased() }
}

extension Envelope {
    func requireOrganization() throws -> String {
        guard let organizationId, !organizationId.isEmpty else {
            throw ConveneError(code: "registration.organization_required", message: "the request names no organization")
        }
        return organizationId
    }
}

enum RegistrationIds {
    static func parse(_ raw: String, _ what: String = "registration") throws -> UUID {
        guard let id = UUID(uuidString: raw) else { throw ConveneError(code: "registration.not_found", message: "no such \(what)") }
        return id
    }
}

/// The rows a conference's seats are counted on while submissions share its lock. A transaction
/// (a consumer batch) counts all its seats on one row per category, picked at random once:
/// concurrent batches rarely wait on the same row. A row per seat made two batches take rows in
/// opposite orders and deadlock, again and again, under load.
enum SeatCounter {
    static let shards = 16

    static func shard(of tx: Transaction) -> Int {
        if let shard: Int = tx.locals["registration.seat-shard"] { return shard }
        let shard = Int.random(in: 0..<shards)
        tx.locals.set(shard, for: "registration.seat-shard")
        return shard
    }
}
