import Contracts
import Hummingbird

/// Which events notify whom, per organization: the shipped rules, switched on or off and their
/// channels changed by an organization administrator.
struct RuleRoutes {
    let service: ServiceClient

    struct UpdateBody: JSONRequestBody {
        var enabled: Bool?
        var channels: [String]?
        enum CodingKeys: String, CodingKey, CaseIterable { case enabled, channels }
        typealias Fields = CodingKeys
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // GET /v1/organizations/{org}/notification-rules → {"items": [RuleSummary]}
        routes.get("organizations/:org/notification-rules") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let rules = try await service.call(ListRules(), as: [RuleSummary].self, organizationId: organizationId,
                                               context: context)
            return try JSONResponse.make(ItemList(items: rules))
        }
        // PATCH /v1/organizations/{org}/notification-rules/{ruleId} {"enabled"?, "channels"?} → RuleSummary
        routes.patch("organizations/:org/notification-rules/:ruleId") { request, context -> Response in
            let organizationId = try context.administeredOrganization()
            let ruleId = context.parameters.get("ruleId") ?? ""
            guard (1...200).contains(ruleId.count) else { throw Problem.notFound("no such rule") }
            let body = try await JSONBody.decode(UpdateBody.self, from: request)
            return try await service.respond(SetRule(ruleId: ruleId, enabled: body.enabled, channels: body.channels),
                                             as: RuleSummary.self, organizationId: organizationId, context: context)
        }
    }
}
