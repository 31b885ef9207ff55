import Foundation
import Persistence
import ServiceKit

await ServiceMain.run(
    .platformBridge,
    bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil),
    handlers: { context in
        PlatformBridgeParts.build(context).handlers(service: context.configuration.service.queue)
    },
    services: { context in
        [PlatformBridgeParts.build(context).worker(service: context.configuration.service.queue, pool: context.pool,
                                                   logger: context.logger)]
    })
