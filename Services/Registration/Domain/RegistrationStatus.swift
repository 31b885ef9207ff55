import Contracts
import Foundation

/// Where a registration stands. Stored and sent as the snake_case raw values.
enum RegistrationStatus: String, Codable, Sendable, CaseIterable {
    /// Submitted; staff review it before anything else happens.
    case pendingReview = "pending_review"
    /// Staff asked the participant to change something; `resubmit` sends it back to review.
    case changesRequested = "changes_requested"
    case rejected
    /// A seat is held while the order is open.
    case awaitingPayment = "awaiting_payment"
    case confirmed
    /// In line for a seat.
    case waitlisted
    /// A freed seat is reserved for this person until `offerExpiresAt`.
    case offered
    /// By the participant.
    case withdrawn
    /// By the organizer.
    case cancelled
    /// The order or the offer lapsed and the seat went back.
    case expired

    /// The states counted against capacity.
    var holdsSeat: Bool { self == .awaitingPayment || self == .confirmed || self == .offered }

    /// The states a participant can withdraw from and an organizer can cancel.
    var isActive: Bool { !isFinal }

    /// No command moves a registration out of these (a late payment is refunded, not taken).
    var isFinal: Bool { self == .rejected || self == .withdrawn || self == .cancelled || self == .expired }
}

/// The events a transition asks the handler to publish (through the outbox).
enum RegistrationEvent: String, Codable, Sendable, CaseIterable {
    case submitted = "registration.submitted"
    case approved = "registration.approved"
    case rejected = "registration.rejected"
    case changesRequested = "registration.changes_requested"
    case waitlisted = "registration.waitlisted"
    case seatOffered = "registration.seat_offered"
    case awaitingPayment = "registration.awaiting_payment"
    case confirmed = "registration.confirmed"
    case withdrawn = "registration.withdrawn"
    case cancelled = "registration.cancelled"
    case expired = "registration.expired"
}

/// What the handler must do besides saving the registration, in the same transaction (seats,
/// outbox) or through messages to the payment service (orders, refunds).
enum RegistrationEffect: Sendable, Equatable {
    /// Count one more held seat in the registration's category.
    case seatTaken
    /// Count one fewer; always followed by `offerNextOnWaitlist`.
    case seatReleased
    /// Ask payment for an order of this amount (the price locked in at submission).
    case createOrder(Money)
    /// Ask payment to cancel the open order (the participant left while it was unpaid).
    case cancelOrder
    /// Ask payment to give this much back.
    case refund(Money, RefundReason)
    /// Run `CapacityPolicy.afterRelease` and offer the seats it names.
    case offerNextOnWaitlist
}

/// What staff, the participant, the payment service or a timer asks of a registration.
enum RegistrationCommand: Sendable, Equatable {
    case approve(by: String, comment: String?)
    case reject(by: String, comment: String?)
    /// The comment says what to change, so it is required.
    case requestChanges(by: String, comment: String)
    case resubmit
    /// payment.succeeded for this registration's order.
    case paymentSucceeded(Money)
    /// payment.order_expired: the order lapsed unpaid.
    case orderExpired
    case offerSeat(until: Date)
    case acceptOffer
    /// The offer's timer fired.
    case offerExpired
    case withdraw
    case cancel(by: String, reason: String?)

    var name: String {
        switch self {
        case .approve: "approve"
        case .reject: "reject"
        case .requestChanges: "request_changes"
        case .resubmit: "resubmit"
        case .paymentSucceeded: "payment_succeeded"
        case .orderExpired: "order_expired"
        case .offerSeat: "offer_seat"
        case .acceptOffer: "accept_offer"
        case .offerExpired: "offer_expired"
        case .withdraw: "withdraw"
        case .cancel: "cancel"
        }
    }

    /// Where the command leads when it is legal (for error messages).
    var target: String {
        switch self {
        case .approve: "awaiting_payment|confirmed|waitlisted"
        case .reject: RegistrationStatus.rejected.rawValue
        case .requestChanges: RegistrationStatus.changesRequested.rawValue
        case .resubmit: RegistrationStatus.pendingReview.rawValue
        case .paymentSucceeded: RegistrationStatus.confirmed.rawValue
        case .orderExpired, .offerExpired: RegistrationStatus.expired.rawValue
        case .offerSeat: RegistrationStatus.offered.rawValue
        case .acceptOffer: "awaiting_payment|confirmed"
        case .withdraw: RegistrationStatus.withdrawn.rawValue
        case .cancel: RegistrationStatus.cancelled.rawValue
        }
    }
}

/// What the handler knows when it applies a command, read inside the capacity-locking
/// transaction. Each command reads only what it needs.
struct TransitionContext: Sendable {
    var now: Date
    /// submit: whether staff review registrations first.
    var reviewRequired: Bool
    /// submit: the category's price now (`FeeSchedule.price(category:at:)`); it is locked in.
    var price: Money?
    /// submit without review, approve, offerSeat: `CapacityPolicy.decide` (or, for offerSeat,
    /// `.seat` when `afterRelease` named this registration).
    var seat: SeatDecision?
    /// withdraw: the conference's refund policy.
    var refundPolicy: RefundPolicy

    init(now: Date, reviewRequired: Bool = false, price: Money? = nil, seat: SeatDecision? = nil,
         refundPolicy: RefundPolicy = .none) {
        self.now = now
        self.reviewRequired = reviewRequired
        self.price = price
        self.seat = seat
        self.refundPolicy = refundPolicy
    }
}

/// The last review decision, kept with the registration (the full history is the event log).
struct Review: Codable, Sendable, Equatable {
    enum Decision: String, Codable, Sendable { case approved, rejected, changesRequested = "changes_requested" }
    var decision: Decision
    var by: String
    var comment: String?
    var at: Date
}

/// A registration as the state machine sees it.
struct Registration: Codable, Sendable, Equatable {
    var status: RegistrationStatus
    var category: String
    /// The price when it was submitted: approval after review and a seat accepted from the
    /// waitlist keep it (an early-bird price is not lost by waiting for staff or for a seat).
    var price: Money
    /// Payments taken for the seat (late and duplicate payments are refunded, not added).
    var paid: Money
    var refunded: Money
    /// Set while `offered`.
    var offerExpiresAt: Date?
    var lastReview: Review?

    init(status: RegistrationStatus, category: String, price: Money, paid: Money? = nil, refunded: Money? = nil,
         offerExpiresAt: Date? = nil, lastReview: Review? = nil) {
        self.status = status
        self.category = category
        self.price = price
        self.paid = paid ?? price.withAmount(0)
        self.refunded = refunded ?? price.withAmount(0)
        self.offerExpiresAt = offerExpiresAt
        self.lastReview = lastReview
    }
}

/// The outcome of a command: the registration afterwards, what to do and what to announce.
struct Transition: Sendable, Equatable {
    var registration: Registration
    /// nil for a submission.
    var from: RegistrationStatus?
    var effects: [RegistrationEffect]
    var events: [RegistrationEvent]

    var to: RegistrationStatus { registration.status }
    /// False for outcomes that leave the status alone: a late payment refunded, a stale timer.
    var changed: Bool { from != to }
}

extension ConveneError {
    static func illegalTransition(from status: RegistrationStatus, _ command: RegistrationCommand) -> ConveneError {
        ConveneError(code: "registration.illegal_transition",
                     message: "cannot \(command.name) a registration that is \(status.rawValue) (to \(command.target))",
                     details: ["from": status.rawValue, "to": command.target, "command": command.name])
    }

    static var capacityFull: ConveneError {
        ConveneError(code: "registration.capacity_full", message: "no seat is left and the conference keeps no waitlist")
    }
}

// MARK: - The transitions

extension Registration {
    /// A new registration. With review: `pendingReview` (no seat yet; capacity is decided at
    /// approval). Without: by `context.seat` — a seat is `awaitingPayment` with an order, or
    /// `confirmed` when free; `waitlisted`; or `registration.capacity_full`.
    static func submit(category: String, context: TransitionContext) throws -> Transition {
        guard let price = context.price else {
            throw ConveneError(code: "registration.price_unknown", message: "submit needs the category's price")
        }
        var registration = Registration(status: .pendingReview, category: category, price: price)
        if context.reviewRequired {
            return Transition(registration: registration, from: nil, effects: [], events: [.submitted])
        }
        let (effects, events) = try registration.place(seat: context.seat)
        return Transition(registration: registration, from: nil, effects: effects, events: [.submitted] + events)
    }

    /// The outcome of `command` from this registration's status; throws
    /// `registration.illegal_transition` (and a few more specific codes) when it does not apply.
    func transition(_ command: RegistrationCommand, context: TransitionContext) throws -> Transition {
        var next = self
        let from = status
        func outcome(_ effects: [RegistrationEffect], _ events: [RegistrationEvent]) -> Transition {
            Transition(registration: next, from: from, effects: effects, events: events)
        }
        let unchanged = outcome([], [])
        let illegal = ConveneError.illegalTransition(from: from, command)

        switch command {
        case .approve(let by, let comment):
            guard status == .pendingReview else { throw illegal }
            next.lastReview = Review(decision: .approved, by: by, comment: comment, at: context.now)
            let (effects, events) = try next.place(seat: context.seat)
            return outcome(effects, [.approved] + events)

        case .reject(let by, let comment):
            guard status == .pendingReview || status == .changesRequested else { throw illegal }
            next.status = .rejected
            next.lastReview = Review(decision: .rejected, by: by, comment: comment, at: context.now)
            return outcome([], [.rejected])

        case .requestChanges(let by, let comment):
            guard status == .pendingReview else { throw illegal }
            guard !comment.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ConveneError(code: "registration.comment_required", message: "say what should change")
            }
            next.status = .changesRequested
            next.lastReview = Review(decision: .changesRequested, by: by, comment: comment, at: context.now)
            return outcome([], [.changesRequested])

        case .resubmit:
            guard status == .changesRequested else { throw illegal }
            next.status = .pendingReview
            return outcome([], [.submitted])

        case .paymentSucceeded(let amount):
            switch status {
            case .awaitingPayment:
                guard amount.currency == paid.currency else {
                    throw ConveneError(code: "registration.currency_mismatch",
                                       message: "a payment in \(amount.currency) for a price in \(paid.currency)")
                }
                next.status = .confirmed
                next.paid.amountMinor += amount.amountMinor
                return outcome([], [.confirmed])
            case .confirmed:
                return outcome([.refund(amount, .duplicatePayment)], [])
            default:
                // No seat is waiting for this money (the order lapsed, the participant left, or
                // there never was an order): it goes back, and the status stays.
                return outcome([.refund(amount, .latePayment)], [])
            }

        case .orderExpired:
            switch status {
            case .awaitingPayment:
                next.status = .expired
                return outcome([.seatReleased, .offerNextOnWaitlist], [.expired])
            case .confirmed, .withdrawn, .cancelled, .expired:
                return unchanged  // a stale timer: paid in time, or already over
            default:
                throw illegal
            }

        case .offerSeat(let until):
            guard status == .waitlisted else { throw illegal }
            guard context.seat == .seat else {
                throw ConveneError(code: "registration.capacity_full", message: "no freed seat to offer")
            }
            guard until > context.now else {
                throw ConveneError(code: "registration.invalid_offer", message: "an offer must expire in the future")
            }
            next.status = .offered
            next.offerExpiresAt = until
            return outcome([.seatTaken], [.seatOffered])

        case .acceptOffer:
            guard status == .offered else { throw illegal }
            if let expiry = offerExpiresAt, context.now >= expiry {
                throw ConveneError(code: "registration.offer_expired", message: "the offer lapsed at \(ISO8601.format(expiry))")
            }
            next.offerExpiresAt = nil
            if price.isPositive {
                next.status = .awaitingPayment
                return outcome([.createOrder(price)], [.awaitingPayment])
            }
            next.status = .confirmed
            return outcome([], [.confirmed])

        case .offerExpired:
            switch status {
            case .offered:
                if let expiry = offerExpiresAt, context.now < expiry { return unchanged }  // fired early
                next.status = .expired
                next.offerExpiresAt = nil
                return outcome([.seatReleased, .offerNextOnWaitlist], [.expired])
            case .awaitingPayment, .confirmed, .withdrawn, .cancelled, .expired:
                return unchanged  // a stale timer: accepted in time, or already over
            default:
                throw illegal
            }

        case .withdraw, .cancel:
            guard status.isActive else { throw illegal }
            let byOrganizer = if case .cancel = command { true } else { false }
            var effects: [RegistrationEffect] = []
            if status == .awaitingPayment { effects.append(.cancelOrder) }
            let refund = try context.refundPolicy.refund(for: byOrganizer ? .cancellation : .withdrawal, paid: paid,
                                                         alreadyRefunded: refunded, at: context.now)
            if refund.isPositive {
                effects.append(.refund(refund, byOrganizer ? .cancellation : .withdrawal))
                next.refunded.amountMinor += refund.amountMinor
            }
            if status.holdsSeat { effects += [.seatReleased, .offerNextOnWaitlist] }
            next.status = byOrganizer ? .cancelled : .withdrawn
            next.offerExpiresAt = nil
            return outcome(effects, [byOrganizer ? .cancelled : .withdrawn])
        }
    }

    /// Applies `command`, returning what the handler must do.
    mutating func apply(_ command: RegistrationCommand, context: TransitionContext) throws -> Transition {
        let transition = try transition(command, context: context)
        self = transition.registration
        return transition
    }

    /// Seat, waitlist or refusal for a registration that has just been submitted or approved.
    private mutating func place(seat: SeatDecision?) throws -> ([RegistrationEffect], [RegistrationEvent]) {
        switch seat {
        case .seat where price.isPositive:
            status = .awaitingPayment
            return ([.seatTaken, .createOrder(price)], [.awaitingPayment])
        case .seat:
            status = .confirmed
            return ([.seatTaken], [.confirmed])
        case .waitlist:
            status = .waitlisted
            return ([], [.waitlisted])
        case .refuse:
            throw ConveneError.capacityFull
        case nil:
            throw ConveneError(code: "registration.seat_undecided", message: "the capacity decision is missing")
        }
    }
}
