import Contracts
import Hummingbird

/// The signed-in user's notification preferences. A preference is kept for the account id and,
/// when the token carries one, the email address: deliveries match either.
struct PreferenceRoutes {
    let service: ServiceClient

    struct SetPreferenceBody: JSONRequestBody {
        var optedOut: Bool
        enum CodingKeys: String, CodingKey, CaseIterable { case optedOut }
        typealias Fields = CodingKeys
    }

    struct CategoryPreference: Codable, Sendable, Equatable {
        var category: String
        var optedOut: Bool
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // GET /v1/me/notification-preferences → {"items": [Preference]}
        routes.get("me/notification-preferences") { _, context -> Response in
            let principal = try context.requirePrincipal()
            let preferences = try await service.call(ListPreferences(recipients: Self.recipients(of: principal)),
                                                     as: [Preference].self, organizationId: principal.organizationId,
                                                     context: context)
            return try JSONResponse.make(ItemList(items: preferences))
        }
        // PUT /v1/me/notification-preferences/{category} {"optedOut": true} → {"category", "optedOut"}
        routes.put("me/notification-preferences/:category") { request, context -> Response in
            let principal = try context.requirePrincipal()
            let category = context.parameters.get("category") ?? ""
            let body = try await JSONBody.decode(SetPreferenceBody.self, from: request)
            for recipient in Self.recipients(of: principal) {
                _ = try await service.call(SetPreference(recipient: recipient, category: category, optedOut: body.optedOut),
                                           as: Preference.self, organizationId: principal.organizationId, context: context)
            }
            return try JSONResponse.make(CategoryPreference(category: category, optedOut: body.optedOut))
        }
    }

    static func recipients(of principal: Principal) -> [String] {
        [principal.accountId] + (principal.email.map { [$0] } ?? [])
    }
}
