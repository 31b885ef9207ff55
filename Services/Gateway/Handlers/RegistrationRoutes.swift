import Contracts
import Foundation
import Hummingbird
import Persistence

/// Registration for conferences: the public form, a participant's own registrations (submit,
/// read, fix and resubmit, withdraw, accept an offered seat, pay), and the organizers' side
/// (settings, lists, review, export).
struct RegistrationRoutes {
    let service: ServiceClient
    let pool: PGPool
    let accounts = AccountStore()
    var files: FileAnswers { FileAnswers(pool: pool) }

    struct SubmitBody: JSONRequestBody {
        var category: String
        var answers: [String: JSONValue]
        var invoice: InvoiceDetails?
        var consentToContact: Bool?
        enum CodingKeys: String, CodingKey, CaseIterable { case category, answers, invoice, consentToContact }
        typealias Fields = CodingKeys
    }

    struct AnswersBody: JSONRequestBody {
        var answers: [String: JSONValue]
        enum CodingKeys: String, CodingKey, CaseIterable { case answers }
        typealias Fields = CodingKeys
    }

    struct ReviewBody: JSONRequestBody {
        var decision: String
        var comment: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case decision, comment }
        typealias Fields = CodingKeys
    }

    struct SettingsBody: JSONRequestBody {
        var form: JSONValue
        var categories: [RegistrationCategory]
        var overallCapacity: Int?
        var reviewRequired: Bool
        var waitlistEnabled: Bool
        var offerValidityHours: Int?
        var paymentWindowMinutes: Int?
        var paymentMethods: [String]
        var refundPolicy: JSONValue?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case form, categories, overallCapacity, reviewRequired, waitlistEnabled, offerValidityHours, paymentWindowMinutes,
                 paymentMethods, refundPolicy
        }
        typealias Fields = CodingKeys
    }

    func registerPublic(on router: Router<GatewayRequestContext>) {
        // GET /v1/conferences/{id}/registration-form → RegistrationForm
        router.get("v1/conferences/:id/registration-form") { _, context -> Response in
            let id = try context.resourceId("id", kind: "conference")
            return try await service.respond(GetRegistrationForm(conferenceId: id), as: RegistrationForm.self, organizationId: nil,
                                             context: context)
        }
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // Participants
        routes.post("conferences/:id/registrations") { request, context -> Response in
            // Accounts only: an API key is refused before the body is read.
            _ = try context.requirePrincipal()
            let conferenceId = try context.resourceId("id", kind: "conference")
            let body = try await JSONBody.decode(SubmitBody.self, from: request)
            let registrant = try await registrant(context)
            let answers = try await files.resolve(body.answers, owner: registrant.accountId)
            let view = try await service.call(
                SubmitRegistration(conferenceId: conferenceId, category: body.category, answers: answers, invoice: body.invoice,
                                   consentToContact: body.consentToContact ?? false, registrant: registrant),
                as: RegistrationView.self, organizationId: nil, context: context)
            return try JSONResponse.make(view, status: .created, headers: [.location: "/v1/me/registrations/\(view.id)"])
        }
        routes.get("me/registrations") { request, context -> Response in
            let principal = try context.requirePrincipal()
            let query = QueryParameters(request)
            return try await service.respond(
                ListRegistrations(accountId: principal.accountId, limit: try query.int("limit", default: 100, in: 1...500),
                                  after: try query.string("after", maxLength: 64)),
                as: RegistrationPage.self, organizationId: nil, context: context)
        }
        routes.get("me/registrations/:id") { _, context -> Response in
            let principal = try context.requirePrincipal()
            let id = try context.resourceId("id", kind: "registration")
            return try await service.respond(GetRegistration(registrationId: id, accountId: principal.accountId),
                                             as: RegistrationView.self, organizationId: nil, context: context)
        }
        routes.put("me/registrations/:id/answers") { request, context -> Response in
            let principal = try context.requirePrincipal()
            let id = try context.resourceId("id", kind: "registration")
            let body = try await JSONBody.decode(AnswersBody.self, from: request)
            let answers = try await files.resolve(body.answers, owner: principal.accountId)
            return try await service.respond(ResubmitRegistration(registrationId: id, accountId: principal.accountId, answers: answers),
                                             as: RegistrationView.self, organizationId: nil, context: context)
        }
        routes.post("me/registrations/:id/withdraw") { _, context -> Response in
            let principal = try context.requirePrincipal()
            let id = try context.resourceId("id", kind: "registration")
            return try await service.respond(WithdrawRegistration(registrationId: id, accountId: principal.accountId),
                                             as: RegistrationView.self, organizationId: nil, context: context)
        }
        routes.post("me/registrations/:id/accept-offer") { _, context -> Response in
            let principal = try context.requirePrincipal()
            let id = try context.resourceId("id", kind: "registration")
            return try await service.respond(AcceptSeatOffer(registrationId: id, accountId: principal.accountId),
                                             as: RegistrationView.self, organizationId: nil, context: context)
        }

        // Organizers
        routes.put("organizations/:org/conferences/:id/registration-settings") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.conferencesWrite)
            let id = try context.resourceId("id", kind: "conference")
            let body = try await JSONBody.decode(SettingsBody.self, from: request)
            let settings = RegistrationSettings(
                form: body.form, categories: body.categories, overallCapacity: body.overallCapacity,
                reviewRequired: body.reviewRequired, waitlistEnabled: body.waitlistEnabled,
                offerValidityHours: body.offerValidityHours ?? 48, paymentWindowMinutes: body.paymentWindowMinutes ?? 30,
                paymentMethods: body.paymentMethods, refundPolicy: body.refundPolicy)
            return try await service.respond(ConfigureRegistration(conferenceId: id, settings: settings), as: RegistrationSettings.self,
                                             organizationId: organizationId, context: context)
        }
        routes.get("organizations/:org/conferences/:id/registrations") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.registrationsRead)
            let id = try context.resourceId("id", kind: "conference")
            let query = QueryParameters(request)
            return try await service.respond(
                ListRegistrations(conferenceId: id, status: try query.string("status", maxLength: 32),
                                  limit: try query.int("limit", default: 100, in: 1...500), after: try query.string("after", maxLength: 64)),
                as: RegistrationPage.self, organizationId: organizationId, context: context)
        }
        // GET …/registrations.csv and …/registrations.xlsx: every registration with its answers
        for format in ["csv", "xlsx"] {
            routes.get("organizations/:org/conferences/:id/registrations.\(format)") { _, context -> Response in
                let organizationId = try context.organizerOrganization(.registrationsRead)
                let id = try context.resourceId("id", kind: "conference")
                let file = try await service.call(ExportRegistrations(conferenceId: id, format: format), as: ExportedFile.self,
                                                  organizationId: organizationId, context: context)
                return try Self.download(file)
            }
        }
        // GET /v1/organizations/{org}/participants[?consent=true]: the participant database
        routes.get("organizations/:org/participants") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.registrationsRead)
            let consented = try QueryParameters(request).bool("consent") ?? false
            let people = try await service.call(ListParticipants(consentedOnly: consented), as: [ParticipantRecord].self,
                                                organizationId: organizationId, context: context)
            return try JSONResponse.make(ItemList(items: people))
        }
        routes.get("organizations/:org/registrations/:id") { _, context -> Response in
            let organizationId = try context.organizerOrganization(.registrationsRead)
            let id = try context.resourceId("id", kind: "registration")
            return try await service.respond(GetRegistration(registrationId: id, accountId: nil), as: RegistrationView.self,
                                             organizationId: organizationId, context: context)
        }
        routes.post("organizations/:org/registrations/:id/review") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.registrationsReview)
            let principal = try context.caller()
            let id = try context.resourceId("id", kind: "registration")
            let body = try await JSONBody.decode(ReviewBody.self, from: request)
            return try await service.respond(
                ReviewRegistration(registrationId: id, decision: body.decision, comment: body.comment, reviewerId: principal.accountId),
                as: RegistrationView.self, organizationId: organizationId, context: context)
        }
    }

    /// The signed-in participant as registration records them: the account's name and address.
    func registrant(_ context: GatewayRequestContext) async throws -> Payer {
        let principal = try context.requirePrincipal()
        let account = try await UUID(uuidString: principal.accountId).asyncFlatMap { id in
            try await pool.withoutTransaction { tx in try await accounts.find(id: id, in: tx) }
        }
        if let account {
            return Payer(accountId: principal.accountId, email: account.email, name: account.name, locale: account.locale)
        }
        // A token issued by an operator for an account kept elsewhere: its claims are all there is.
        guard let email = principal.email else {
            throw Problem(.forbidden, code: "gateway.account_required", detail: "registering needs an account with an email address")
        }
        return Payer(accountId: principal.accountId, email: email, name: String(email.prefix { $0 != "@" }),
                     locale: principal.locale ?? "zh-CN")
    }

    static func download(_ file: ExportedFile) throws -> Response {
        guard let bytes = Data(base64Encoded: file.body) else { throw Problem.internalError }
        return Response(status: .ok, headers: [
            .contentType: file.contentType, .cacheControl: "no-store",
            .contentDisposition: "attachment; filename=\"\(file.fileName)\"",
        ], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension Optional {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
