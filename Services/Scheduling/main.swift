import Foundation
import Persistence
import ServiceKit

let settings: SchedulingSettings
do {
    settings = try SchedulingSettings(ProcessInfo.processInfo.environment)
} catch {
    ServiceMain.fail("scheduling: \(error)")
}
let timerStore = TimerStore()
let planning = ConferenceTimerPlanning(store: timerStore, reminderOffsets: settings.conferenceReminderOffsets)
let meetingPlanning = MeetingTimerPlanning(store: timerStore)
let meetings = MeetingStore()
let transitions = MeetingTransitions(store: meetings, timers: meetingPlanning)

await ServiceMain.run(
    .scheduling,
    bundledMigrations: Bundle.module.path(forResource: "Migrations", ofType: nil),
    handlers: { _ in
        let conferences = ConferenceStore()
        return [
            CreateConferenceHandler(store: conferences), UpdateConferenceHandler(store: conferences, timers: planning),
            PublishConferenceHandler(store: conferences, timers: planning),
            CancelConferenceHandler(store: conferences, timers: planning),
            GetConferenceHandler(store: conferences), ListConferencesHandler(store: conferences),
            CreateMeetingHandler(store: meetings, timers: meetingPlanning), UpdateMeetingHandler(store: meetings, timers: meetingPlanning),
            CancelMeetingHandler(store: meetings, timers: meetingPlanning), GetMeetingHandler(store: meetings),
            ListMeetingsHandler(store: meetings), SetAgendaHandler(store: meetings), AddMaterialHandler(store: meetings),
            CreateRoomHandler(store: meetings), UpdateRoomHandler(store: meetings), ListRoomsHandler(store: meetings),
            OnMeetingProvisioned(store: meetings), OnProvisioningFailed(store: meetings),
            OnPlatformMeetingStarted(transitions: transitions), OnPlatformMeetingEnded(transitions: transitions),
        ]
    },
    services: { context in
        [TimerWorker(pool: context.pool, store: timerStore, service: context.configuration.service.queue, logger: context.logger,
                     batchSize: settings.timerBatchSize, pollInterval: settings.timerPollInterval, transitions: transitions)]
    })
