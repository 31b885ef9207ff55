import Foundation
import Persistence
import ServiceKit

await ServiceMain.run(
    .notification,
    bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil),
    handlers: { context in
        let parts = NotificationParts.build(context)
        let intents = PGPool(.init(url: context.configuration.databaseURL, schema: context.configuration.schema, size: 2,
                                   applicationName: "notification-intents"), logger: context.logger)
        return parts.handlers(service: context.configuration.service.queue, intents: intents, logger: context.logger)
    },
    services: { context in
        [NotificationParts.build(context).scheduler(service: context.configuration.service.queue, pool: context.pool,
                                                    logger: context.logger)]
    })
