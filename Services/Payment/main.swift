import Foundation
import Persistence
import ServiceKit

await ServiceMain.run(
    .payment,
    bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil),
    handlers: { context in
        PaymentParts.build(context).handlers(service: context.configuration.service.queue,
                                             sidePool: PaymentParts.sidePool(for: context.pool, logger: context.logger))
    },
    services: { context in
        [PaymentParts.build(context).timers(service: context.configuration.service.queue, pool: context.pool, logger: context.logger)]
    })
