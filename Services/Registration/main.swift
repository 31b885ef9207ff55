import Contracts
import Foundation
import Persistence
import ServiceKit

let store = RegistrationStore()
let flow = RegistrationFlow(store: store)
let meetingStore = MeetingStore()
// The gateway's public base URL, for the answer links in invitation mails.
let publicURL = (ProcessInfo.processInfo.environment["REGISTRATION_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
    ?? "http://localhost:8080").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
if !(publicURL.hasPrefix("https://") || publicURL.hasPrefix("http://")) || URL(string: publicURL)?.host == nil {
    ServiceMain.fail("REGISTRATION_PUBLIC_URL must be an http(s) URL, e.g. https://convene.example.com")
}
let notices = MeetingNotices(publicURL: publicURL)
let meetings = MeetingEvents(store: meetingStore, notices: notices)

await ServiceMain.run(
    .registration,
    bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil),
    handlers: { _ in
        [
            OnConferenceScheduled(store: store, meetings: meetings), OnConferenceUpdated(store: store, meetings: meetings),
            OnConferenceCancelled(store: store, flow: flow, meetings: meetings),
            OnReminderDue(store: store, meetings: meetings), OnMeetingProvisioned(meetings: meetings),
            AddAttendeeHandler(store: meetingStore, meetings: meetings), UpdateAttendeeHandler(store: meetingStore, notices: notices),
            RemoveAttendeeHandler(store: meetingStore, notices: notices), ListAttendeesHandler(store: meetingStore),
            ImportAttendeesHandler(store: meetingStore, meetings: meetings), AttendeeTemplateHandler(),
            SyncAttendeesHandler(store: meetingStore, meetings: meetings, notices: notices),
            ListMyMeetingsHandler(store: meetingStore), GetInvitationHandler(store: meetingStore),
            RespondToInvitationHandler(store: meetingStore),
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
