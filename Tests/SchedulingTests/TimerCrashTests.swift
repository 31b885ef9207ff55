import Contracts
import Foundation
import Messaging
import Persistence
@testable import Scheduling
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The built `scheduling` executable against the stack's broker and its real `scheduling` schema:
/// 2,000 meetings whose reminders fall due within the same minute, the service SIGKILLed while it
/// fires them and started again. Every reminder goes out exactly once: one outbox row and one
/// fired timer each, and every timer's `scheduling.reminder_due` reaches the broker (a copy the
/// relay may publish twice after the kill carries the same id, which consumers' inboxes drop).
@Suite("Durable timers survive SIGKILL (scheduling process)", .serialized)
struct TimerCrashTests {
    static let count = 2000

    static func start(logs: String, attempt: Int) throws -> ChildProcess {
        let bin = try TestStack.environment("CONVENE_BIN_DIR")
        let environment = [
            "AMQP_URL": try TestStack.environment("AMQP_URL"),
            "DATABASE_URL": try TestStack.environment("SCHEDULING_DATABASE_URL"),
            "OPS_PORT": "0", "LOG_LEVEL": "info", "SHUTDOWN_TIMEOUT": "5s", "DB_POOL_SIZE": "3",
            "TIMER_POLL_INTERVAL": "100ms", "TIMER_BATCH_SIZE": "25",
        ]
        return try ChildProcess([bin + "/scheduling"], environment: environment, output: logs + "/scheduling-\(attempt).log")
    }

    @Test("2,000 meetings' reminders due in one minute fire exactly once each, across a SIGKILL and a restart")
    func killedAndRestarted() async throws {
        let logs = NSTemporaryDirectory() + "convene-timers-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let organizationId = "org-" + UUID().uuidString.prefix(8).lowercased()
        let pool = PGPool(.init(url: try TestStack.environment("SCHEDULING_DATABASE_URL"), schema: "scheduling", size: 2,
                                applicationName: "timer-crash-test"), logger: TestStack.logger)
        defer { Task { await pool.close() } }

        let queue = "probe-" + UUID().uuidString.prefix(8).lowercased()
        let declaration = QueueDeclaration(name: queue, durable: false, exclusive: true, autoDelete: true)
        let probe = try QueueProbe(queue: declaration, topology: Topology.exchanges + Topology(queues: [declaration], bindings: [
            Binding(queue: queue, exchange: Exchange.events, routingKey: ReminderDue.messageType)]))
        defer { Task { await probe.close() } }
        #expect(await probe.ready())
        /// The distinct timer ids of this test's reminders that reached the broker, and all copies.
        @Sendable func received() -> (ids: Set<String>, copies: Int) {
            var ids: Set<String> = [], copies = 0
            for delivery in probe.deliveries {
                guard let envelope = try? ConveneJSON.decode(Envelope<ReminderDue>.self, from: delivery.body),
                      envelope.organizationId == organizationId else { continue }
                #expect(envelope.id.uuidString.lowercased() == envelope.data.timerId, "the message id is the timer's")
                ids.insert(envelope.data.timerId)
                copies += 1
            }
            return (ids, copies)
        }

        var process = try Self.start(logs: logs, attempt: 1)
        // Its migrations applied (enterprise meetings' tables exist), the meetings go in.
        let migrated = try await eventually(timeout: .seconds(90)) {
            try await pool.withConnection {
                try await $0.query("SELECT to_regclass('scheduling.platform_links') IS NOT NULL AS ready")
            }.first?.bool("ready") == true
        }
        #expect(migrated, "scheduling never migrated its schema; log in \(logs)")
        let host = String(decoding: try ConveneJSON.encode(MeetingHost(accountId: "acc-h", name: "Host", email: "host@example.com")),
                          as: UTF8.self)
        // Due from 5 s ahead, one every 10 ms: 2,000 reminders within 20 s, in one minute.
        let firstDue = Date().addingTimeInterval(5)
        let timerIds: Set<String> = try await pool.withTransaction { tx in
            try await tx.query("""
                INSERT INTO meetings (id, organization_id, kind, status, title, starts_at, ends_at, time_zone, host, created_by, published_at)
                SELECT gen_random_uuid(), $1, 'internal', 'scheduled', 'Load ' || g, $2::timestamptz + interval '1 hour',
                       $2::timestamptz + interval '2 hours', 'Asia/Shanghai', $3::jsonb, 'acc-1', now()
                FROM generate_series(1, $4::int) g
                """, [organizationId, firstDue, host, Self.count])
            return Set(try await tx.query("""
                INSERT INTO timers (id, meeting_id, kind, due_at)
                SELECT gen_random_uuid(), id, 'reminder_1h',
                       $2::timestamptz + (row_number() OVER (ORDER BY id) - 1) * interval '10 milliseconds'
                FROM meetings WHERE organization_id = $1
                RETURNING id
                """, [organizationId, firstDue]).rows.map { try $0.string("id") })
        }
        #expect(timerIds.count == Self.count)
        @Sendable func unfired() async throws -> Int {
            try await pool.withConnection {
                try await $0.query("""
                    SELECT count(*)::int AS n FROM timers t JOIN meetings m ON m.id = t.meeting_id
                    WHERE m.organization_id = $1 AND t.fired_at IS NULL
                    """, [.text(organizationId)])
            }.first!.int("n")
        }

        // Killed once a few hundred have gone out, while most are still ahead.
        #expect(await eventually(timeout: .seconds(120)) { received().ids.count >= 300 }, "log in \(logs)")
        process.signal(SIGKILL)
        #expect(await process.wait(timeout: .seconds(10)) == 128 + SIGKILL)
        let leftAtKill = try await unfired()
        #expect(leftAtKill > 0 && leftAtKill < Self.count, "killed in the middle: \(leftAtKill) unfired")

        process = try Self.start(logs: logs, attempt: 2)
        let all = await eventually(timeout: .seconds(180)) { received().ids.count >= Self.count }
        process.signal(SIGTERM)
        _ = await process.wait(timeout: .seconds(20))
        #expect(all, "\(received().ids.count) of \(Self.count) reminders arrived; logs in \(logs)")
        let (ids, copies) = received()
        #expect(ids == timerIds, "every timer's reminder, and no other")
        #expect(try await unfired() == 0)
        // Fired once: one outbox row per timer, whatever the relay re-published after the kill.
        let rows = try await pool.withConnection {
            try await $0.query("""
                SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS d FROM outbox
                WHERE message_type = 'scheduling.reminder_due' AND message_id = ANY($1::uuid[])
                """, [PGTextArray(Array(timerIds)).pgValue])
        }.first!
        #expect(try rows.int("n") == Self.count && rows.int("d") == Self.count)
        #expect(copies >= Self.count, "\(copies - Self.count) copies re-published after the kill, each with its timer's id")
        // The shared schema keeps nothing of this test.
        try await pool.withTransaction { tx in
            try await tx.query("DELETE FROM timers WHERE meeting_id IN (SELECT id FROM meetings WHERE organization_id = $1)", [organizationId])
            try await tx.query("DELETE FROM meetings WHERE organization_id = $1", [organizationId])
        }
    }
}
