import Contracts
import Foundation
import Persistence

/// `registration.configure`: an organizer sets the form, categories, fees, capacity, review,
/// waitlist, payment methods and refund policy of one of the organization's published conferences.
struct ConfigureRegistrationHandler: MessageHandler {
    let store: RegistrationStore
    var messageType: String { ConfigureRegistration.messageType }

    static let methods: Set<String> = ["wechat_pay", "alipay", "stripe", "bank_transfer"]

    func handle(_ message: Envelope<ConfigureRegistration>, context: HandlerContext) async throws -> RegistrationSettings {
        let organizationId = try message.requireOrganization()
        let conferenceId = try RegistrationIds.parse(message.data.conferenceId, "conference")
        guard let conference = try await store.conference(conferenceId, in: context.transaction),
              conference.organizationId == organizationId else {
            throw ConveneError(code: "registration.not_found",
                               message: "no such published conference (publish it, then configure its registration)")
        }
        let settings = message.data.settings
        let problems = Self.problems(settings)
        guard problems.isEmpty else { throw ConveneError.invalid("registration.invalid_settings", "the settings", problems: problems) }
        _ = try await store.settings(conferenceId: conferenceId, lock: .exclusive, in: context.transaction)
        try await store.saveSettings(conferenceId: conferenceId, organizationId: organizationId, settings: settings,
                                     in: context.transaction)
        return settings
    }

    /// `student`, `early_career`: a lower-case letter, then letters, digits and _, at most 32.
    static func validKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, ("a"..."z").contains(first), key.count <= 32 else { return false }
        return key.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func problems(_ settings: RegistrationSettings) -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        do {
            let form = try ConveneJSON.decode(FormDefinition.self, from: ConveneJSON.encode(settings.form))
            problems += form.validate().map { ValidationProblem(path: "form." + $0.path, code: $0.code, message: $0.message) }
        } catch {
            problems.append(ValidationProblem(path: "form", code: "invalid_form", message: "not a form definition: \(error)"))
        }
        let keys = settings.categories.map(\.key)
        if keys.isEmpty { problems.append(.init(path: "categories", code: "no_categories", message: "at least one category")) }
        if Set(keys).count != keys.count { problems.append(.init(path: "categories", code: "duplicate_key", message: "keys are unique")) }
        for (index, category) in settings.categories.enumerated() {
            if !validKey(category.key) {
                problems.append(.init(path: "categories[\(index)].key", code: "invalid_key", message: "a-z, 0-9 and _, 1 to 32"))
            }
            if category.names.isEmpty { problems.append(.init(path: "categories[\(index)].names", code: "missing_name", message: "a name")) }
            if let capacity = category.capacity, capacity < 0 {
                problems.append(.init(path: "categories[\(index)].capacity", code: "invalid_capacity", message: "zero or more"))
            }
        }
        let fees = FeeSchedule(perCategory: Dictionary(settings.categories.map { ($0.key, $0.fee) }) { first, _ in first })
        problems += fees.validate().map { ValidationProblem(path: $0.path, code: $0.code, message: $0.message) }
        if let overall = settings.overallCapacity, overall < 0 {
            problems.append(.init(path: "overallCapacity", code: "invalid_capacity", message: "zero or more"))
        }
        if !(1...24 * 14).contains(settings.offerValidityHours) {
            problems.append(.init(path: "offerValidityHours", code: "out_of_range", message: "1 to 336 hours"))
        }
        if !(5...60 * 24 * 14).contains(settings.paymentWindowMinutes) {
            problems.append(.init(path: "paymentWindowMinutes", code: "out_of_range", message: "5 minutes to 14 days"))
        }
        let unknown = Set(settings.paymentMethods).subtracting(methods)
        if !unknown.isEmpty {
            problems.append(.init(path: "paymentMethods", code: "unknown_method", message: "one of \(methods.sorted().joined(separator: ", "))"))
        }
        let paid = settings.categories.contains { $0.fee.regular.isPositive }
        if paid && settings.paymentMethods.isEmpty {
            problems.append(.init(path: "paymentMethods", code: "no_methods", message: "a paid category needs a payment method"))
        }
        if let policy = settings.refundPolicy {
            do {
                let refunds = try ConveneJSON.decode(RefundPolicy.self, from: ConveneJSON.encode(policy))
                problems += refunds.validate().map { ValidationProblem(path: "refundPolicy." + $0.path, code: $0.code, message: $0.message) }
            } catch {
                problems.append(.init(path: "refundPolicy", code: "invalid_refund_policy", message: "\(error)"))
            }
        }
        return problems
    }
}


/// `registration.get_form`: the form and categories of a published conference, with today's prices.
struct GetRegistrationFormHandler: MessageHandler {
    let store: RegistrationStore
    var messageType: String { GetRegistrationForm.messageType }

    func handle(_ message: Envelope<GetRegistrationForm>, context: HandlerContext) async throws -> RegistrationForm {
        let conferenceId = try RegistrationIds.parse(message.data.conferenceId, "conference")
        guard let conference = try await store.conference(conferenceId, in: context.transaction),
              let settings = try await store.settings(conferenceId: conferenceId, lock: .none, in: context.transaction) else {
            throw ConveneError(code: "registration.not_found", message: "this conference takes no registrations")
        }
        let rules = try RegistrationFlow.Rules(settings)
        let now = Date()
        let counts = try await store.counts(conferenceId: conferenceId, in: context.transaction)
        let categories = try settings.categories.map { category in
            RegistrationForm.Category(key: category.key, names: category.names, price: try rules.fees.price(category: category.key, at: now),
                                      earlyBird: category.fee.earlyBird.flatMap { now < $0.until ? $0 : nil },
                                      full: !rules.capacity.hasRoom(for: category.key, in: counts))
        }
        return RegistrationForm(conferenceId: conferenceId.lowercased, title: conference.title, form: settings.form,
                                categories: categories, reviewRequired: settings.reviewRequired,
                                waitlistEnabled: settings.waitlistEnabled, opensAt: conference.registrationOpensAt,
                                closesAt: conference.registrationClosesAt, open: conference.isOpen(at: now))
    }
}
