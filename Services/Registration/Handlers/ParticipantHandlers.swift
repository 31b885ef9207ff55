import Contracts
import Foundation
import Persistence

/// `registration.submit`: validates the answers, decides the seat under the conference's lock,
/// prices the category, and places the registration (review, order, confirmation or waitlist).
struct SubmitRegistrationHandler: MessageHandler {
    let store: RegistrationStore
    let flow: RegistrationFlow
    var messageType: String { SubmitRegistration.messageType }

    func handle(_ message: Envelope<SubmitRegistration>, context: HandlerContext) async throws -> RegistrationView {
        let request = message.data
        let conferenceId = try RegistrationIds.parse(request.conferenceId, "conference")
        let now = Date()
        let (conference, rules, shared) = try await flow.forSubmission(conferenceId: conferenceId, category: request.category,
                                                                       in: context.transaction)
        guard conference.isOpen(at: now) else {
            throw ConveneError(code: "registration.closed", message: conference.cancelled ? "the conference was cancelled"
                               : now < conference.registrationOpensAt ? "registration has not opened yet" : "registration has closed")
        }
        guard rules.settings.categories.contains(where: { $0.key == request.category }) else {
            throw ConveneError(code: "registration.unknown_category", message: "no category \"\(request.category)\"",
                               details: ["category": "one of \(rules.settings.categories.map(\.key).joined(separator: ", "))"])
        }
        let answers: CleanAnswers
        switch rules.form.validate(answers: request.answers) {
        case .success(let clean): answers = clean
        case .failure(let errors): throw errors.conveneError
        }
        let transitionContext = try await flow.context(category: request.category, rules: rules, now: now, in: conferenceId,
                                                       tx: context.transaction)
        let transition = try Registration.submit(category: request.category, context: transitionContext)
        let record = RegistrationRecord(
            id: UUID(), conferenceId: conferenceId, organizationId: conference.organizationId, registrant: request.registrant,
            state: transition.registration, answers: answers.values, invoice: request.invoice,
            consentToContact: request.consentToContact, waitlistPosition: nil, submittedAt: now, updatedAt: now)
        guard let stored = try await store.insert(record, in: context.transaction) else {
            throw ConveneError(code: "registration.exists", message: "you have a registration for this conference already")
        }
        try await flow.carryOut(transition, for: stored, conference: conference, rules: rules, context: context, now: now,
                                sharedSeats: shared)
        return try await flow.view(stored, in: context.transaction)
    }
}

/// `registration.get`
struct GetRegistrationHandler: MessageHandler {
    let store: RegistrationStore
    let flow: RegistrationFlow
    var messageType: String { GetRegistration.messageType }

    func handle(_ message: Envelope<GetRegistration>, context: HandlerContext) async throws -> RegistrationView {
        let id = try RegistrationIds.parse(message.data.registrationId)
        // A participant's request names the account; an organizer's names the organization.
        let organizationId = message.data.accountId == nil ? try message.requireOrganization() : nil
        guard let record = try await store.find(id, accountId: message.data.accountId, organizationId: organizationId,
                                                in: context.transaction) else {
            throw ConveneError(code: "registration.not_found", message: "no such registration")
        }
        return try await flow.view(record, in: context.transaction)
    }
}

/// `registration.list`
struct ListRegistrationsHandler: MessageHandler {
    let store: RegistrationStore
    let flow: RegistrationFlow
    var messageType: String { ListRegistrations.messageType }

    func handle(_ message: Envelope<ListRegistrations>, context: HandlerContext) async throws -> RegistrationPage {
        let request = message.data
        let conferenceId = try request.conferenceId.map { try RegistrationIds.parse($0, "conference") }
        let organizationId = request.accountId == nil ? try message.requireOrganization() : nil
        guard request.accountId != nil || conferenceId != nil else {
            throw ConveneError(code: "registration.invalid_request", message: "name an account or a conference")
        }
        let limit = request.limit ?? 100
        guard (1...500).contains(limit) else {
            throw ConveneError(code: "registration.invalid_request", message: "limit is 1–500", details: ["limit": "1–500"])
        }
        let cursor = try request.after.map { text in
            guard let cursor = RegistrationCursor(text) else {
                throw ConveneError(code: "registration.invalid_cursor", message: "not a cursor from a previous page")
            }
            return cursor
        }
        let page = try await store.list(accountId: request.accountId, conferenceId: conferenceId, organizationId: organizationId,
                                        status: request.status, limit: limit, after: cursor, in: context.transaction)
        var views: [RegistrationView] = []
        for record in page.items { views.append(try await flow.view(record, in: context.transaction)) }
        return RegistrationPage(items: views, next: page.next?.text)
    }
}

/// Loads a participant's own registration, locked, with its conference's rules.
struct OwnRegistration {
    static func load(_ rawId: String, accountId: String, store: RegistrationStore, flow: RegistrationFlow,
                     tx: Transaction) async throws -> (RegistrationRecord, ConferenceRecord, RegistrationFlow.Rules) {
        let id = try RegistrationIds.parse(rawId)
        // The conference's lock first (the same order as every seat decision), then the row.
        guard let peek = try await store.find(id, accountId: accountId, in: tx) else {
            throw ConveneError(code: "registration.not_found", message: "no such registration")
        }
        let (conference, rules) = try await flow.locked(conferenceId: peek.conferenceId, in: tx)
        guard let record = try await store.find(id, accountId: accountId, forUpdate: true, in: tx) else {
            throw ConveneError(code: "registration.not_found", message: "no such registration")
        }
        return (record, conference, rules)
    }
}

/// A participant's request about their own registration.
protocol OwnRegistrationRequest: MessagePayload {
    var registrationId: String { get }
    var accountId: String { get }
}

extension WithdrawRegistration: OwnRegistrationRequest {}
extension AcceptSeatOffer: OwnRegistrationRequest {}

/// `registration.withdraw` (the participant gives up: a held seat goes to the waitlist, what was
/// paid is refunded by the conference's policy) and `registration.accept_offer` (the participant
/// takes the seat offered from the waitlist): one command on one's own registration.
struct OwnRegistrationCommandHandler<Request: OwnRegistrationRequest>: MessageHandler {
    let store: RegistrationStore
    let flow: RegistrationFlow
    let command: RegistrationCommand
    var messageType: String { Request.messageType }

    func handle(_ message: Envelope<Request>, context: HandlerContext) async throws -> RegistrationView {
        let (record, conference, rules) = try await OwnRegistration.load(message.data.registrationId, accountId: message.data.accountId,
                                                                         store: store, flow: flow, tx: context.transaction)
        let next = try await flow.apply(command, to: record, conference: conference, rules: rules, context: context)
        return try await flow.view(next, in: context.transaction)
    }
}

/// `registration.resubmit`: after changes were requested, new answers go back to review.
struct ResubmitRegistrationHandler: MessageHandler {
    let store: RegistrationStore
    let flow: RegistrationFlow
    var messageType: String { ResubmitRegistration.messageType }

    func handle(_ message: Envelope<ResubmitRegistration>, context: HandlerContext) async throws -> RegistrationView {
        var (record, conference, rules) = try await OwnRegistration.load(message.data.registrationId, accountId: message.data.accountId,
                                                                         store: store, flow: flow, tx: context.transaction)
        switch rules.form.validate(answers: message.data.answers) {
        case .success(let clean): record.answers = clean.values
        case .failure(let errors): throw errors.conveneError
        }
        let next = try await flow.apply(.resubmit, to: record, conference: conference, rules: rules, context: context)
        return try await flow.view(next, in: context.transaction)
    }
}

/// `registration.review`: staff approve, reject or ask for changes, with a comment.
struct ReviewRegistrationHandler: MessageHandler {
    let store: RegistrationStore
    let flow: RegistrationFlow
    var messageType: String { ReviewRegistration.messageType }

    func handle(_ message: Envelope<ReviewRegistration>, context: HandlerContext) async throws -> RegistrationView {
        let organizationId = try message.requireOrganization()
        let request = message.data
        let id = try RegistrationIds.parse(request.registrationId)
        guard let peek = try await store.find(id, organizationId: organizationId, in: context.transaction) else {
            throw ConveneError(code: "registration.not_found", message: "no such registration")
        }
        let (conference, rules) = try await flow.locked(conferenceId: peek.conferenceId, in: context.transaction)
        let record = try await store.find(id, organizationId: organizationId, forUpdate: true, in: context.transaction)!
        let comment = request.comment?.trimmingCharacters(in: .whitespacesAndNewlines)
        let command: RegistrationCommand
        switch request.decision {
        case "approve": command = .approve(by: request.reviewerId, comment: comment)
        case "reject": command = .reject(by: request.reviewerId, comment: comment)
        case "request_changes":
            guard let comment, !comment.isEmpty else {
                throw ConveneError(code: "registration.invalid_review", message: "say what should change",
                                   details: ["comment": "required when asking for changes"])
            }
            command = .requestChanges(by: request.reviewerId, comment: comment)
        default:
            throw ConveneError(code: "registration.invalid_review", message: "decision is approve, reject or request_changes",
                               details: ["decision": "approve, reject or request_changes"])
        }
        let next = try await flow.apply(command, to: record, conference: conference, rules: rules, context: context, comment: comment)
        return try await flow.view(next, in: context.transaction)
    }
}
