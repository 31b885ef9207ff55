import Foundation
import Persistence
import ServiceKit

await ServiceMain.run(
    .notification,
    bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil),
    handlers: { context in
        NotificationParts.build(context).handlers(service: context.configuration.service.queue, logger: context.logger)
    },
    services: { context in
        NotificationParts.build(context).services(service: context.configuration.service.queue, pool: context.pool,
                                                  logger: context.logger)
    })
