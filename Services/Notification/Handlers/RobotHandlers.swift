import Contracts
import Foundation
import Persistence

extension MessageHandler {
    /// `notification.x` served by a service whose queue has another name (tests run many).
    static func scoped(_ type: String, to service: String) -> String {
        service + type.drop { $0 != "." }
    }
}

extension Envelope {
    /// The organization a request acts for; admin requests without one are refused.
    func requireOrganization() throws -> String {
        guard let organizationId, !organizationId.isEmpty else {
            throw ConveneError(code: "notification.organization_required", message: "the request names no organization")
        }
        return organizationId
    }
}

/// `notification.register_robot`
struct RegisterRobotHandler: MessageHandler {
    let settings: NotificationSettings
    let robots: RobotStore
    let service: String
    var messageType: String { Self.scoped(RegisterRobot.messageType, to: service) }

    func handle(_ message: Envelope<RegisterRobot>, context: HandlerContext) async throws -> RobotSummary {
        let organizationId = try message.requireOrganization()
        let request = message.data
        guard let kind = RobotKind(rawValue: request.kind) else {
            throw ConveneError(code: "notification.invalid_robot", message: "kind is dingtalk or wecom")
        }
        let name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else {
            throw ConveneError(code: "notification.invalid_robot", message: "a name of 1 to 100 characters")
        }
        let base = kind == .dingtalk ? settings.dingTalkRobotURL : settings.weComRobotURL
        let token: String
        do { token = try RobotAPI.token(fromWebhookURL: request.webhookUrl, kind: kind, base: base) } catch {
            throw ConveneError(code: "notification.invalid_robot", message: "\(error)")
        }
        if let secret = request.secret {
            guard kind == .dingtalk, (1...256).contains(secret.count) else {
                throw ConveneError(code: "notification.invalid_robot", message: "only DingTalk robots take a signing secret")
            }
        }
        return try await robots.insert(organizationId: organizationId, kind: kind, name: name,
                                       credentials: RobotCredentials(token: token, secret: request.secret),
                                       in: context.transaction)
    }
}

/// `notification.list_robots`
struct ListRobotsHandler: MessageHandler {
    let robots: RobotStore
    let service: String
    var messageType: String { Self.scoped(ListRobots.messageType, to: service) }

    func handle(_ message: Envelope<ListRobots>, context: HandlerContext) async throws -> [RobotSummary] {
        try await robots.list(organizationId: try message.requireOrganization(), in: context.transaction)
    }
}

/// `notification.remove_robot`
struct RemoveRobotHandler: MessageHandler {
    let robots: RobotStore
    let service: String
    var messageType: String { Self.scoped(RemoveRobot.messageType, to: service) }

    func handle(_ message: Envelope<RemoveRobot>, context: HandlerContext) async throws -> Empty {
        guard try await robots.delete(message.data.id, organizationId: try message.requireOrganization(), in: context.transaction)
        else { throw ConveneError(code: "notification.not_found", message: "no such robot") }
        return Empty()
    }
}
