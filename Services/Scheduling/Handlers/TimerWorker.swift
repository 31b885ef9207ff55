import Contracts
import Foundation
import Logging
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

    /// Fires one batch of due timers; answers how many it fired.
    @discardableResult
    func fireDue(now: Date = Date()) async throws -> Int {
        let fired = try await pool.withTransaction { tx in
            let due = try await store.claimDue(now: now, limit: batchSize, in: tx)
            guard !due.isEmpty else { return [TimerStore.Due]() }
            try await tx.outbox(due.map(event))
            try await store.markFired(due.map(\.id), in: tx)
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

    /// The event a timer fires as: reminders are `scheduling.reminder_due`.
    func event(_ timer: TimerStore.Due) -> Envelope<ReminderDue> {
        let id = timer.id.uuidString.lowercased()
        return Envelope(
            id: timer.id, type: ReminderDue.messageType, version: ReminderDue.version, source: service,
            correlationId: id, organizationId: timer.organizationId,
            data: ReminderDue(timerId: id, meetingId: timer.meetingId.uuidString.lowercased(), meetingKind: timer.meetingKind,
                              kind: timer.kind, dueAt: timer.dueAt, sequence: timer.sequence, title: timer.title,
                              startsAt: timer.startsAt, endsAt: timer.endsAt, timeZone: timer.timeZone,
                              startLocal: MeetingTimers.wallClock(timer.startsAt, zone: timer.timeZone),
                              venue: timer.venue, onlinePlatform: timer.onlinePlatform))
    }
}
