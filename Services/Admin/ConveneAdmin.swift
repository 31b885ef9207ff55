import ArgumentParser
import Contracts
import Foundation
import Logging
import Messaging

/// Operator commands that talk to the broker directly. Today: inspecting and replaying dead letters.
@main
struct ConveneAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convene-admin",
        abstract: "Operator commands for a running Convene (reads AMQP_URL).",
        subcommands: [DeadLetters.self])
}

struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List or replay the messages in a service's dead-letter queue (<service>.dead).",
        subcommands: [List.self, Replay.self])

    struct Options: ParsableArguments {
        @Argument(help: "The service whose dead letters to read: \(ServiceName.allCases.map(\.rawValue).joined(separator: ", ")).")
        var service: String

        @Option(help: "Most messages to look at.")
        var limit = 100

        func validate() throws {
            guard ServiceName(rawValue: service) != nil else {
                throw ValidationError("unknown service \(service)")
            }
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1...10000") }
        }
    }

    /// Takes up to `limit` dead letters without removing them: unacknowledged deliveries go back
    /// to the queue when the connection closes. A delivery for which `settle` returns true is
    /// acknowledged, i.e. removed.
    static func visit(_ options: Options, settle: @escaping @Sendable (Delivery) async throws -> Bool) async throws -> (seen: Int, settled: Int) {
        var logger = Logger(label: "convene-admin")
        logger.logLevel = .error
        guard let url = ProcessInfo.processInfo.environment["AMQP_URL"] else {
            throw ValidationError("AMQP_URL is not set (e.g. . .local/run/env)")
        }
        let amqp = try AMQPConfiguration(url: url, connectionName: "convene-admin")
        let queue = Topology.deadQueue(options.service)
        let connection = ConsumerConnection(
            .init(amqp: amqp, topology: Topology(queues: [QueueDeclaration(name: queue)]),
                  queue: QueueDeclaration(name: queue), prefetch: options.limit),
            logger: logger)
        guard await connection.waitUntilConsuming(timeout: .seconds(10)) else {
            throw ValidationError("cannot reach the broker at \(amqp.redacted)")
        }
        var seen = 0, settled = 0
        // The queue's current contents arrive at once; a pause with nothing new means the end.
        while seen < options.limit {
            let remaining = options.limit - seen
            let batch = await withTaskGroup(of: [Delivery]?.self) { group in
                group.addTask { await connection.take(max: remaining) }
                group.addTask { try? await Task.sleep(for: .milliseconds(700)); return nil }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            guard let batch, !batch.isEmpty else { break }
            for delivery in batch {
                seen += 1
                if try await settle(delivery) {
                    connection.ack(delivery)
                    settled += 1
                }
            }
        }
        connection.stopConsuming()
        await connection.close()
        return (seen, settled)
    }

    static func describe(_ delivery: Delivery) -> String {
        let headers = delivery.properties.headers
        let id = delivery.properties.messageId ?? "-"
        let type = delivery.properties.type ?? headers[Header.originalRoutingKey]?.description ?? "?"
        let failedAt = headers[Header.failedAt]?.description ?? "?"
        let code = headers[Header.errorCode]?.description ?? "?"
        let error = headers[Header.error]?.description ?? "(no reason recorded)"
        return "\(id)  \(type)  \(failedAt)  \(code)\n    \(error)"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show dead letters (they stay in the queue).")
        @OptionGroup var options: Options

        func run() async throws {
            let (seen, _) = try await DeadLetters.visit(options) { delivery in
                print(DeadLetters.describe(delivery))
                return false
            }
            print("\(seen) dead letter(s) in \(Topology.deadQueue(options.service))\(seen == options.limit ? " (limit reached)" : "")")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish dead letters again to where they were first sent, then remove them from the dead queue.",
            discussion: "Each message keeps its id, so a consumer that already handled it skips it. Messages without an original destination stay.")
        @OptionGroup var options: Options
        @Option(name: .customLong("id"), help: "Replay only these message ids (repeatable); without it, every one.")
        var ids: [String] = []

        func run() async throws {
            var logger = Logger(label: "convene-admin")
            logger.logLevel = .error
            guard let url = ProcessInfo.processInfo.environment["AMQP_URL"] else {
                throw ValidationError("AMQP_URL is not set (e.g. . .local/run/env)")
            }
            let publisher = Publisher(.init(amqp: try AMQPConfiguration(url: url, connectionName: "convene-admin-replay")), logger: logger)
            let wanted = Set(ids.map { $0.lowercased() })
            let (seen, replayed) = try await DeadLetters.visit(options) { delivery in
                guard wanted.isEmpty || wanted.contains(delivery.properties.messageId?.lowercased() ?? "") else { return false }
                guard let message = replayable(delivery) else {
                    print("skipped (no original destination): \(delivery.properties.messageId ?? "-")")
                    return false
                }
                try await publisher.publish(message, timeout: .seconds(10))
                print("replayed \(delivery.properties.messageId ?? "-") → \(message.exchange) / \(message.routingKey)")
                return true
            }
            await publisher.shutdown()
            print("\(replayed) of \(seen) dead letter(s) replayed")
        }

        /// The original message, sent where it first went, with a fresh retry budget.
        func replayable(_ delivery: Delivery) -> OutgoingMessage? {
            var properties = delivery.properties
            guard let exchange = properties.headers[Header.originalExchange]?.stringValue,
                  let routingKey = properties.headers[Header.originalRoutingKey]?.stringValue else { return nil }
            for header in [Header.error, Header.errorCode, Header.retryCount, Header.service, Header.failedAt,
                           Header.originalExchange, Header.originalRoutingKey, Header.deliveryCount] {
                properties.headers[header] = nil
            }
            properties.headers["x-replayed-at"] = .string(ISO8601.format(Date()))
            return OutgoingMessage(exchange: exchange, routingKey: routingKey, properties: properties, body: delivery.body)
        }
    }
}
