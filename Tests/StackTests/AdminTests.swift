import Contracts
import Foundation
import Messaging
import Testing
import TestSupport

@Suite("convene-admin", .serialized)
struct AdminTests {
    func admin(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let bin = try TestStack.environment("CONVENE_BIN_DIR")
        let output = "/tmp/convene-admin-test-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = await Command.run([bin + "/convene-admin"] + arguments,
                                       environment: ["AMQP_URL": try TestStack.environment("AMQP_URL"), "PATH": "/usr/bin:/bin"],
                                       output: output)
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    @Test("dead letters can be listed without being removed, and a chosen one replayed to where it first went")
    func listAndReplay() async throws {
        // Where the messages "first went": a private queue, reached through the default exchange.
        let destination = try QueueProbe(queue: .privateReplyQueue)
        defer { Task { await destination.close() } }
        #expect(await destination.ready())
        let queue = try #require(destination.queueName)
        let publisher = Publisher(.init(amqp: try TestStack.amqp(name: "admin-test"),
                                        topology: Topology.service("archive", retryDelays: [.seconds(1), .seconds(10), .seconds(60)],
                                                                   deliveryLimit: 10)),
                                  logger: TestStack.logger)
        defer { Task { await publisher.shutdown() } }
        let ids = [UUID(), UUID()].map { $0.uuidString.lowercased() }
        for id in ids {
            try await publisher.publish(OutgoingMessage(
                exchange: Exchange.dead, routingKey: "archive.dead",
                properties: MessageProperties(messageId: id, type: "archive.record", headers: [
                    Header.error: .string("simulated failure for \(id)"), Header.errorCode: .string("test.failure"),
                    Header.originalExchange: .string(""), Header.originalRoutingKey: .string(queue),
                    Header.retryCount: .int(3),
                ]),
                body: Array("{\"id\":\"\(id)\"}".utf8)))
        }

        let listed = try await admin(["dead-letters", "list", "archive"])
        #expect(listed.status == 0, "\(listed.output)")
        for id in ids { #expect(listed.output.contains(id)) }
        #expect(listed.output.contains("simulated failure"))
        let again = try await admin(["dead-letters", "list", "archive"])
        for id in ids { #expect(again.output.contains(id), "listing removed nothing") }

        let replayed = try await admin(["dead-letters", "replay", "archive", "--id", ids[0]])
        #expect(replayed.status == 0, "\(replayed.output)")
        let arrived = await destination.wait(for: 1)
        #expect(arrived.map(\.properties.messageId) == [ids[0]])
        #expect(arrived.first?.body == Array("{\"id\":\"\(ids[0])\"}".utf8))
        #expect(arrived.first?.properties.headers[Header.retryCount] == nil, "a replayed message gets a fresh retry budget")
        let remaining = try await admin(["dead-letters", "list", "archive"])
        #expect(!remaining.output.contains(ids[0]))
        #expect(remaining.output.contains(ids[1]))
        _ = try await admin(["dead-letters", "replay", "archive", "--id", ids[1]])
    }

    @Test("an unknown service is refused with a clear message")
    func unknownService() async throws {
        let result = try await admin(["dead-letters", "list", "nonsense"])
        #expect(result.status != 0)
        #expect(result.output.contains("unknown service nonsense"))
    }
}
