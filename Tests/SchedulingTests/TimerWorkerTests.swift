import Contracts
import Foundation
import Messaging
import Persistence
@testable import Scheduling
import Synchronization
import Testing
import TestSupport

/// Scheduling's handlers, timer store and worker against the real database, each test in a fresh
/// schema with the service's migrations.
struct SchedulingFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    static let week = Duration.seconds(168 * 3600), day = Duration.seconds(24 * 3600)

    let pool: PGPool
    let organizationId = "org-" + UUID().uuidString.prefix(8).lowercased()
    let conferences = ConferenceStore()
    let timers = TimerStore()
    let planning: ConferenceTimerPlanning

    init(reminderOffsets: [Duration] = [week, day], poolSize: Int = 4) async throws {
        pool = try await TestStack.migratedSchema(try Migration.load(from: Self.root + "/Services/Scheduling/Migrations"),
                                                  poolSize: poolSize)
        planning = ConferenceTimerPlanning(store: timers, reminderOffsets: reminderOffsets)
    }

    func worker(batchSize: Int = 500, pollInterval: Duration = .seconds(5)) -> TimerWorker {
        TimerWorker(pool: pool, store: timers, service: "scheduling", logger: TestStack.logger, batchSize: batchSize,
                    pollInterval: pollInterval)
    }

    /// Runs a handler as the dispatcher would, in a transaction of its own.
    func handle<H: MessageHandler>(_ handler: H, _ payload: H.Payload) async throws -> H.Response {
        let organizationId = organizationId
        return try await pool.withTransaction { tx in
            let context = HandlerContext.timer(transaction: tx, logger: TestStack.logger, service: "scheduling",
                                               type: handler.messageType, id: UUID(), organizationId: organizationId)
            return try await handler.handle(Envelope(type: handler.messageType, source: "test", organizationId: organizationId,
                                                     data: payload), context: context)
        }
    }

    static func details(startsAt: Date, title: String = "第十届分布式系统大会") -> ConferenceDetails {
        ConferenceDetails(title: title, startsAt: startsAt, endsAt: startsAt.addingTimeInterval(2 * 86_400), timeZone: "Asia/Shanghai",
                          venue: "上海国际会议中心", registrationOpensAt: startsAt.addingTimeInterval(-60 * 86_400),
                          registrationClosesAt: startsAt, languages: ["zh-CN", "en"], contactEmail: "distsys@example.org")
    }

    func create(startsAt: Date) async throws -> ConferenceView {
        try await handle(CreateConferenceHandler(store: conferences),
                         CreateConference(details: Self.details(startsAt: startsAt), createdBy: "acc-1"))
    }

    func publish(_ id: String) async throws -> ConferenceView {
        try await handle(PublishConferenceHandler(store: conferences, timers: planning), PublishConference(id: id))
    }

    func update(_ id: String, startsAt: Date) async throws -> ConferenceView {
        try await handle(UpdateConferenceHandler(store: conferences, timers: planning),
                         UpdateConference(id: id, details: Self.details(startsAt: startsAt)))
    }

    func cancel(_ id: String) async throws -> ConferenceView {
        try await handle(CancelConferenceHandler(store: conferences, timers: planning), CancelConference(id: id, reason: "venue closed"))
    }

    func timers(of id: String) async throws -> [TimerStore.Row] {
        try await pool.withTransaction { tx in try await timers.timers(meetingId: UUID(uuidString: id)!, in: tx) }
    }

    /// Published meetings, each with one timer due at the given instant (planned directly).
    func meetings(withTimersDueAt dues: [Date]) async throws -> [UUID] {
        let start = Date().addingTimeInterval(30 * 86_400)
        return try await pool.withTransaction { tx in
            var ids: [UUID] = []
            for (index, due) in dues.enumerated() {
                let id = UUID()
                try await conferences.insert(id: id, organizationId: organizationId,
                                             details: Self.details(startsAt: start, title: "Meeting \(index)"), createdBy: "acc-1", in: tx)
                try await conferences.setStatus(id, .published, in: tx)
                try await timers.replace(meetingId: id, with: [.init(kind: "reminder_1h", dueAt: due)], in: tx)
                ids.append(id)
            }
            return ids
        }
    }

    /// The reminder events in the outbox, in the order they were written.
    func events() async throws -> [Envelope<ReminderDue>] {
        try await pool.withConnection {
            try await $0.query("SELECT body FROM outbox WHERE message_type = 'scheduling.reminder_due' ORDER BY id")
        }.rows.map { try ConveneJSON.decode(Envelope<ReminderDue>.self, from: try $0.bytes("body")) }
    }

    func unfiredCount() async throws -> Int {
        try await pool.withConnection { try await $0.query("SELECT count(*)::int AS n FROM timers WHERE fired_at IS NULL") }
            .first!.int("n")
    }
}

@Suite("Durable timers (scheduling, real database)")
struct TimerWorkerTests {
    @Test("publishing plans the reminders; a due one fires once, as one scheduling.reminder_due whose id is the timer's, with the conference's summary")
    func firesOnce() async throws {
        let fixture = try await SchedulingFixture()
        defer { Task { await fixture.pool.close() } }
        let start = Date().addingTimeInterval(3 * 86_400).rounded()
        let conference = try await fixture.publish(try await fixture.create(startsAt: start).id)
        let planned = try await fixture.timers(of: conference.id)
        #expect(planned.map(\.kind) == ["reminder_24h"], "the week's reminder was already past when planned")
        let timer = try #require(planned.first)
        #expect(timer.dueAt == start.addingTimeInterval(-86_400) && timer.firedAt == nil)

        let worker = fixture.worker()
        #expect(try await worker.fireDue() == 0, "not due yet")
        #expect(try await worker.fireDue(now: timer.dueAt.addingTimeInterval(1)) == 1)
        #expect(try await worker.fireDue(now: timer.dueAt.addingTimeInterval(2)) == 0, "fired timers do not fire again")

        let events = try await fixture.events()
        #expect(events.count == 1)
        let event = try #require(events.first)
        #expect(event.id == timer.id, "the message id is the timer's: a re-published copy is recognised by consumers")
        #expect(event.type == "scheduling.reminder_due" && event.source == "scheduling" && event.organizationId == fixture.organizationId)
        #expect(event.data.timerId == timer.id.uuidString.lowercased() && event.data.meetingId == conference.id)
        #expect(event.data.meetingKind == "conference" && event.data.kind == "reminder_24h" && event.data.dueAt == timer.dueAt)
        #expect(event.data.title == conference.details.title && event.data.startsAt == start && event.data.timeZone == "Asia/Shanghai")
        #expect(event.data.startLocal == MeetingTimers.wallClock(start, zone: "Asia/Shanghai"))
        #expect(event.data.venue == "上海国际会议中心" && event.data.onlinePlatform == nil && event.data.sequence == conference.sequence)
        #expect(try await fixture.timers(of: conference.id).first?.firedAt != nil)
    }

    @Test("two workers racing over the same due timers fire each exactly once")
    func racingWorkers() async throws {
        let fixture = try await SchedulingFixture()
        defer { Task { await fixture.pool.close() } }
        let now = Date()
        _ = try await fixture.meetings(withTimersDueAt: (0..<400).map { now.addingTimeInterval(-Double($0)) })
        /// Fires batches until none is due; answers how many this worker fired.
        @Sendable func drain(_ worker: TimerWorker) async throws -> Int {
            var total = 0
            while true {
                let fired = try await worker.fireDue()
                if fired == 0 { return total }
                total += fired
            }
        }
        async let a = drain(fixture.worker(batchSize: 25))
        async let b = drain(fixture.worker(batchSize: 25))
        let (firedByA, firedByB) = try await (a, b)
        #expect(firedByA + firedByB == 400)
        let events = try await fixture.events()
        #expect(events.count == 400 && Set(events.map(\.id)).count == 400)
        #expect(try await fixture.unfiredCount() == 0)
    }

    @Test("a worker skips the timers another holds instead of waiting; a round that dies before committing fires nothing, and its timers fire later, once")
    func skipLockedAndCrash() async throws {
        let fixture = try await SchedulingFixture()
        defer { Task { await fixture.pool.close() } }
        _ = try await fixture.meetings(withTimersDueAt: (0..<10).map { Date().addingTimeInterval(-60 - Double($0)) })
        let other = fixture.worker()
        struct Died: Error {}
        final class Outcome: Sendable { let fired = Mutex<Int?>(nil) }
        let outcome = Outcome()
        await #expect(throws: Died.self) {
            try await fixture.pool.withTransaction { tx in
                // This round claims 4 timers and writes their events, then dies before committing.
                let held = try await fixture.timers.claimDue(now: Date(), limit: 4, in: tx)
                #expect(held.count == 4)
                try await tx.outbox(held.map(other.event))
                try await fixture.timers.markFired(held.map(\.id), in: tx)
                Task {
                    let count = try await other.fireDue()
                    outcome.fired.withLock { $0 = count }
                }
                let finished = await eventually(timeout: .seconds(20)) { outcome.fired.withLock { $0 } != nil }
                #expect(finished, "the other worker did not wait for the rows this round holds")
                throw Died()
            }
        }
        #expect(outcome.fired.withLock { $0 } == 6)
        #expect(try await fixture.unfiredCount() == 4, "the dead round's timers are due again")
        #expect(try await other.fireDue() == 4)
        let events = try await fixture.events()
        #expect(events.count == 10 && Set(events.map(\.id)).count == 10)
    }

    @Test("timers that fell due while no worker ran fire when one starts, earliest first, a batch after another")
    func catchUp() async throws {
        let fixture = try await SchedulingFixture()
        defer { Task { await fixture.pool.close() } }
        let now = Date().rounded()
        let dues = (0..<30).map { now.addingTimeInterval(-3600 * Double($0 + 1)) }.shuffled()
        _ = try await fixture.meetings(withTimersDueAt: dues)
        let worker = fixture.worker(batchSize: 7, pollInterval: .seconds(60))
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        #expect(try await eventually(timeout: .seconds(30)) { try await fixture.unfiredCount() == 0 })
        let events = try await fixture.events()
        #expect(events.count == 30)
        #expect(events.map(\.data.dueAt) == dues.sorted(), "caught up in due order")
    }

    @Test("a timer that fell due after a round looked is looked at again within 100 ms, not after a whole poll interval")
    func dueAfterTheRoundLooked() async throws {
        let fixture = try await SchedulingFixture(reminderOffsets: [.seconds(3600)])
        defer { Task { await fixture.pool.close() } }
        let conference = try await fixture.publish(try await fixture.create(startsAt: Date().addingTimeInterval(3660)).id)
        let due = try #require(try await fixture.timers(of: conference.id).first?.dueAt)
        let worker = fixture.worker(pollInterval: .seconds(120))
        // The round read its clock before the timer's time; the pause is asked for just after it.
        #expect(try await worker.fireDue(now: due.addingTimeInterval(-0.5)) == 0)
        #expect(try await worker.untilNextDue(now: due.addingTimeInterval(0.5)) <= .milliseconds(100))
        #expect(try await worker.untilNextDue(now: due.addingTimeInterval(-30)) == .seconds(30))
    }

    @Test("the worker wakes when the next timer falls due, long before its poll interval")
    func wakesAtNextDue() async throws {
        let fixture = try await SchedulingFixture(reminderOffsets: [.seconds(3600)])
        defer { Task { await fixture.pool.close() } }
        let conference = try await fixture.publish(try await fixture.create(startsAt: Date().addingTimeInterval(3602)).id)
        #expect(try await fixture.timers(of: conference.id).count == 1)
        let worker = fixture.worker(pollInterval: .seconds(120))
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        #expect(try await eventually(timeout: .seconds(20)) { try await fixture.events().count == 1 })
        let fired = try #require(try await fixture.timers(of: conference.id).first?.firedAt)
        let due = try #require(try await fixture.timers(of: conference.id).first?.dueAt)
        #expect(fired >= due.addingTimeInterval(-0.01), "not before its time")
    }

    @Test("moving a published conference's start moves its pending reminders (same rows); a fired one stays fired; cancelling removes the pending ones")
    func moveAndCancel() async throws {
        let fixture = try await SchedulingFixture()
        defer { Task { await fixture.pool.close() } }
        let start = Date().addingTimeInterval(30 * 86_400).rounded()
        let draft = try await fixture.create(startsAt: start)
        _ = try await fixture.update(draft.id, startsAt: start.addingTimeInterval(3600))
        #expect(try await fixture.timers(of: draft.id).isEmpty, "a draft has no timers")
        _ = try await fixture.update(draft.id, startsAt: start)
        _ = try await fixture.publish(draft.id)
        let planned = try await fixture.timers(of: draft.id)
        #expect(planned.map(\.kind) == ["reminder_168h", "reminder_24h"])
        #expect(planned.map(\.dueAt) == [start.addingTimeInterval(-7 * 86_400), start.addingTimeInterval(-86_400)])

        let moved = start.addingTimeInterval(2 * 86_400 + 1800)
        _ = try await fixture.update(draft.id, startsAt: moved)
        let after = try await fixture.timers(of: draft.id)
        #expect(after.map(\.id) == planned.map(\.id), "moved, not replaced")
        #expect(after.map(\.dueAt) == [moved.addingTimeInterval(-7 * 86_400), moved.addingTimeInterval(-86_400)])

        // The week's reminder fires; the start moves again: only the pending one follows.
        #expect(try await fixture.worker().fireDue(now: after[0].dueAt.addingTimeInterval(1)) == 1)
        let movedAgain = moved.addingTimeInterval(86_400)
        _ = try await fixture.update(draft.id, startsAt: movedAgain)
        let afterFiring = try await fixture.timers(of: draft.id)
        #expect(afterFiring.count == 2, "no second week's reminder")
        #expect(afterFiring[0].id == after[0].id && afterFiring[0].firedAt != nil && afterFiring[0].dueAt == after[0].dueAt)
        #expect(afterFiring[1].id == after[1].id && afterFiring[1].dueAt == movedAgain.addingTimeInterval(-86_400))

        // Moved so near that the day's reminder has passed: it is removed, not sent late.
        _ = try await fixture.update(draft.id, startsAt: Date().addingTimeInterval(3600).rounded())
        #expect(try await fixture.timers(of: draft.id).filter { $0.firedAt == nil }.isEmpty)
        _ = try await fixture.update(draft.id, startsAt: movedAgain)
        #expect(try await fixture.timers(of: draft.id).filter { $0.firedAt == nil }.map(\.kind) == ["reminder_24h"])

        let cancelled = try await fixture.cancel(draft.id)
        #expect(cancelled.status == "cancelled")
        let left = try await fixture.timers(of: draft.id)
        #expect(left.map(\.id) == [after[0].id], "the pending reminder is gone; the fired one is the record of what went out")
        #expect(try await fixture.worker().fireDue(now: movedAgain) == 0)
        #expect(try await fixture.events().count == 1)
    }
}

extension Date {
    /// Whole seconds: what the API round-trips.
    func rounded() -> Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded()) }
}
