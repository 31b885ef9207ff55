import ArgumentParser
import Contracts
import Foundation
import HTTPClient
import Logging
import Messaging

/// (e) Emails per second: the notification service's whole path (command → delivery → SMTP →
/// outcome recorded → `notification.delivered`) beside the SMTP server's own ceiling, measured
/// in the same run by a plain loop of the same SMTP client with as many connections.
extension Bench {
    func emails(_ amqp: AMQPConfiguration, logger: Logger) async throws {
        guard let smtpURL = ProcessInfo.processInfo.environment["SMTP_URL"] else {
            throw ValidationError("SMTP_URL must be set for the email measurement")
        }
        // The ceiling drifts on a shared machine: measured before and after, the mean is the yardstick.
        let before = try await plainSMTPLoop(smtpURL, logger: logger)
        let single = try await serviceEmails(amqp, recipientsPerCommand: 1, logger: logger)
        let bulk = try await serviceEmails(amqp, recipientsPerCommand: 1000, logger: logger)
        let after = try await plainSMTPLoop(smtpURL, logger: logger)
        let ceiling = (before + after) / 2
        print("| (e) ratio, one recipient per command / plain SMTP loop | \(emailCount) | \(String(format: "%.0f %%", single / ceiling * 100)) | – | – |")
        print("| (e) ratio, 1,000 recipients per command / plain SMTP loop | \(emailCount) | \(String(format: "%.0f %%", bulk / ceiling * 100)) | – | – |")
    }

    /// The server's ceiling: the same SMTP client, `smtpConnections` reused connections, each
    /// sending its share of ready-made messages back to back.
    func plainSMTPLoop(_ url: String, logger: Logger) async throws -> Double {
        let client = SMTPClient(url: url, timeout: .seconds(30), connectTimeout: .seconds(5), maxConnections: smtpConnections,
                                logger: logger)
        let message = Array(Self.sampleMessage.utf8)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<smtpConnections {
                group.addTask {
                    for index in stride(from: worker, to: emailCount, by: smtpConnections) {
                        try await client.send(from: "bench@convene.local", recipients: ["plain-\(index)@bench.example"], message: message)
                    }
                }
            }
            try await group.waitForAll()
        }
        return report("(e) plain SMTP client loop (\(smtpConnections) reused connections), the server's ceiling",
                      count: emailCount, elapsed: ContinuousClock.now - started, latencies: [])
    }

    /// Through the running notification service: `notification.send` commands in, counted out
    /// as `notification.delivered` events for this run's recipients. One recipient per command
    /// is the worst case (every mail its own request); a reminder to a meeting's attendees is
    /// one command to many.
    func serviceEmails(_ amqp: AMQPConfiguration, recipientsPerCommand: Int, logger: Logger) async throws -> Double {
        let run = UUID().uuidString.prefix(8).lowercased()
        let probeQueue = "bench-email-\(run)"
        let declaration = QueueDeclaration(name: probeQueue, autoDelete: true)
        let probe = ConsumerConnection(.init(
            amqp: amqp, topology: .exchanges + Topology(queues: [declaration], bindings: [
                Binding(queue: probeQueue, exchange: Exchange.events, routingKey: "notification.delivered"),
                Binding(queue: probeQueue, exchange: Exchange.events, routingKey: "notification.failed"),
            ]), queue: declaration, prefetch: 1000), logger: logger)
        guard await probe.waitUntilConsuming() else { throw ValidationError("cannot consume notification events") }
        let domain = "@bench-\(run).example"
        let counted = Task {
            var delivered = 0
            var failed = 0
            for await batch in probe.batches {
                for delivery in batch {
                    probe.ack(delivery)
                    let body = String(decoding: delivery.body, as: UTF8.self)
                    guard body.contains(domain) else { continue }
                    if delivery.properties.type == "notification.delivered" { delivered += 1 } else { failed += 1 }
                }
                if delivered + failed >= emailCount { break }
            }
            return (ContinuousClock.now, delivered, failed)
        }
        let publisher = Publisher(.init(amqp: amqp, window: 1000), logger: logger)
        let started = ContinuousClock.now
        var sent = 0
        let commands = try stride(from: 0, to: emailCount, by: recipientsPerCommand).map { first in
            try OutgoingMessage.envelope(Envelope(type: SendNotification.messageType, source: "bench", data: SendNotification(
                category: "bench", transactional: true, templateKey: "meeting.invitation",
                data: ["topic": .string("季度规划会 \(first)"), "organizerName": .string("张经理"),
                       "startLocal": .string("2026-12-01 14:00"), "endLocal": .string("15:10"),
                       "timeZone": .string("Asia/Shanghai")],
                recipients: (first..<min(first + recipientsPerCommand, emailCount)).map {
                    .init(email: "guest-\($0)\(domain)", name: "Guest \($0)", locale: "zh-CN")
                })), exchange: Exchange.commands)
        }
        while sent < commands.count {
            let batch = Array(commands[sent..<min(sent + 500, commands.count)])
            for result in await publisher.publish(batch) { if case .failure(let error) = result { throw error } }
            sent += batch.count
        }
        let waiting = Task {
            try await Task.sleep(for: .seconds(600))
            probe.stopConsuming()
        }
        let (finished, delivered, failed) = await counted.value
        waiting.cancel()
        probe.stopConsuming()
        await probe.close()
        await publisher.shutdown()
        guard failed == 0, delivered == emailCount else {
            throw ValidationError("the service delivered \(delivered) and failed \(failed) of \(emailCount) emails")
        }
        return report("(e) notification service: send command → SMTP → delivered event, \(recipientsPerCommand) recipient\(recipientsPerCommand == 1 ? "" : "s") per command",
                      count: emailCount, elapsed: finished - started, latencies: [])
    }

    static let sampleMessage = """
        From: Convene <noreply@convene.local>\r
        To: =?UTF-8?B?5byg57uP55CG?= <guest@bench.example>\r
        Subject: =?UTF-8?B?5Lya6K6u6YKA6K+377ya5a2j5bqm6KeE5YiS5Lya?=\r
        Date: Sun, 22 Nov 2026 09:30:00 +0000\r
        Message-ID: <bench@convene.local>\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Transfer-Encoding: base64\r
        \r
        \(Data(String(repeating: "张经理邀请您参加季度规划会。", count: 60).utf8).base64EncodedString(options: .lineLength76Characters))\r

        """
}
