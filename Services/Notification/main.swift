import Foundation
import ServiceKit

// Handlers arrive with the features that need them; until then the service answers ping.
await ServiceMain.run(.notification, bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil))
