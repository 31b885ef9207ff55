import Contracts
import Foundation
import Hummingbird

/// An organization's DingTalk and WeCom robots; organization administrators only. A robot's token,
/// key and secret go in and never come back.
struct RobotRoutes {
    let service: ServiceClient

    struct RegisterBody: JSONRequestBody {
        var kind: String
        var name: String
        var webhookUrl: String
        var secret: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case kind, name, webhookUrl, secret }
        typealias Fields = CodingKeys
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // GET /v1/organizations/{org}/robots → {"items": [RobotSummary]}
        routes.get("organizations/:org/robots") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let robots = try await service.call(ListRobots(), as: [RobotSummary].self, organizationId: organizationId,
                                                context: context)
            return try JSONResponse.make(ItemList(items: robots))
        }
        // POST /v1/organizations/{org}/robots → 201 RobotSummary
        routes.post("organizations/:org/robots") { request, context -> Response in
            let organizationId = try context.administeredOrganization()
            let body = try await JSONBody.decode(RegisterBody.self, from: request)
            let robot = try await service.call(
                RegisterRobot(kind: body.kind, name: body.name, webhookUrl: body.webhookUrl, secret: body.secret),
                as: RobotSummary.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(robot, status: .created,
                                         headers: [.location: "/v1/organizations/\(organizationId.pathEscaped)/robots/\(robot.id)"])
        }
        // DELETE /v1/organizations/{org}/robots/{id} → 204
        routes.delete("organizations/:org/robots/:id") { _, context -> Response in
            let organizationId = try context.administeredOrganization()
            let id = try context.resourceId("id", kind: "robot")
            _ = try await service.call(RemoveRobot(id: id), as: Empty.self, organizationId: organizationId, context: context)
            return JSONResponse.noContent()
        }
    }
}
