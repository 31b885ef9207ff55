import Contracts
import Foundation
import Messaging
import Persistence
@testable import Scheduling
import Testing
import TestSupport

/// Enterprise meetings' handlers against the real database (a fresh schema per test).
struct MeetingFixture {
    let base: SchedulingFixture
    let meetings = MeetingStore()
    let planning: MeetingTimerPlanning
    var pool: PGPool { base.pool }
    var organizationId: String { base.organizationId }

    init(poolSize: Int = 4) async throws {
        base = try await SchedulingFixture(poolSize: poolSize)
        planning = MeetingTimerPlanning(store: base.timers)
    }

    var transitions: MeetingTransitions { MeetingTransitions(store: meetings, timers: planning) }

    func worker(batchSize: Int = 500) -> TimerWorker {
        var worker = base.worker(batchSize: batchSize)
        worker.transitions = transitions
        return worker
    }

    static let host = MeetingHost(accountId: "acc-host", name: "王芳", email: "wang@example.com", locale: "zh-CN")

    static func plan(startsAt: Date, minutes: Double = 60, roomId: String? = nil, topic: String = "季度经营分析会",
                     platforms: [String] = ["zoom", "tencent", "dingtalk"], recommended: String? = "tencent") -> MeetingPlan {
        MeetingPlan(type: "internal", topic: topic, startsAt: startsAt, endsAt: startsAt.addingTimeInterval(minutes * 60),
                    timeZone: "Asia/Shanghai", roomId: roomId, location: roomId == nil ? "线上" : nil, host: host,
                    platforms: platforms, recommendedPlatform: recommended)
    }

    func room(_ name: String = "301", capacity: Int = 12) async throws -> MeetingRoom {
        try await base.handle(CreateRoomHandler(store: meetings), CreateRoom(name: name, capacity: capacity, location: "3F"))
    }

    func create(_ plan: MeetingPlan, expected: Int? = nil) async throws -> MeetingView {
        try await base.handle(CreateMeetingHandler(store: meetings, timers: planning),
                              CreateMeeting(plan: plan, expectedAttendees: expected, createdBy: "acc-1"))
    }

    func update(_ id: String, _ plan: MeetingPlan) async throws -> MeetingView {
        try await base.handle(UpdateMeetingHandler(store: meetings, timers: planning), UpdateMeeting(id: id, plan: plan))
    }

    func cancel(_ id: String) async throws -> MeetingView {
        try await base.handle(CancelMeetingHandler(store: meetings, timers: planning), CancelMeeting(id: id, reason: "改期"))
    }

    func get(_ id: String) async throws -> MeetingView {
        try await base.handle(GetMeetingHandler(store: meetings), GetMeeting(id: id))
    }

    func deliver<H: MessageHandler>(_ handler: H, _ payload: H.Payload) async throws {
        _ = try await base.handle(handler, payload)
    }

    /// The outbox's messages of one type, in the order they were written.
    func outbox<P: Codable & Sendable>(_ type: String, as _: P.Type) async throws -> [Envelope<P>] {
        try await pool.withConnection {
            try await $0.query("SELECT body FROM outbox WHERE message_type = $1 ORDER BY id", [.text(type)])
        }.rows.map { try ConveneJSON.decode(Envelope<P>.self, from: try $0.bytes("body")) }
    }
}

@Suite("Enterprise meetings (scheduling, real database)")
struct MeetingStoreTests {
    @Test("creating schedules at once: scheduling.meeting_scheduled with the whole plan, and its timers")
    func create() async throws {
        let f = try await MeetingFixture()
        defer { Task { await f.pool.close() } }
        let start = Date().addingTimeInterval(3 * 86_400).rounded()
        let meeting = try await f.create(MeetingFixture.plan(startsAt: start))
        #expect(meeting.status == "scheduled" && meeting.plan.topic == "季度经营分析会" && meeting.plan.host == MeetingFixture.host)
        let events = try await f.outbox(MeetingScheduled.messageType, as: MeetingScheduled.self)
        #expect(events.count == 1)
        #expect(events.first?.data == MeetingScheduled(meetingId: meeting.id, sequence: meeting.sequence, meeting: meeting.plan))
        #expect(events.first?.data.kind == "internal" && events.first?.organizationId == f.organizationId)
        #expect(try await f.base.timers(of: meeting.id).map(\.kind) == ["reminder_24h", "rehearsal_1h", "reminder_1h", "start", "end"])
        #expect(try await f.get(meeting.id) == meeting)
    }

    @Test("a bad plan is refused with every problem by field, nothing stored")
    func invalid() async throws {
        let f = try await MeetingFixture()
        defer { Task { await f.pool.close() } }
        var plan = MeetingFixture.plan(startsAt: Date().addingTimeInterval(-60), platforms: ["zoom", "zoom"], recommended: "tencent")
        plan.type = "party"
        await #expect {
            _ = try await f.create(plan)
        } throws: { error in
            guard let error = error as? ConveneError, error.code == "scheduling.invalid_meeting" else { return false }
            return Set(error.details.map { Array($0.keys) } ?? []) == ["type", "platforms", "recommendedPlatform", "startsAt"]
        }
        #expect(try await f.outbox(MeetingScheduled.messageType, as: MeetingScheduled.self).isEmpty)
    }

    @Test("rescheduling bumps the sequence, announces the whole plan and moves the unfired timers (same rows); cancelling removes them")
    func rescheduleAndCancel() async throws {
        let f = try await MeetingFixture()
        defer { Task { await f.pool.close() } }
        let start = Date().addingTimeInterval(3 * 86_400).rounded()
        let meeting = try await f.create(MeetingFixture.plan(startsAt: start))
        let before = try await f.base.timers(of: meeting.id)
        let moved = start.addingTimeInterval(86_400 + 1800)
        let updated = try await f.update(meeting.id, MeetingFixture.plan(startsAt: moved, platforms: ["zoom"], recommended: nil))
        #expect(updated.sequence == meeting.sequence + 1 && updated.plan.platforms == ["zoom"] && updated.plan.recommendedPlatform == "zoom")
        let announced = try await f.outbox(MeetingUpdated.messageType, as: MeetingUpdated.self)
        #expect(announced.map(\.data) == [MeetingUpdated(meetingId: meeting.id, sequence: updated.sequence, meeting: updated.plan)])
        let after = try await f.base.timers(of: meeting.id)
        #expect(Set(after.map(\.id)) == Set(before.map(\.id)), "moved, not replaced")
        #expect(after.first { $0.kind == "start" }?.dueAt == moved && after.first { $0.kind == "reminder_24h" }?.dueAt == moved.addingTimeInterval(-86_400))

        let cancelled = try await f.cancel(meeting.id)
        #expect(cancelled.status == "cancelled" && cancelled.sequence == updated.sequence + 1)
        let cancellations = try await f.outbox(MeetingCancelled.messageType, as: MeetingCancelled.self)
        #expect(cancellations.map(\.data) == [MeetingCancelled(meetingId: meeting.id, kind: "internal", sequence: cancelled.sequence,
                                                               reason: "改期")])
        #expect(try await f.base.timers(of: meeting.id).isEmpty)
        await #expect(throws: ConveneError.self) { _ = try await f.update(meeting.id, MeetingFixture.plan(startsAt: moved)) }
    }

    @Test("a change made against an older sequence (a read-modify-write overtaken by another change) is refused, nothing changed")
    func staleChange() async throws {
        let f = try await MeetingFixture()
        defer { Task { await f.pool.close() } }
        let start = Date().addingTimeInterval(3 * 86_400).rounded()
        let meeting = try await f.create(MeetingFixture.plan(startsAt: start))
        let handler = UpdateMeetingHandler(store: f.meetings, timers: f.planning)
        let first = try await f.base.handle(handler, UpdateMeeting(id: meeting.id, plan: MeetingFixture.plan(startsAt: start, topic: "A"),
                                                                   expectedSequence: meeting.sequence))
        #expect(first.plan.topic == "A")
        await #expect {
            _ = try await f.base.handle(handler, UpdateMeeting(id: meeting.id, plan: MeetingFixture.plan(startsAt: start, topic: "B"),
                                                               expectedSequence: meeting.sequence))
        } throws: { ($0 as? ConveneError)?.code == "scheduling.invalid_state" }
        #expect(try await f.get(meeting.id).plan.topic == "A")
    }

    @Test("a room taken at an overlapping time is refused, naming the meeting holding it; back to back is fine; a cancelled meeting frees it")
    func roomConflict() async throws {
        let f = try await MeetingFixture()
        defer { Task { await f.pool.close() } }
        let room = try await f.room()
        let start = Date().addingTimeInterval(5 * 86_400).rounded()
        let first = try await f.create(MeetingFixture.plan(startsAt: start, roomId: room.id, topic: "周会"))
        #expect(first.plan.location == "301, 3F", "the room names the place")
        await #expect {
            _ = try await f.create(MeetingFixture.plan(startsAt: start.addingTimeInterval(1800), roomId: room.id, topic: "评审"))
        } throws: { error in
            guard let error = error as? ConveneError else { return false }
            return error.code == "scheduling.room_conflict" && error.details?["meetingId"] == first.id && error.details?["topic"] == "周会"
                && error.details?["startsAt"] == ISO8601.format(start)
        }
        _ = try await f.create(MeetingFixture.plan(startsAt: start.addingTimeInterval(3600), roomId: room.id, topic: "back to back"))
        // Moving a meeting into a taken slot is refused the same way.
        let other = try await f.create(MeetingFixture.plan(startsAt: start.addingTimeInterval(86_400), roomId: room.id))
        await #expect(throws: ConveneError.self) {
            _ = try await f.update(other.id, MeetingFixture.plan(startsAt: start.addingTimeInterval(-1800), roomId: room.id))
        }
        _ = try await f.cancel(first.id)
        _ = try await f.update(other.id, MeetingFixture.plan(startsAt: start.addingTimeInterval(-1800), roomId: room.id))
        // A meeting larger than the room is refused; a room does not shrink below a meeting still to be held in it.
        await #expect {
            _ = try await f.create(MeetingFixture.plan(startsAt: start.addingTimeInterval(10 * 86_400), roomId: room.id), expected: 13)
        } throws: { ($0 as? ConveneError)?.details?["expectedAttendees"] == "the room holds 12 people, 13 are expected" }
        let full = try await f.create(MeetingFixture.plan(startsAt: start.addingTimeInterval(10 * 86_400), roomId: room.id, topic: "满员"),
                                      expected: 12)
        let shrink = UpdateRoomHandler(store: f.meetings)
        await #expect {
            _ = try await f.base.handle(shrink, UpdateRoom(id: room.id, capacity: 8))
        } throws: { ($0 as? ConveneError)?.details?["capacity"] == "meeting \(full.id) “满员” in this room expects 12 people" }
        _ = try await f.cancel(full.id)
        #expect(try await f.base.handle(shrink, UpdateRoom(id: room.id, capacity: 8)).capacity == 8)
    }

    @Test("20 concurrent requests for the same room and slot: exactly one succeeds, the others are told who holds it")
    func concurrentDoubleBooking() async throws {
        let f = try await MeetingFixture(poolSize: 10)
        defer { Task { await f.pool.close() } }
        let room = try await f.room()
        let start = Date().addingTimeInterval(5 * 86_400).rounded()
        let outcomes = await withTaskGroup(of: Result<MeetingView, any Error>.self) { group in
            for index in 0..<20 {
                group.addTask {
                    do {
                        return .success(try await f.create(MeetingFixture.plan(startsAt: start.addingTimeInterval(Double(index) * 60),
                                                                               roomId: room.id, topic: "会议 \(index)")))
                    } catch { return .failure(error) }
                }
            }
            var outcomes: [Result<MeetingView, any Error>] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        let winner = try #require(winners.first)
        let refusals = outcomes.compactMap { outcome -> ConveneError? in
            if case .failure(let error) = outcome { return error as? ConveneError }
            return nil
        }
        #expect(refusals.count == 19)
        #expect(refusals.allSatisfy { $0.code == "scheduling.room_conflict" && $0.details?["meetingId"] == winner.id })
        let stored = try await f.pool.withConnection {
            try await $0.query("SELECT count(*)::int AS n FROM meetings WHERE room_id = $1", [.text(room.id)])
        }.first!.int("n")
        #expect(stored == 1)
    }

    @Test("an agenda inside the meeting replaces the old one and is announced with a higher sequence; a bad one is refused by item")
    func agenda() async throws {
        let f = try await MeetingFixture()
        defer { Task { await f.pool.close() } }
        let start = Date().addingTimeInterval(3 * 86_400).rounded()
        let meeting = try await f.create(MeetingFixture.plan(startsAt: start, minutes: 120))
        let items = [AgendaItem(startsAt: start.addingTimeInterval(3600), endsAt: start.addingTimeInterval(7200), topic: "预算", owner: "李雷"),
                     AgendaItem(startsAt: start, endsAt: start.addingTimeInterval(3600), topic: "回顾", owner: nil)]
        let set = try await f.base.handle(SetAgendaHandler(store: f.meetings), SetAgenda(meetingId: meeting.id, items: items))
        #expect(set.agenda.map(\.topic) == ["回顾", "预算"] && set.sequence == meeting.sequence + 1)
        #expect(try await f.outbox(MeetingUpdated.messageType, as: MeetingUpdated.self).map(\.data.sequence) == [set.sequence])
        await #expect {
            _ = try await f.base.handle(SetAgendaHandler(store: f.meetings), SetAgenda(meetingId: meeting.id, items: items + [
                AgendaItem(startsAt: start.addingTimeInterval(7000), endsAt: start.addingTimeInterval(7300), topic: "超时")]))
        } throws: { ($0 as? ConveneError)?.code == "scheduling.invalid_agenda" }
        #expect(try await f.get(meeting.id).agenda.count == 2)
        let material = try await f.base.handle(AddMaterialHandler(store: f.meetings), AddMaterial(
            meetingId: meeting.id, name: "预算.xlsx", contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            size: 1234, blobKey: "ab/cdef", addedBy: "acc-1"))
        #expect(try await f.get(meeting.id).materials == [material])
    }

    @Test("join links: kept per platform, the recommended first, an older sequence ignored; a failure shown per platform")
    func joinLinks() async throws {
        let f = try await MeetingFixture()
        defer { Task { await f.pool.close() } }
        let meeting = try await f.create(MeetingFixture.plan(startsAt: Date().addingTimeInterval(86_400 * 3)))
        func provisioned(_ platform: String, _ sequence: Int, _ url: String) -> MeetingProvisioned {
            MeetingProvisioned(meetingId: meeting.id, sequence: sequence, platform: platform, platformMeetingId: "p-\(platform)",
                               meetingNumber: "123", joinUrl: url, password: "0000")
        }
        try await f.deliver(OnMeetingProvisioned(store: f.meetings), provisioned("zoom", 1, "https://zoom.example/j/2"))
        try await f.deliver(OnMeetingProvisioned(store: f.meetings), provisioned("tencent", 0, "https://meeting.tencent.example/1"))
        try await f.deliver(OnMeetingProvisioned(store: f.meetings), provisioned("zoom", 0, "https://zoom.example/j/old"))
        try await f.deliver(OnProvisioningFailed(store: f.meetings), ProvisioningFailed(
            meetingId: meeting.id, sequence: 0, platform: "dingtalk", reason: "platform.credentials_missing", message: "no DingTalk app"))
        let view = try await f.get(meeting.id)
        #expect(view.joinLinks.map(\.platform) == ["tencent", "zoom"] && view.joinLinks[0].recommended)
        #expect(view.joinLinks[1].joinUrl == "https://zoom.example/j/2", "the older sequence was ignored")
        #expect(view.provisioningFailures == [MeetingProvisioningFailure(platform: "dingtalk", reason: "platform.credentials_missing",
                                                                         message: "no DingTalk app", sequence: 0)])
    }

    @Test("lifecycle: the platform's start and the start timer, whichever first, announce started once; the end likewise")
    func lifecycle() async throws {
        let f = try await MeetingFixture()
        defer { Task { await f.pool.close() } }
        let start = Date().addingTimeInterval(3 * 86_400).rounded()
        let meeting = try await f.create(MeetingFixture.plan(startsAt: start))
        let id = try #require(UUID(uuidString: meeting.id))
        // Zoom says it started a minute early; then the start timer fires: a no-op.
        try await f.deliver(OnPlatformMeetingStarted(transitions: f.transitions),
                            PlatformMeetingStarted(meetingId: meeting.id, platform: "zoom", at: start.addingTimeInterval(-60)))
        #expect(try await f.get(meeting.id).status == "live")
        #expect(try await f.worker().fireDue(now: start.addingTimeInterval(1)) == 0,
                "the start timer (and the reminders still ahead) went with the platform's start")
        try await f.deliver(OnPlatformMeetingStarted(transitions: f.transitions),
                            PlatformMeetingStarted(meetingId: meeting.id, platform: "tencent", at: start))
        let started = try await f.outbox(MeetingStarted.messageType, as: MeetingStarted.self)
        #expect(started.map(\.data) == [MeetingStarted(meetingId: meeting.id, kind: "internal", sequence: meeting.sequence,
                                                       at: start.addingTimeInterval(-60), trigger: "zoom")])
        // The end timer first this time; the platform's end afterwards changes nothing.
        #expect(try await f.worker().fireDue(now: meeting.plan.endsAt.addingTimeInterval(1)) == 1)
        try await f.deliver(OnPlatformMeetingEnded(transitions: f.transitions),
                            PlatformMeetingEnded(meetingId: meeting.id, platform: "zoom", at: meeting.plan.endsAt.addingTimeInterval(30)))
        let ended = try await f.outbox(MeetingEnded.messageType, as: MeetingEnded.self)
        #expect(ended.map(\.data.trigger) == ["timer"] && ended.first?.data.at == meeting.plan.endsAt)
        let view = try await f.get(meeting.id)
        #expect(view.status == "ended" && view.startedAt == start.addingTimeInterval(-60) && view.endedAt == meeting.plan.endsAt)
        #expect(try await f.pool.withTransaction { tx in try await f.base.timers.timers(meetingId: id, in: tx) }.allSatisfy { $0.firedAt != nil })
    }

    @Test("reminders carry the meeting's kind, host, join links and agenda; the rehearsal goes to the host alone as notification.send")
    func reminders() async throws {
        let f = try await MeetingFixture()
        defer { Task { await f.pool.close() } }
        let start = Date().addingTimeInterval(3 * 86_400).rounded()
        let meeting = try await f.create(MeetingFixture.plan(startsAt: start))
        try await f.deliver(OnMeetingProvisioned(store: f.meetings), MeetingProvisioned(
            meetingId: meeting.id, sequence: 0, platform: "tencent", platformMeetingId: "t1", meetingNumber: "888 123",
            joinUrl: "https://meeting.tencent.example/888", password: nil))
        #expect(try await f.worker().fireDue(now: start.addingTimeInterval(-3599)) == 3)
        let reminders = try await f.outbox(ReminderDue.messageType, as: ReminderDue.self)
        #expect(reminders.map(\.data.kind).sorted() == ["reminder_1h", "reminder_24h"])
        #expect(reminders.allSatisfy { $0.data.meetingKind == "internal" && $0.data.host == MeetingFixture.host && $0.data.title == "季度经营分析会" })
        #expect(reminders.first?.data.joinLinks?.map(\.joinUrl) == ["https://meeting.tencent.example/888"])
        let rehearsals = try await f.outbox(SendNotification.messageType, as: SendNotification.self)
        #expect(rehearsals.count == 1)
        let rehearsal = try #require(rehearsals.first)
        #expect(rehearsal.data.templateKey == "meeting.rehearsal" && rehearsal.data.recipients.map(\.email) == ["wang@example.com"])
        #expect(rehearsal.data.category == "meeting.rehearsal" && !rehearsal.data.transactional, "a host may opt out of it alone")
        #expect(rehearsal.data.recipients.first?.locale == "zh-CN" && rehearsal.data.idempotencyKey == "meeting.rehearsal:\(rehearsal.id.uuidString.lowercased())")
        #expect(rehearsal.data.data["startLocal"] == .string(MeetingTimers.wallClock(start, zone: "Asia/Shanghai")))
        let exchange = try await f.pool.withConnection {
            try await $0.query("SELECT exchange FROM outbox WHERE message_type = 'notification.send'")
        }.first?["exchange"]
        #expect(exchange == Exchange.commands)
    }
}
