import Foundation
import Persistence
import ServiceKit

await ServiceMain.run(
    .scheduling,
    bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil),
    handlers: { _ in
        let conferences = ConferenceStore()
        return [
            CreateConferenceHandler(store: conferences), UpdateConferenceHandler(store: conferences),
            PublishConferenceHandler(store: conferences), CancelConferenceHandler(store: conferences),
            GetConferenceHandler(store: conferences), ListConferencesHandler(store: conferences),
        ]
    })
