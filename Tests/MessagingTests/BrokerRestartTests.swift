import Contracts
import Messaging
import Persistence
import Synchronization
import Testing
import TestSupport

/// Stops and restarts the test stack's broker, so `make test` runs this suite on its own, after
/// the others (see compose/local/test.sh).
@Suite("Broker restart", .serialized)
struct BrokerRestartTests {
    func broker(_ action: String) async throws {
        let script = try TestStack.environment("CONVENE_TEST_BROKER_CTL")
        let profile = try TestStack.environment("CONVENE_TEST_PROFILE")
        let status = await Command.run(["/bin/bash", script, "broker-\(action)", profile])
        guard status == 0 else {
            throw ConveneError(code: "test.broker", message: "broker-\(action) exited \(status)")
        }
    }

    @Test("publishing and consuming resume after the broker restarts, and every confirmed message is consumed")
    func survivesRestart() async throws {
        let harness = try await Harness(handlers: { [RecordNote(messageType: "\($0).record")] })
        try await harness.startConsuming()
        let confirmed = Mutex<[String]>([])
        let total = 300

        let producer = Task {
            for index in 0..<total {
                let key = "restart-\(harness.name)-\(index)"
                do {
                    try await harness.send("record", Note(key: key))
                    confirmed.withLock { $0.append(key) }
                } catch {
                    // Not confirmed: the publisher could not promise delivery, so it is not counted.
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        try await Task.sleep(for: .seconds(1))
        try await broker("stop")
        try await Task.sleep(for: .seconds(1))
        try await broker("start")
        await producer.value

        let keys = confirmed.withLock { $0 }
        #expect(keys.count > total / 2, "publishing resumed after the restart (\(keys.count) of \(total) confirmed)")
        let allConsumed = try await eventually(timeout: .seconds(60)) {
            let done = try await harness.pool.withConnection {
                try await $0.query("SELECT count(DISTINCT key) AS n FROM effects WHERE key = ANY($1::text[])",
                                   [PGTextArray(keys).pgValue])
            }.first!.int("n")
            return done == keys.count
        }
        #expect(allConsumed, "every confirmed message was consumed")
        let doubled = try await harness.pool.withConnection {
            try await $0.query("SELECT count(*) AS n FROM (SELECT key FROM effects GROUP BY key HAVING count(*) > 1) d")
        }.first!.int("n")
        #expect(doubled == 0, "redeliveries after the restart changed nothing twice")
        await harness.stop()
    }
}
