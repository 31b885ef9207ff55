import Contracts
import Foundation
import Logging
import Messaging
import Metrics
import Persistence
import ServiceLifecycle

/// Fires due timers. Each round claims up to `batchSize` due rows with `FOR UPDATE SKIP LOCKED`,
/// writes one event per timer to the outbox and marks them fired, all in one transaction: a timer
/// fires exactly when its event is committed, so it fires once however many instances run and
/// whenever one dies (a rolled-back round leaves its rows to the next). It then sleeps until the
/// next timer is due, at most `pollInterval` (timers planned meanwhile by any instance are seen
/// within that); timers that fell due while no instance ran are caught up on at start, in due
/// order, a batch after another.
///
/// The event's id is the timer's id: the outbox relay may publish a row twice (a crash between
/// the broker's confirm and marking it sent), and consumers' inboxes recognise the copy.
struct TimerWorker: Service {
    let pool: PGPool
    let store: TimerStore
    let service: String
    let logger: Logger
    var batchSize: Int = 500
    var pollInterval: Duration = .seconds(5)
    /// Enterprise meetings' start and end timers move their lifecycle on (nil: only reminders).
    var transitions: MeetingTransitions? = nil
    let meetingStore = MeetingStore()

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let pause: Duration
                do {
                    while try await fireDue() == batchSize {}
                    pause = try await untilNextDue()
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("timer worker failed; trying again", metadata: ["error": "\(error)"])
                    pause = pollInterval
                }
                try? await Task.sleep(for: pause)
            }
        }
    }

    /// Fires one batch of due timers; answers how many it fired. Reminders go out as
    /// `scheduling.reminder_due`; an enterprise meeting's rehearsal reminder as a
    /// `notification.send` to its host; its `start` and `end` move its lifecycle on
    /// (`MeetingTransitions`), in the same transaction.
    @discardableResult
    func fireDue(now: Date = Date()) async throws -> Int {
        let fired = try await pool.withTransaction { tx in
            let due = try await store.claimDue(now: now, limit: batchSize, in: tx)
            guard !due.isEmpty else { return [TimerStore.Due]() }
            // Marked first: a transition re-plans the meeting's timers, and a fired one stays.
            try await store.markFired(due.map(\.id), in: tx)
            let meetingIds = Set(due.filter { $0.meetingKind != "conference" && !Self.isTransition($0.kind) }.map(\.meetingId))
            let meetings = try await meetingStore.views(Array(meetingIds), in: tx)
            try await tx.outbox(due.filter { MeetingTimers.isReminder($0.kind) }.map { event($0, meeting: meetings[$0.meetingId]) })
            let rehearsals = due.filter { $0.kind == MeetingTimers.rehearsalKind }.compactMap { timer in
                meetings[timer.meetingId].map { rehearsal(timer, meeting: $0) }
            }
            try await tx.outbox(rehearsals, exchange: Exchange.commands)
            if let transitions {
                for timer in due where Self.isTransition(timer.kind) && timer.meetingKind != "conference" {
                    let context = HandlerContext.timer(transaction: tx, logger: logger, service: service, type: "scheduling.timer",
                                                       id: timer.id, organizationId: timer.organizationId)
                    try await transitions.apply(timer.kind == MeetingTimers.startKind ? .start : .end, meetingId: timer.meetingId,
                                                at: timer.dueAt, trigger: "timer", context: context)
                }
            }
            return due
        }
        if !fired.isEmpty {
            Counter(label: "convene_timers_fired_total", dimensions: [("service", service)]).increment(by: fired.count)
            logger.info("timers fired", metadata: [
                "count": "\(fired.count)", "latestDueAt": "\(ISO8601.format(fired.last!.dueAt))",
            ])
        }
        return fired.count
    }

    static func isTransition(_ kind: String) -> Bool { kind == MeetingTimers.startKind || kind == MeetingTimers.endKind }

    /// How long to sleep: until the next timer is due, at most `pollInterval`. A timer that is due
    /// already fell due after the round looked (this clock is read later than the round's), or
    /// another worker holds it for the moment its round lasts: look again shortly, not after a
    /// whole poll interval.
    func untilNextDue(now: Date = Date()) async throws -> Duration {
        guard let next = try await pool.withoutTransaction({ tx in try await store.nextDue(in: tx) }) else { return pollInterval }
        guard next > now else { return min(pollInterval, .milliseconds(100)) }
        let wait = Duration.milliseconds(Int64((next.timeIntervalSince(now) * 1000).rounded(.up)))
        return min(max(wait, .milliseconds(10)), pollInterval)
    }

    /// The event a timer fires as: reminders are `scheduling.reminder_due`; an enterprise
    /// meeting's carry its host, join links, agenda and materials.
    func event(_ timer: TimerStore.Due) -> Envelope<ReminderDue> { event(timer, meeting: nil) }

    func event(_ timer: TimerStore.Due, meeting: MeetingView?) -> Envelope<ReminderDue> {
        let id = timer.id.uuidString.lowercased()
        var reminder = ReminderDue(timerId: id, meetingId: timer.meetingId.uuidString.lowercased(), meetingKind: timer.meetingKind,
                                   kind: timer.kind, dueAt: timer.dueAt, sequence: timer.sequence, title: timer.title,
                                   startsAt: timer.startsAt, endsAt: timer.endsAt, timeZone: timer.timeZone,
                                   startLocal: MeetingTimers.wallClock(timer.startsAt, zone: timer.timeZone),
                                   venue: timer.venue, onlinePlatform: timer.onlinePlatform)
        if let meeting {
            reminder.onlinePlatform = meeting.plan.recommendedPlatform
            reminder.host = meeting.plan.host
            reminder.joinLinks = meeting.joinLinks
            reminder.agenda = meeting.agenda
            reminder.materials = meeting.materials.map(\.name)
        }
        return Envelope(
            id: timer.id, type: ReminderDue.messageType, version: ReminderDue.version, source: service,
            correlationId: id, organizationId: timer.organizationId, data: reminder)
    }

    /// The host's rehearsal reminder: a `notification.send` (template `meeting.rehearsal`) to the
    /// host alone, whose id and idempotency key are the timer's. Its data: `topic`, `startLocal`,
    /// `timeZone`, `location`, `joinLinks` (`platform`, `url`, `meetingNumber`, `password`,
    /// `recommended`), `agenda` (`time`, `topic`, `owner`), `materials` (`name`).
    func rehearsal(_ timer: TimerStore.Due, meeting: MeetingView) -> Envelope<SendNotification> {
        let id = timer.id.uuidString.lowercased()
        let zone = meeting.plan.timeZone
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let time = { (date: Date) in String(MeetingTimers.wallClock(date, zone: zone).suffix(5)) }
        let data: [String: JSONValue] = [
            "meetingId": .string(meeting.id), "topic": .string(meeting.plan.topic),
            "startLocal": .string(MeetingTimers.wallClock(meeting.plan.startsAt, zone: zone)), "timeZone": .string(zone),
            "location": text(meeting.plan.location),
            "joinLinks": .array(meeting.joinLinks.map { link in
                .object(["platform": .string(link.platform), "url": .string(link.joinUrl), "meetingNumber": text(link.meetingNumber),
                         "password": text(link.password), "recommended": .bool(link.recommended)])
            }),
            "agenda": .array(meeting.agenda.map { item in
                .object(["time": .string("\(time(item.startsAt))–\(time(item.endsAt))"), "topic": .string(item.topic),
                         "owner": text(item.owner)])
            }),
            "materials": .array(meeting.materials.map { .object(["name": .string($0.name)]) }),
        ]
        let host = meeting.plan.host
        return Envelope(
            id: timer.id, type: SendNotification.messageType, version: SendNotification.version, source: service,
            correlationId: id, organizationId: timer.organizationId,
            data: SendNotification(idempotencyKey: "meeting.rehearsal:\(id)", category: "meeting.rehearsal", transactional: false,
                                   templateKey: "meeting.rehearsal", data: data,
                                   recipients: [.init(accountId: host.accountId, email: host.email, name: host.name, locale: host.locale)],
                                   channels: ["email", "inbox"], locale: host.locale))
    }
}
