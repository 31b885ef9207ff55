import Foundation
import Messaging
import ServiceKit

if CommandLine.arguments.dropFirst().first == "issue-token" {
    await IssueTokenCommand.run(Array(CommandLine.arguments.dropFirst(2)))
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
