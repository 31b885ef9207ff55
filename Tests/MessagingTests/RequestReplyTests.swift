import Contracts
import Messaging
import Persistence
import Testing
import TestSupport

@Suite("Request/reply")
struct RequestReplyTests {
    func client() throws -> (RPCClient, Publisher, Task<Void, any Error>) {
        let amqp = try TestStack.amqp(name: "rpc-test")
        let publisher = Publisher(.init(amqp: amqp), logger: TestStack.logger)
        let client = RPCClient(amqp: amqp, publisher: publisher, source: "test", logger: TestStack.logger)
        return (client, publisher, Task { try await client.run() })
    }

    @Test("a request gets the service's reply, and a refusal comes back as a coded error")
    func roundTrip() async throws {
        let harness = try await Harness(handlers: { [EchoNote(messageType: "\($0).echo")] })
        defer { Task { await harness.stop() } }
        try await harness.startConsuming()
        let (client, publisher, task) = try client()
        defer { task.cancel(); Task { await publisher.shutdown() } }
        #expect(await client.waitUntilReady())

        let reply = try await client.request("\(harness.name).echo", Note(key: "abc"), as: Note.self, timeout: .seconds(5))
        #expect(try reply.get() == Note(key: "ABC"))

        let refused = try await client.request("\(harness.name).echo", Note(key: ""), as: Note.self, timeout: .seconds(5))
        #expect(refused.ok == false)
        #expect(refused.error?.code == "test.empty_key")

        // A command the service does not know is answered at once, not left to time out.
        let started = ContinuousClock.now
        let unknown = try await client.request("\(harness.name).no_such_command", Note(key: "x"), as: Note.self, timeout: .seconds(5))
        #expect(unknown.error?.code == "convene.unknown_type")
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test("requests answered together in one transaction each get their own answer, and each answer is kept for a redelivery")
    func batchedRequestsKeepTheirAnswers() async throws {
        let harness = try await Harness(handlers: { [EchoNote(messageType: "\($0).echo")] }, concurrency: 2)
        defer { Task { await harness.stop() } }
        try await harness.startConsuming()
        harness.consumer.stop()
        let (client, publisher, task) = try client()
        defer { task.cancel(); Task { await publisher.shutdown() } }
        #expect(await client.waitUntilReady())
        // The requests wait in the queue, then arrive in bursts that share transactions.
        let keys = (0..<40).map { "note-\($0)-\(UUID().uuidString.prefix(6).lowercased())" }
        async let answers = withThrowingTaskGroup(of: (String, Note?).self) { group in
            for key in keys {
                group.addTask { (key, try await client.request("\(harness.name).echo", Note(key: key), as: Note.self, timeout: .seconds(20)).get()) }
            }
            return try await group.reduce(into: [String: Note?]()) { $0[$1.0] = $1.1 }
        }
        try await Task.sleep(for: .milliseconds(300))
        let second = try await Harness.restartConsumer(of: harness)
        let received = try await answers
        for key in keys { #expect(received[key] == Note(key: key.uppercased()), "\(key)") }
        let rows = try await harness.pool.withConnection {
            try await $0.query("SELECT response, received_at FROM inbox WHERE consumer = $1", [harness.name.pgValue])
        }.rows
        let kept = try rows.map { try ConveneJSON.decode(Reply<Note>.self, from: try $0.bytes("response")).get().key }
        #expect(Set(kept) == Set(keys.map { $0.uppercased() }), "every answer is kept with its own request")
        #expect(Set(try rows.map { try $0.date("received_at") }).count < rows.count, "some requests shared a transaction")
        await second.stop()
    }

    @Test("a request to a service that is down fails with a timeout within its deadline")
    func timeoutWhenServiceDown() async throws {
        // The queue exists (a service that was deployed) but nothing consumes it.
        let name = TestStack.uniqueName()
        let topology = Topology.service(name, retryDelays: [], deliveryLimit: 5)
        let declarer = Publisher(.init(amqp: try TestStack.amqp(name: "declare"), topology: topology), logger: TestStack.logger)
        let marker = OutgoingMessage(exchange: Exchange.events, routingKey: "test.nothing", body: Array("{}".utf8), mandatory: false)
        try await declarer.publish(marker)  // returns once connected and the topology is declared
        await declarer.shutdown()

        let (client, publisher, task) = try client()
        defer { task.cancel(); Task { await publisher.shutdown() } }
        #expect(await client.waitUntilReady())
        let started = ContinuousClock.now
        await #expect(throws: ConveneError.self) {
            _ = try await client.request("\(name).ping", Ping(), as: ServiceStatus.self, timeout: .milliseconds(800))
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(800))
        #expect(elapsed < .seconds(3), "answered at its deadline, not later")
        do {
            _ = try await client.request("\(name).ping", Ping(), as: ServiceStatus.self, timeout: .milliseconds(300))
        } catch let error as ConveneError {
            #expect(error.code == "convene.timeout")
        }
    }

    @Test("a request nobody could ever receive fails at once as unavailable")
    func unroutableRequest() async throws {
        let (client, publisher, task) = try client()
        defer { task.cancel(); Task { await publisher.shutdown() } }
        #expect(await client.waitUntilReady())
        let started = ContinuousClock.now
        do {
            _ = try await client.request("\(TestStack.uniqueName()).ping", Ping(), as: ServiceStatus.self, timeout: .seconds(5))
            Issue.record("expected an error")
        } catch let error as ConveneError {
            #expect(error.code == "convene.unavailable")
        }
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}

@Suite("Publisher")
struct PublisherTests {
    @Test("a batch is confirmed, and a mandatory message no queue takes is an error the caller sees")
    func confirmsAndReturns() async throws {
        let publisher = Publisher(.init(amqp: try TestStack.amqp(name: "pub-test")), logger: TestStack.logger)
        defer { Task { await publisher.shutdown() } }
        let probe = try QueueProbe(queue: .privateReplyQueue)
        defer { Task { await probe.close() } }
        #expect(await probe.ready())
        let queue = try #require(probe.queueName)
        let messages = (0..<200).map { index in
            OutgoingMessage(exchange: "", routingKey: queue, body: Array("{\"n\":\(index)}".utf8))
        }
        let results = await publisher.publish(messages)
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
        #expect(await probe.wait(for: 200).count == 200)

        let lost = OutgoingMessage(exchange: Exchange.commands, routingKey: "\(TestStack.uniqueName()).nothing", body: Array("{}".utf8))
        await #expect(throws: AMQPError.self) { try await publisher.publish(lost) }
        // The publisher keeps working after a return.
        try await publisher.publish(OutgoingMessage(exchange: "", routingKey: queue, body: Array("{}".utf8)))
    }
}
