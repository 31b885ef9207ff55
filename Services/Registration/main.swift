import Contracts
import Foundation
import Persistence
import ServiceKit

let store = RegistrationStore()
let flow = RegistrationFlow(store: store)

await ServiceMain.run(
    .registration,
    bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil),
    handlers: { _ in
        [
            OnConferenceScheduled(store: store), OnConferenceUpdated(store: store), OnConferenceCancelled(store: store, flow: flow),
            OnReminderDue(store: store),
            ConfigureRegistrationHandler(store: store), GetRegistrationFormHandler(store: store),
            SubmitRegistrationHandler(store: store, flow: flow), GetRegistrationHandler(store: store, flow: flow),
            ListRegistrationsHandler(store: store, flow: flow),
            OwnRegistrationCommandHandler<WithdrawRegistration>(store: store, flow: flow, command: .withdraw),
            OwnRegistrationCommandHandler<AcceptSeatOffer>(store: store, flow: flow, command: .acceptOffer),
            ResubmitRegistrationHandler(store: store, flow: flow),
            ReviewRegistrationHandler(store: store, flow: flow), ExportRegistrationsHandler(store: store), ListParticipantsHandler(),
            OnPaymentSucceeded(store: store, flow: flow), OnOrderExpired(store: store, flow: flow), OnRefunded(),
            OnRefundFailed(store: store),
        ]
    },
    services: { context in
        [OfferTimer(pool: context.pool, store: store, flow: flow, service: context.configuration.service.queue,
                    logger: context.logger)]
    })
