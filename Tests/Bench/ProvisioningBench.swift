import ArgumentParser
import Contracts
import Foundation
import HTTPClient
import Logging
import Messaging

/// (g) Meetings provisioned per second: `scheduling.meeting_scheduled` events with Zoom, Tencent
/// Meeting and DingTalk in, counted out as `platform.meeting_provisioned` (one per platform),
/// through the running platform-bridge against a contract server (`BENCH_CONTRACTS_URL`). The
/// organization's apps are registered there and its credentials set through
/// `platform-bridge.set_credentials`, as the gateway would.
extension Bench {
    func provisioning(_ amqp: AMQPConfiguration, logger: Logger) async throws {
        guard let contracts = ProcessInfo.processInfo.environment["BENCH_CONTRACTS_URL"] else {
            throw ValidationError("BENCH_CONTRACTS_URL must be set for the provisioning measurement")
        }
        let run = UUID().uuidString.prefix(8).lowercased()
        let organization = "bench-org-\(run)"
        let http = CurlHTTPClient()
        func admin(_ path: String, _ body: [String: Any]) async throws {
            let response = try await http.execute(HTTPRequest(method: .post, url: contracts + path, headers: [("Content-Type", "application/json")],
                                                              body: Array(try JSONSerialization.data(withJSONObject: body))))
            guard response.isSuccess else { throw ValidationError("\(path): HTTP \(response.status) \(response.bodyString)") }
        }
        try await admin("/_admin/zoom/accounts", ["accountId": "acc-\(run)", "clientId": "cli-\(run)", "clientSecret": "sec-\(run)"])
        try await admin("/_admin/tencent/apps", ["secretId": "AKID\(run)", "secretKey": "key-\(run)", "appId": "2000\(run)"])
        try await admin("/_admin/dingtalk-open/apps", ["appKey": "ding\(run)", "appSecret": "sec-\(run)"])

        let publisher = Publisher(.init(amqp: amqp, window: 1000), logger: logger)
        let rpc = RPCClient(amqp: amqp, publisher: publisher, source: "bench", logger: logger)
        let rpcTask = Task { try await rpc.run() }
        defer { rpcTask.cancel() }
        guard await rpc.waitUntilReady() else { throw ValidationError("the RPC client did not start") }
        for request in [
            SetPlatformCredentials(platform: "zoom", zoom: ZoomCredentials(accountId: "acc-\(run)", clientId: "cli-\(run)", clientSecret: "sec-\(run)")),
            SetPlatformCredentials(platform: "tencent", tencent: TencentCredentials(secretId: "AKID\(run)", secretKey: "key-\(run)",
                                                                                    appId: "2000\(run)", creatorUserId: "host")),
            SetPlatformCredentials(platform: "dingtalk", dingtalk: DingTalkCredentials(appKey: "ding\(run)", appSecret: "sec-\(run)",
                                                                                       creatorUnionId: "union-host")),
        ] {
            _ = try await rpc.request(SetPlatformCredentials.messageType, request, as: PlatformCredentialStatus.self,
                                      timeout: .seconds(30), organizationId: organization).get()
        }

        let probeQueue = "bench-provisioning-\(run)"
        let declaration = QueueDeclaration(name: probeQueue, autoDelete: true)
        let probe = ConsumerConnection(.init(
            amqp: amqp, topology: .exchanges + Topology(queues: [declaration], bindings: [
                Binding(queue: probeQueue, exchange: Exchange.events, routingKey: MeetingProvisioned.messageType),
                Binding(queue: probeQueue, exchange: Exchange.events, routingKey: ProvisioningFailed.messageType),
            ]), queue: declaration, prefetch: 1000), logger: logger)
        guard await probe.waitUntilConsuming() else { throw ValidationError("cannot consume platform events") }
        let expected = meetings * 3
        let counted = Task {
            var provisioned = 0
            var failed = 0
            for await batch in probe.batches {
                for delivery in batch {
                    probe.ack(delivery)
                    guard String(decoding: delivery.body, as: UTF8.self).contains(organization) else { continue }
                    if delivery.properties.type == MeetingProvisioned.messageType { provisioned += 1 } else { failed += 1 }
                }
                if provisioned + failed >= expected { break }
            }
            return (ContinuousClock.now, provisioned, failed)
        }
        let start = Date().addingTimeInterval(86_400)
        let host = MeetingHost(accountId: "bench-host", name: "Bench", email: "host@bench.example")
        let started = ContinuousClock.now
        for index in 0..<meetings {
            let plan = MeetingPlan(type: "internal", topic: "Bench \(index)", startsAt: start, endsAt: start.addingTimeInterval(3600),
                                   timeZone: "Asia/Shanghai", host: host, platforms: MeetingPlatformName.all)
            try await publisher.publish(try OutgoingMessage.envelope(
                Envelope(MeetingScheduled(meetingId: "bench-\(run)-\(index)", sequence: 1, meeting: plan), source: "bench",
                         organizationId: organization), exchange: Exchange.events))
        }
        let (finished, provisioned, failed) = await counted.value
        probe.stopConsuming()
        await probe.close()
        await publisher.shutdown(grace: .seconds(2))
        if failed > 0 { print("<!-- \(failed) provisionings failed -->") }
        let elapsed = finished - started
        _ = report("(g) meetings provisioned on 3 platforms (events in → platform.meeting_provisioned out)", count: meetings,
                   elapsed: elapsed, latencies: [])
        _ = report("(g) platform meetings created (one per platform)", count: provisioned, elapsed: elapsed, latencies: [])
    }
}
