import Foundation
import Messaging
import ServiceKit

switch CommandLine.arguments.dropFirst().first {
case "issue-token": await IssueTokenCommand.run(Array(CommandLine.arguments.dropFirst(2)))
case "grant-system-admin": await GrantSystemAdminCommand.run(Array(CommandLine.arguments.dropFirst(2)))
default: break
}

await ServiceMain.run(
    .gateway,
    bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil),
    services: { context in
        do {
            let settings = try GatewaySettings(context.configuration.environment)
            let rpc = RPCClient(amqp: context.configuration.amqp, publisher: context.publisher, source: "gateway",
                                logger: context.logger)
            return [rpc, IdentityMaintenance(pool: context.pool, logger: context.logger),
                    makeGatewayServer(settings: settings, rpc: rpc, pool: context.pool, logger: context.logger)]
        } catch {
            ServiceMain.fail("gateway: \(error)")
        }
    })
