import Contracts
import Foundation
@testable import Registration
import Testing

@Suite("Registration status, transition by transition")
struct RegistrationStatusTests {
    let now = date("2026-09-01T08:00:00Z")
    let price = cny(128_00)

    /// A registration in `status`, as it would be when it got there.
    func registration(_ status: RegistrationStatus, price: Money? = nil) -> Registration {
        let price = price ?? self.price
        var registration = Registration(status: status, category: "regular", price: price)
        if status == .confirmed { registration.paid = price }
        if status == .offered { registration.offerExpiresAt = now.addingTimeInterval(3600) }
        return registration
    }

    func context(seat: SeatDecision? = .seat, refundPolicy: RefundPolicy = .none, at: Date? = nil) -> TransitionContext {
        TransitionContext(now: at ?? now, seat: seat, refundPolicy: refundPolicy)
    }

    func run(_ status: RegistrationStatus, _ command: RegistrationCommand, _ context: TransitionContext? = nil,
             price: Money? = nil) throws -> Transition {
        try registration(status, price: price).transition(command, context: context ?? self.context())
    }

    // MARK: submit

    @Test("submit with review required waits for review and takes no seat")
    func submitForReview() throws {
        let t = try Registration.submit(category: "student", context: TransitionContext(now: now, reviewRequired: true, price: price))
        #expect(t.from == nil && t.to == .pendingReview)
        #expect(t.effects == [] && t.events == [.submitted])
        #expect(t.registration.category == "student" && t.registration.price == price && t.registration.paid == cny(0))
    }

    @Test("submit without review takes a seat: awaiting payment with an order, or confirmed when free")
    func submitWithSeat() throws {
        let paid = try Registration.submit(category: "regular", context: TransitionContext(now: now, price: price, seat: .seat))
        #expect(paid.to == .awaitingPayment)
        #expect(paid.effects == [.seatTaken, .createOrder(price)])
        #expect(paid.events == [.submitted, .awaitingPayment])
        let free = try Registration.submit(category: "speaker", context: TransitionContext(now: now, price: cny(0), seat: .seat))
        #expect(free.to == .confirmed)
        #expect(free.effects == [.seatTaken])
        #expect(free.events == [.submitted, .confirmed])
    }

    @Test("submit when full joins the waitlist, or is refused with registration.capacity_full when there is none")
    func submitWhenFull() throws {
        let waiting = try Registration.submit(category: "regular", context: TransitionContext(now: now, price: price, seat: .waitlist))
        #expect(waiting.to == .waitlisted && waiting.effects == [] && waiting.events == [.submitted, .waitlisted])
        #expect(errorCode { try Registration.submit(category: "regular", context: TransitionContext(now: now, price: price, seat: .refuse)) }
            == "registration.capacity_full")
        #expect(errorCode { try Registration.submit(category: "regular", context: TransitionContext(now: now, price: price)) }
            == "registration.seat_undecided")
        #expect(errorCode { try Registration.submit(category: "regular", context: TransitionContext(now: now, seat: .seat)) }
            == "registration.price_unknown")
    }

    // MARK: review

    @Test("approve places the registration by seat decision and price, and records the review")
    func approve() throws {
        let command = RegistrationCommand.approve(by: "staff-1", comment: "welcome")
        let seat = try run(.pendingReview, command)
        #expect(seat.to == .awaitingPayment)
        #expect(seat.effects == [.seatTaken, .createOrder(price)])
        #expect(seat.events == [.approved, .awaitingPayment])
        #expect(seat.registration.lastReview == Review(decision: .approved, by: "staff-1", comment: "welcome", at: now))
        let free = try run(.pendingReview, command, price: cny(0))
        #expect(free.to == .confirmed && free.effects == [.seatTaken] && free.events == [.approved, .confirmed])
        let waiting = try run(.pendingReview, command, context(seat: .waitlist))
        #expect(waiting.to == .waitlisted && waiting.effects == [] && waiting.events == [.approved, .waitlisted])
        #expect(errorCode { try run(.pendingReview, command, context(seat: .refuse)) } == "registration.capacity_full")
    }

    @Test("approval keeps the price locked in at submission")
    func approveKeepsPrice() throws {
        let earlyBird = cny(98_00)
        let submitted = try Registration.submit(category: "regular",
                                                context: TransitionContext(now: now, reviewRequired: true, price: earlyBird))
        let later = context(at: now.addingTimeInterval(30 * 86_400))
        let approved = try submitted.registration.transition(.approve(by: "staff", comment: nil), context: later)
        #expect(approved.effects == [.seatTaken, .createOrder(earlyBird)])
    }

    @Test("reject ends a registration under review or waiting for changes")
    func reject() throws {
        for status in [RegistrationStatus.pendingReview, .changesRequested] {
            let t = try run(status, .reject(by: "staff-2", comment: "out of scope"))
            #expect(t.to == .rejected && t.effects == [] && t.events == [.rejected])
            #expect(t.registration.lastReview?.decision == .rejected)
        }
    }

    @Test("request changes sends it back to the participant, and needs a comment saying what")
    func requestChanges() throws {
        let t = try run(.pendingReview, .requestChanges(by: "staff", comment: "upload the student card"))
        #expect(t.to == .changesRequested && t.effects == [] && t.events == [.changesRequested])
        #expect(t.registration.lastReview == Review(decision: .changesRequested, by: "staff", comment: "upload the student card", at: now))
        #expect(errorCode { try run(.pendingReview, .requestChanges(by: "staff", comment: "  ")) } == "registration.comment_required")
    }

    @Test("resubmit returns a registration with requested changes to review")
    func resubmit() throws {
        let t = try run(.changesRequested, .resubmit)
        #expect(t.to == .pendingReview && t.effects == [] && t.events == [.submitted])
    }

    // MARK: payment

    @Test("payment succeeded confirms a registration awaiting payment and records what was paid")
    func paymentSucceeded() throws {
        let t = try run(.awaitingPayment, .paymentSucceeded(price))
        #expect(t.to == .confirmed && t.effects == [] && t.events == [.confirmed])
        #expect(t.registration.paid == price)
        #expect(errorCode { try run(.awaitingPayment, .paymentSucceeded(Money(amountMinor: 20_00, currency: "USD"))) }
            == "registration.currency_mismatch")
    }

    @Test("a late payment is refunded in full and never buys a seat the registration does not have")
    func latePayment() throws {
        for status in RegistrationStatus.allCases where status != .awaitingPayment && status != .confirmed {
            let t = try run(status, .paymentSucceeded(price))
            #expect(t.to == status, "\(status)")
            #expect(!t.changed && t.events == [])
            #expect(t.effects == [.refund(price, .latePayment)], "\(status)")
        }
        let duplicate = try run(.confirmed, .paymentSucceeded(price))
        #expect(duplicate.to == .confirmed && duplicate.effects == [.refund(price, .duplicatePayment)])
        #expect(duplicate.registration.paid == price)
    }

    @Test("order expired releases the seat and offers it on; a stale expiry after payment or the end changes nothing")
    func orderExpired() throws {
        let t = try run(.awaitingPayment, .orderExpired)
        #expect(t.to == .expired && t.effects == [.seatReleased, .offerNextOnWaitlist] && t.events == [.expired])
        for status in [RegistrationStatus.confirmed, .withdrawn, .cancelled, .expired] {
            let stale = try run(status, .orderExpired)
            #expect(!stale.changed && stale.effects == [] && stale.events == [], "\(status)")
        }
    }

    // MARK: waitlist

    @Test("offer seat reserves a freed seat for a waitlisted registration until the offer's expiry")
    func offerSeat() throws {
        let until = now.addingTimeInterval(48 * 3600)
        let t = try run(.waitlisted, .offerSeat(until: until))
        #expect(t.to == .offered && t.effects == [.seatTaken] && t.events == [.seatOffered])
        #expect(t.registration.offerExpiresAt == until)
        #expect(errorCode { try run(.waitlisted, .offerSeat(until: until), context(seat: .waitlist)) } == "registration.capacity_full")
        #expect(errorCode { try run(.waitlisted, .offerSeat(until: now)) } == "registration.invalid_offer")
    }

    @Test("accept offer keeps the reserved seat: awaiting payment with an order, or confirmed when free")
    func acceptOffer() throws {
        let t = try run(.offered, .acceptOffer)
        #expect(t.to == .awaitingPayment && t.effects == [.createOrder(price)] && t.events == [.awaitingPayment])
        #expect(t.registration.offerExpiresAt == nil)
        let free = try run(.offered, .acceptOffer, price: cny(0))
        #expect(free.to == .confirmed && free.effects == [] && free.events == [.confirmed])
    }

    @Test("an offer can be accepted until just before it expires, not at its expiry")
    func acceptOfferDeadline() throws {
        let expiry = now.addingTimeInterval(3600)
        #expect(try run(.offered, .acceptOffer, context(at: expiry.addingTimeInterval(-1))).to == .awaitingPayment)
        #expect(errorCode { try run(.offered, .acceptOffer, context(at: expiry)) } == "registration.offer_expired")
    }

    @Test("an expired offer ends the registration as expired and offers the seat to the next in line")
    func offerExpired() throws {
        let expiry = now.addingTimeInterval(3600)
        let t = try run(.offered, .offerExpired, context(at: expiry))
        #expect(t.to == .expired && t.effects == [.seatReleased, .offerNextOnWaitlist] && t.events == [.expired])
        #expect(t.registration.offerExpiresAt == nil)
        let early = try run(.offered, .offerExpired, context(at: expiry.addingTimeInterval(-1)))
        #expect(!early.changed && early.effects == [])
        for status in [RegistrationStatus.awaitingPayment, .confirmed, .withdrawn, .cancelled, .expired] {
            let stale = try run(status, .offerExpired, context(at: expiry))
            #expect(!stale.changed && stale.effects == [] && stale.events == [], "\(status)")
        }
    }

    // MARK: leaving

    @Test("withdraw from each active state releases a held seat, cancels an open order, and refunds by policy")
    func withdraw() throws {
        let expected: [RegistrationStatus: [RegistrationEffect]] = [
            .pendingReview: [],
            .changesRequested: [],
            .waitlisted: [],
            .offered: [.seatReleased, .offerNextOnWaitlist],
            .awaitingPayment: [.cancelOrder, .seatReleased, .offerNextOnWaitlist],
            .confirmed: [.refund(cny(64_00), .withdrawal), .seatReleased, .offerNextOnWaitlist],
        ]
        let halfBack = RefundPolicy(tiers: [], afterwardsBasisPoints: 5000)
        for (status, effects) in expected {
            let t = try run(status, .withdraw, context(refundPolicy: halfBack))
            #expect(t.to == .withdrawn && t.events == [.withdrawn], "\(status)")
            #expect(t.effects == effects, "\(status)")
            #expect(t.registration.offerExpiresAt == nil)
        }
        let kept = try run(.confirmed, .withdraw, context(refundPolicy: .none))
        #expect(kept.effects == [.seatReleased, .offerNextOnWaitlist])
        let refunded = try run(.confirmed, .withdraw, context(refundPolicy: halfBack))
        #expect(refunded.registration.refunded == cny(64_00))
    }

    @Test("cancel by the organizer from each active state refunds everything not yet refunded")
    func cancel() throws {
        for status in RegistrationStatus.allCases where status.isActive {
            let t = try run(status, .cancel(by: "organizer", reason: "venue closed"), context(refundPolicy: .none))
            #expect(t.to == .cancelled && t.events == [.cancelled], "\(status)")
            #expect(t.effects.contains(.refund(price, .cancellation)) == (status == .confirmed), "\(status)")
            #expect(t.effects.contains(.seatReleased) == status.holdsSeat, "\(status)")
        }
        var partly = registration(.confirmed)
        partly.refunded = cny(28_00)
        let t = try partly.transition(.cancel(by: "organizer", reason: nil), context: context())
        #expect(t.effects == [.refund(cny(100_00), .cancellation), .seatReleased, .offerNextOnWaitlist])
        #expect(t.registration.refunded == price)
    }

    // MARK: the whole table

    enum Outcome: Equatable { case to(RegistrationStatus), unchanged, illegal }

    /// Every command from every state: where it leads (with a seat available, before the offer
    /// expires — except offerExpired, which runs after).
    static let table: [RegistrationStatus: [String: Outcome]] = {
        var table: [RegistrationStatus: [String: Outcome]] = [:]
        for status in RegistrationStatus.allCases {
            table[status] = [
                "approve": status == .pendingReview ? .to(.awaitingPayment) : .illegal,
                "reject": status == .pendingReview || status == .changesRequested ? .to(.rejected) : .illegal,
                "request_changes": status == .pendingReview ? .to(.changesRequested) : .illegal,
                "resubmit": status == .changesRequested ? .to(.pendingReview) : .illegal,
                "payment_succeeded": status == .awaitingPayment ? .to(.confirmed) : .unchanged,
                "order_expired": status == .awaitingPayment ? .to(.expired)
                    : [.confirmed, .withdrawn, .cancelled, .expired].contains(status) ? .unchanged : .illegal,
                "offer_seat": status == .waitlisted ? .to(.offered) : .illegal,
                "accept_offer": status == .offered ? .to(.awaitingPayment) : .illegal,
                "offer_expired": status == .offered ? .to(.expired)
                    : [.awaitingPayment, .confirmed, .withdrawn, .cancelled, .expired].contains(status) ? .unchanged : .illegal,
                "withdraw": status.isFinal ? .illegal : .to(.withdrawn),
                "cancel": status.isFinal ? .illegal : .to(.cancelled),
            ]
        }
        return table
    }()

    var commands: [RegistrationCommand] {
        [.approve(by: "s", comment: nil), .reject(by: "s", comment: nil), .requestChanges(by: "s", comment: "fix it"), .resubmit,
         .paymentSucceeded(price), .orderExpired, .offerSeat(until: now.addingTimeInterval(7200)), .acceptOffer, .offerExpired,
         .withdraw, .cancel(by: "o", reason: nil)]
    }

    @Test("every command from every state leads where the table says, and illegal ones name from and to")
    func everyPair() throws {
        for status in RegistrationStatus.allCases {
            for command in commands {
                let at = command == .offerExpired ? now.addingTimeInterval(3600) : now
                let expected = try #require(Self.table[status]?[command.name])
                do {
                    let t = try run(status, command, context(refundPolicy: .full, at: at))
                    #expect(expected == (t.changed ? .to(t.to) : .unchanged), "\(status) \(command.name)")
                    #expect(t.from == status)
                } catch let error as ConveneError {
                    #expect(expected == .illegal, "\(status) \(command.name): \(error)")
                    #expect(error.code == "registration.illegal_transition")
                    #expect(error.details?["from"] == status.rawValue)
                    #expect(error.details?["to"] == command.target)
                    #expect(error.message.contains(status.rawValue))
                }
            }
        }
    }

    @Test("a representative illegal command from each state throws registration.illegal_transition")
    func illegalFromEachState() {
        let illegal: [(RegistrationStatus, RegistrationCommand)] = [
            (.pendingReview, .resubmit), (.changesRequested, .approve(by: "s", comment: nil)), (.rejected, .withdraw),
            (.awaitingPayment, .approve(by: "s", comment: nil)), (.confirmed, .acceptOffer), (.waitlisted, .acceptOffer),
            (.offered, .approve(by: "s", comment: nil)), (.withdrawn, .cancel(by: "o", reason: nil)), (.cancelled, .withdraw),
            (.expired, .resubmit),
        ]
        #expect(Set(illegal.map(\.0)) == Set(RegistrationStatus.allCases))
        for (status, command) in illegal {
            do {
                _ = try run(status, command)
                Issue.record("\(command.name) from \(status) was allowed")
            } catch let error as ConveneError {
                #expect(error.code == "registration.illegal_transition")
                #expect(error.message == "cannot \(command.name) a registration that is \(status.rawValue) (to \(command.target))")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test("seat effects match the states that hold a seat, and a released seat is always offered on")
    func seatBookkeeping() throws {
        #expect(RegistrationStatus.allCases.filter(\.holdsSeat) == [.awaitingPayment, .confirmed, .offered])
        for status in RegistrationStatus.allCases {
            for command in commands {
                let at = command == .offerExpired ? now.addingTimeInterval(3600) : now
                guard let t = try? run(status, command, context(refundPolicy: .full, at: at)) else { continue }
                let taken = t.effects.filter { $0 == .seatTaken }.count
                let released = t.effects.filter { $0 == .seatReleased }.count
                #expect(taken == (!status.holdsSeat && t.to.holdsSeat ? 1 : 0), "\(status) \(command.name)")
                #expect(released == (status.holdsSeat && !t.to.holdsSeat ? 1 : 0), "\(status) \(command.name)")
                if released > 0 { #expect(t.effects.last == .offerNextOnWaitlist) }
                #expect(t.changed == !t.events.isEmpty, "\(status) \(command.name)")
            }
        }
    }

    @Test("apply updates the registration in place; statuses and events have their wire names")
    func applyAndNames() throws {
        var registration = registration(.pendingReview)
        _ = try registration.apply(.requestChanges(by: "s", comment: "add an abstract"), context: context())
        _ = try registration.apply(.resubmit, context: context())
        _ = try registration.apply(.approve(by: "s", comment: nil), context: context())
        #expect(registration.status == .awaitingPayment)
        #expect(registration.lastReview?.decision == .approved)
        #expect(RegistrationStatus.allCases.map(\.rawValue) == [
            "pending_review", "changes_requested", "rejected", "awaiting_payment", "confirmed", "waitlisted", "offered",
            "withdrawn", "cancelled", "expired",
        ])
        #expect(RegistrationEvent.allCases.map(\.rawValue) == [
            "registration.submitted", "registration.approved", "registration.rejected", "registration.changes_requested",
            "registration.waitlisted", "registration.seat_offered", "registration.awaiting_payment", "registration.confirmed",
            "registration.withdrawn", "registration.cancelled", "registration.expired",
        ])
        let decoded = try ConveneJSON.decode(Registration.self, from: ConveneJSON.encode(registration))
        #expect(decoded == registration)
    }
}
