import Contracts
import Messaging
import Persistence
import Testing
import TestSupport

@Suite("Delivery guarantees against the real broker and database")
struct DeliveryGuaranteeTests {
    @Test("a message committed to the outbox is delivered even if its writer died before publishing")
    func outboxSurvivesWriterDeath() async throws {
        let harness = try await Harness(handlers: { [RecordNote(messageType: "\($0).record")] })
        defer { Task { await harness.stop() } }
        try await harness.startConsuming()
        // The writer commits and "dies": no relay runs in its process.
        let key = TestStack.uniqueName("committed")
        let envelope = Envelope(type: "\(harness.name).record", source: "test", data: Note(key: key))
        _ = try await harness.pool.withTransaction { tx in
            try await tx.outbox(envelope, exchange: Exchange.commands)
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await harness.effects(key) == 0, "nothing is published without a relay")
        // A relay started later (a restarted process, another instance) finds and publishes it.
        harness.startRelay()
        #expect(try await eventually { try await harness.effects(key) == 1 })
        let published = try await harness.pool.withConnection {
            try await $0.query("SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL")
        }.first!.int("n")
        #expect(published == 1)
    }

    @Test("a rolled-back transaction publishes nothing")
    func rollbackPublishesNothing() async throws {
        let harness = try await Harness(handlers: { [RecordNote(messageType: "\($0).record")] })
        defer { Task { await harness.stop() } }
        try await harness.startConsuming()
        harness.startRelay()
        let key = TestStack.uniqueName("rolled-back")
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            _ = try await harness.pool.withTransaction { tx in
                try await tx.outbox(Envelope(type: "\(harness.name).record", source: "test", data: Note(key: key)),
                                    exchange: Exchange.commands)
                throw Abort()
            }
        }
        // A message sent afterwards arrives, so the consumer was live while the first did not.
        let marker = TestStack.uniqueName("after")
        _ = try await harness.pool.withTransaction { tx in
            try await tx.outbox(Envelope(type: "\(harness.name).record", source: "test", data: Note(key: marker)),
                                exchange: Exchange.commands)
        }
        #expect(try await eventually { try await harness.effects(marker) == 1 })
        #expect(try await harness.effects(key) == 0)
        let rows = try await harness.pool.withConnection { try await $0.query("SELECT count(*) AS n FROM outbox") }.first!.int("n")
        #expect(rows == 1)
    }

    @Test("the same message delivered twice changes state once")
    func duplicateChangesStateOnce() async throws {
        let harness = try await Harness(handlers: { [RecordNote(messageType: "\($0).record")] })
        defer { Task { await harness.stop() } }
        try await harness.startConsuming()
        let key = TestStack.uniqueName("dup")
        let id = UUID()
        try await harness.send("record", Note(key: key), id: id)
        try await harness.send("record", Note(key: key), id: id)
        let marker = TestStack.uniqueName("marker")
        try await harness.send("record", Note(key: marker))
        #expect(try await eventually { try await harness.effects(marker) == 1 })
        // Both copies were consumed (the queue is empty) and the inbox holds the id once.
        #expect(try await eventually {
            try await harness.pool.withConnection {
                try await $0.query("SELECT count(*) AS n FROM inbox WHERE message_id = $1", [.text(id.uuidString.lowercased())])
            }.first!.int("n") == 1
        })
        #expect(try await harness.effects(key) == 1)
    }

    @Test("malformed JSON and an unknown type go to the dead queue with the reason, and consumption continues")
    func poisonMessagesAreDeadLettered() async throws {
        let harness = try await Harness(handlers: { [RecordNote(messageType: "\($0).record")] })
        defer { Task { await harness.stop() } }
        let dead = try harness.deadProbe()
        defer { Task { await dead.close() } }
        #expect(await dead.ready())
        try await harness.startConsuming()

        try await harness.sendRaw(Array("{not json".utf8), routingKey: "\(harness.name).record")
        try await harness.send("no_such_command", Note(key: "x"))
        try await harness.send("record", Empty())  // a known type whose payload lacks `key`
        let key = TestStack.uniqueName("after-poison")
        try await harness.send("record", Note(key: key))

        #expect(try await eventually { try await harness.effects(key) == 1 })
        let letters = await dead.wait(for: 3)
        try #require(letters.count == 3)
        let reasons = letters.compactMap { $0.properties.headers[Header.error]?.stringValue }
        #expect(reasons.contains { $0.hasPrefix("malformed envelope: invalid JSON") })
        #expect(reasons.contains { $0 == "unknown message type \(harness.name).no_such_command" })
        #expect(reasons.contains { $0.contains("invalid payload") && $0.contains("key") })
        #expect(letters.allSatisfy { $0.properties.headers[Header.service]?.stringValue == harness.name })
        #expect(letters.contains { $0.body == Array("{not json".utf8) }, "the original body is kept for inspection")
    }

    @Test("a handler failing twice then succeeding has its effect once")
    func retriesThenSucceeds() async throws {
        let harness = try await Harness(handlers: { [FlakyNote(messageType: "\($0).record", failures: 2)] })
        defer { Task { await harness.stop() } }
        try await harness.startConsuming()
        let key = TestStack.uniqueName("flaky")
        try await harness.send("record", Note(key: key))
        #expect(try await eventually { try await harness.effects(key) == 1 })
        try await Task.sleep(for: .milliseconds(800))
        #expect(try await harness.effects(key) == 1, "rolled-back attempts left nothing behind")
    }

    @Test("a handler that always fails ends in the dead queue after the configured attempts")
    func givesUpAfterRetries() async throws {
        let harness = try await Harness(handlers: { [FlakyNote(messageType: "\($0).record", failures: .max)] })
        defer { Task { await harness.stop() } }
        let dead = try harness.deadProbe()
        defer { Task { await dead.close() } }
        #expect(await dead.ready())
        try await harness.startConsuming()
        let key = TestStack.uniqueName("doomed")
        try await harness.send("record", Note(key: key))
        let letters = await dead.wait(for: 1)
        try #require(letters.count == 1)
        let reason = letters[0].properties.headers[Header.error]?.stringValue ?? ""
        #expect(reason == "failed after 3 attempts: simulated outage")
        #expect(letters[0].properties.headers[Header.retryCount]?.intValue == 2)
        #expect(try await harness.effects(key) == 0)
    }
}

@Suite("Batched consumption")
struct BatchTests {
    /// Records notes like RecordNote, but refuses the key "poison" as a transient failure.
    struct PickyNote: MessageHandler {
        let messageType: String
        struct Refused: Error {}
        func handle(_ message: Envelope<Note>, context: HandlerContext) async throws -> Empty {
            if message.data.key.hasPrefix("poison") { throw Refused() }
            try await context.transaction.query("INSERT INTO effects (key) VALUES ($1)", [message.data.key])
            return Empty()
        }
    }

    @Test("messages that arrive together share transactions, yet duplicates and a failing message change nothing twice")
    func batchesKeepEveryGuarantee() async throws {
        let harness = try await Harness(handlers: { [PickyNote(messageType: "\($0).record")] },
                                        retryDelays: [.milliseconds(100)], concurrency: 2)
        defer { Task { await harness.stop() } }
        let dead = try harness.deadProbe()
        defer { Task { await dead.close() } }
        #expect(await dead.ready())
        // Queue everything first so the consumer receives it in bursts.
        try await harness.startConsuming()
        harness.consumer.stop()
        try await Task.sleep(for: .milliseconds(200))
        let prefix = TestStack.uniqueName("batch")
        var messages: [OutgoingMessage] = []
        let repeated = UUID()
        for index in 0..<60 {
            let key = index == 30 ? "poison-\(prefix)" : "\(prefix)-\(index)"
            let id = index % 20 == 5 ? repeated : UUID()
            let envelope = Envelope(id: id, type: "\(harness.name).record", source: "test",
                                    data: Note(key: index % 20 == 5 ? "\(prefix)-repeated" : key))
            messages.append(try OutgoingMessage.envelope(envelope, exchange: Exchange.commands))
        }
        for result in await harness.publisher.publish(messages) { try result.get() }
        let second = try await Harness.restartConsumer(of: harness)

        #expect(try await eventually { try await harness.effects("\(prefix)-59") == 1 })
        let letters = await dead.wait(for: 1)
        #expect(letters.count == 1)
        #expect(letters.first?.properties.headers[Header.error]?.stringValue?.contains("Refused") == true)
        for index in 0..<60 where index != 30 && index % 20 != 5 {
            #expect(try await harness.effects("\(prefix)-\(index)") == 1, "message \(index)")
        }
        #expect(try await harness.effects("\(prefix)-repeated") == 1, "three deliveries of one id, one effect")
        #expect(try await harness.effects("poison-\(prefix)") == 0)
        // Rows committed together share their transaction's now(): fewer distinct times than rows.
        let inbox = try await harness.pool.withConnection {
            try await $0.query("SELECT count(*) AS rows, count(DISTINCT received_at) AS commits FROM inbox")
        }.first!
        #expect(try inbox.int("commits") < inbox.int("rows"), "some messages shared a transaction")
        await second.stop()
    }

    @Test("many messages are written to the outbox in one statement and published unchanged")
    func batchOutbox() async throws {
        let harness = try await Harness(handlers: { [RecordNote(messageType: "\($0).record")] })
        defer { Task { await harness.stop() } }
        try await harness.startConsuming()
        harness.startRelay()
        let keys = (0..<250).map { "会议-\($0)-\"quoted\"\\slash-\(UUID().uuidString.prefix(6))" }
        try await harness.pool.withTransaction { tx in
            try await tx.outbox(keys.map { Envelope(type: "\(harness.name).record", source: "test", correlationId: nil, data: Note(key: $0)) },
                                exchange: Exchange.commands)
        }
        // A correctness check, not a speed one: at the start of `make test`'s first phase every
        // suite starts at once on two cores, and 250 messages once took longer than 10 s.
        #expect(try await eventually(timeout: .seconds(60)) {
            try await harness.pool.withConnection {
                try await $0.query("SELECT count(DISTINCT key) AS n FROM effects WHERE key = ANY($1::text[])", [PGTextArray(keys).pgValue])
            }.first!.int("n") == keys.count
        })
    }
}
