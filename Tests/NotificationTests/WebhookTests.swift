import Contracts
import Foundation
@testable import Notification
import Testing
import TestSupport

@Suite("Outgoing webhooks through the real broker, database and a verifying receiver")
struct WebhookTests {
    func endpoint(_ name: String) throws -> String { try TestStack.environment("CONTRACTS_URL") + "/hooks/" + name }

    func confirmed(_ title: String) -> JSONValue {
        .object(["registrationId": .string(UUID().uuidString), "conferenceTitle": .string(title),
                 "registrant": .object(["accountId": .string("registrant-\(title)")])])
    }

    @Test("a subscribed event arrives signed the Standard Webhooks way and the receiver verifies it; other events do not")
    func signedDelivery() async throws {
        let contracts = try ContractServer()
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"), events: true)
        defer { Task { await harness.stop() } }
        try await harness.start()
        let name = "hook-" + UUID().uuidString.prefix(8).lowercased()
        let created = try await harness.ask(CreateWebhook(url: try endpoint(name), eventTypes: ["registration.*"]),
                                            as: WebhookSummary.self).get()
        let secret = try #require(created.secret)
        #expect(secret.hasPrefix("whsec_"))
        try await contracts.webhookEndpoint(name, secret: secret)
        let stored = try await harness.pool.withConnection { try await $0.query("SELECT secret FROM webhooks") }.first!.string("secret")
        #expect(!stored.contains(secret.dropFirst(6)), "the secret is stored sealed")
        #expect(try await harness.ask(ListWebhooks(), as: [WebhookSummary].self).get().first?.secret == nil,
                "the secret is shown once, on creation")

        let eventId = UUID()
        try await harness.publishEvent("registration.confirmed", data: confirmed(name), id: eventId)
        try await harness.publishEvent("payment.succeeded", data: .object(["orderId": .string("o1")]))
        try await harness.publishEvent("registration.confirmed", data: confirmed(name), id: eventId)  // redelivered
        #expect(try await eventually(timeout: .seconds(120)) { try await contracts.webhookRequests(name).count == 1 })
        try await Task.sleep(for: .milliseconds(500))
        let requests = try await contracts.webhookRequests(name)
        #expect(requests.count == 1, "one event, one request; payment events are not subscribed")
        let request = try #require(requests.first)
        #expect(request["verified"] as? Bool == true, "\(request["error"] ?? "")")
        #expect((request["headers"] as? [String: Any])?["webhook-id"] as? String == eventId.uuidString.lowercased())
        let body = try JSONSerialization.jsonObject(with: Data((request["body"] as? String ?? "").utf8)) as? [String: Any]
        #expect(body?["type"] as? String == "registration.confirmed")
        #expect(body?["id"] as? String == eventId.uuidString.lowercased())
        #expect((body?["data"] as? [String: Any])?["conferenceTitle"] as? String == name)
        #expect(try await eventually(timeout: .seconds(120)) { try await harness.deliveries(channel: "webhook").first?.status == "sent" })
    }

    @Test("a failing endpoint is retried with back-off, then disabled after sustained failure, and its owner is told")
    func retriesThenDisables() async throws {
        let contracts = try ContractServer()
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"), settings: [
            "WEBHOOK_RETRY_DELAYS": "200ms,400ms", "WEBHOOK_DISABLE_AFTER": "1s",
        ], events: true)
        defer { Task { await harness.stop() } }
        try await harness.start()
        let name = "down-" + UUID().uuidString.prefix(8).lowercased()
        let owner = "owner-\(name)@example.com"
        let created = try await harness.ask(CreateWebhook(url: try endpoint(name), eventTypes: ["registration.confirmed"],
                                                          contactEmail: owner, createdBy: "acc-\(name)"),
                                            as: WebhookSummary.self).get()
        try await contracts.webhookEndpoint(name, secret: try #require(created.secret), respond: Array(repeating: 503, count: 20))

        try await harness.publishEvent("registration.confirmed", data: confirmed(name))
        #expect(try await eventually(timeout: .seconds(120)) { try await harness.deliveries(channel: "webhook").first?.status == "failed" })
        let first = try #require(try await harness.deliveries(channel: "webhook").first)
        #expect(first.attempts == 3, "the first attempt and two retries")
        let ids = Set(try await contracts.webhookRequests(name).compactMap { ($0["headers"] as? [String: Any])?["webhook-id"] as? String })
        #expect(ids.count == 1, "every attempt carries the same webhook-id")

        try await Task.sleep(for: .milliseconds(1100))
        try await harness.publishEvent("registration.confirmed", data: confirmed(name))
        #expect(try await eventually(timeout: .seconds(120)) { try await harness.ask(ListWebhooks(), as: [WebhookSummary].self).get().first?.enabled == false })
        #expect(try await eventually(timeout: .seconds(120)) { try await harness.events("notification.webhook_disabled") == 1 })
        let maildir = try TestStack.environment("CONVENE_MAILDIR")
        #expect(try await eventually(timeout: .seconds(120)) { try await harness.mails(in: maildir).contains { $0.contains(owner) } }, "the owner is mailed")
        #expect(try await harness.ask(CountUnread(accountId: "acc-\(name)"), as: UnreadCount.self).get().unread == 1)

        // Switched off, it gets nothing; switched on again, it starts afresh.
        let before = try await contracts.webhookRequests(name).count
        try await harness.publishEvent("registration.confirmed", data: confirmed(name))
        try await Task.sleep(for: .seconds(1))
        #expect(try await contracts.webhookRequests(name).count == before)
        let enabled = try await harness.ask(UpdateWebhook(id: created.id, enabled: true), as: WebhookSummary.self).get()
        #expect(enabled.enabled && enabled.consecutiveFailures == 0 && enabled.disabledReason == nil)
    }

    @Test("a 4xx answer is final and a redirect is not followed")
    func finalAnswers() async throws {
        let contracts = try ContractServer()
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"), events: true)
        defer { Task { await harness.stop() } }
        try await harness.start()
        let rejecting = "reject-" + UUID().uuidString.prefix(8).lowercased()
        let redirecting = "redirect-" + UUID().uuidString.prefix(8).lowercased()
        let target = "target-" + UUID().uuidString.prefix(8).lowercased()
        for (name, respond, redirect) in [(rejecting, [400], nil), (redirecting, [], try endpoint(target)), (target, [], nil)] {
            let created = try await harness.ask(CreateWebhook(url: try endpoint(name), eventTypes: ["registration.#"]),
                                                as: WebhookSummary.self).get()
            try await contracts.webhookEndpoint(name, secret: try #require(created.secret), respond: respond, redirectTo: redirect)
        }
        _ = try await harness.ask(DeleteWebhook(id: try await harness.ask(ListWebhooks(), as: [WebhookSummary].self).get()
            .first { $0.url.hasSuffix(target) }!.id), as: Empty.self).get()

        try await harness.publishEvent("registration.approved", data: confirmed(rejecting))
        #expect(try await eventually(timeout: .seconds(120)) {
            try await harness.deliveries(channel: "webhook").filter { $0.status == "failed" }.count == 2
        })
        let failed = try await harness.deliveries(channel: "webhook")
        #expect(failed.allSatisfy { $0.attempts == 1 })
        #expect(failed.contains { $0.error?.contains("HTTP 400") == true })
        #expect(failed.contains { $0.error?.contains("redirects are not followed") == true })
        #expect(try await contracts.webhookRequests(target).isEmpty, "the redirect target was never called")
    }

    @Test("the SSRF guard refuses loopback, private and metadata addresses, and a name that resolves to loopback")
    func ssrfGuard() async throws {
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"), settings: [
            "WEBHOOK_ALLOWED_NETWORKS": "", "WEBHOOK_ALLOW_HTTP": "true",
        ], events: true)
        defer { Task { await harness.stop() } }
        try await harness.start()
        for url in ["http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data",
                    "http://[::1]/hook", "ftp://example.com/hook", "http://user:pass@example.com/hook"] {
            let reply = try await harness.ask(CreateWebhook(url: url, eventTypes: ["registration.confirmed"]), as: WebhookSummary.self)
            #expect(reply.error?.code == "notification.invalid_webhook", "\(url)")
        }
        // A name is checked where it matters: on connecting, after DNS.
        let port = URL(string: try TestStack.environment("CONTRACTS_URL"))!.port!
        let name = "local-" + UUID().uuidString.prefix(8).lowercased()
        _ = try await harness.ask(CreateWebhook(url: "http://localhost:\(port)/hooks/\(name)", eventTypes: ["registration.#"]),
                                  as: WebhookSummary.self).get()
        try await harness.publishEvent("registration.confirmed", data: confirmed(name))
        #expect(try await eventually(timeout: .seconds(120)) { try await harness.deliveries(channel: "webhook").first?.status == "failed" })
        let refusal = try await harness.deliveries(channel: "webhook").first?.error ?? ""
        #expect(refusal.contains("127.0.0.1") || refusal.contains("::1"), "\(refusal)")
        #expect(try await ContractServer().webhookRequests(name).isEmpty)
    }

    @Test("notification events cannot be subscribed, and patterns are checked")
    func eventTypes() async throws {
        let harness = try await NotificationHarness(smtpURL: try TestStack.environment("SMTP_URL"), events: true)
        defer { Task { await harness.stop() } }
        try await harness.start()
        for types in [["notification.delivered"], [], ["registration"], ["registration.confirmed; drop"]] {
            let reply = try await harness.ask(CreateWebhook(url: "https://hooks.example.com/x", eventTypes: types), as: WebhookSummary.self)
            #expect(reply.error?.code == "notification.invalid_webhook", "\(types)")
        }
    }
}
