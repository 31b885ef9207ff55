import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Testing
import TestSupport

extension EndToEnd {
/// The gateway and the notification service as they run, over the test stack's broker and
/// database: tokens, problems, the inbox, preferences and an organization's webhooks, robots
/// and rules.
@Suite("The gateway's notification API, end to end", .serialized)
struct GatewayEndToEndTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    static func unique(_ prefix: String) -> String { prefix + "-" + UUID().uuidString.prefix(8).lowercased() }

    @Test("without a valid token the API answers 401 problem+json with WWW-Authenticate: Bearer")
    func unauthorized() async throws {
        let stack = try stack
        let missing = try await stack.call(.get, "/v1/me/inbox", headers: [("X-Request-Id", "e2e-request-1")])
        #expect(missing.status == 401)
        #expect(missing.header(named: "Content-Type") == "application/problem+json")
        #expect(missing.header(named: "WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(missing.header(named: "X-Request-Id") == "e2e-request-1", "the client's request id is echoed")
        #expect(missing.problem?.code == "gateway.token_required")
        #expect(missing.problem?.type == "https://convene.dev/problems/gateway.token_required")
        #expect(missing.problem?.status == 401)

        let garbage = try await stack.call(.get, "/v1/me/inbox", token: "not.a.token")
        #expect(garbage.status == 401)
        #expect(garbage.problem?.code == "gateway.invalid_token")
        #expect(garbage.header(named: "WWW-Authenticate")?.contains("invalid_token") == true)
        #expect(garbage.header(named: "X-Request-Id")?.isEmpty == false, "a request id is made when none was sent")

        let otherKey = TokenIssuer(settings: TokenSettings(secret: Array(GatewayStack.randomBase64(32).utf8), issuer: "convene",
                                                           audience: "convene-api"))
        let forged = try await otherKey.issue(accountId: "acct-1", organizationId: stack.organizationId, roles: [.systemAdmin])
        let refused = try await stack.call(.get, "/v1/organizations/\(stack.organizationId)/webhooks", token: forged)
        #expect(refused.status == 401)
        #expect(refused.problem?.code == "gateway.invalid_token")

        let health = try await stack.call(.get, "/health")
        #expect(health.status != 401, "/health needs no token")
        let unknown = try await stack.call(.get, "/v1/nothing-here")
        #expect(unknown.status == 404)
        #expect(unknown.problem?.code == "gateway.not_found")
    }

    @Test("a user pages through their own inbox, marks it read, and another account sees none of it")
    func inbox() async throws {
        let stack = try stack
        let account = Self.unique("acct")
        let token = try await stack.token(account: account)
        // One at a time, so that each is written in a transaction of its own and the three are
        // ordered by time (items written together share their transaction's timestamp).
        for (index, topic) in ["first", "second", "third"].enumerated() {
            try await stack.send(SendNotification(
                category: "meeting.reminder", templateKey: "meeting.reminder", data: ["topic": .string(topic)],
                recipients: [.init(accountId: account, locale: "en")], channels: ["inbox"]))
            let arrived = await eventually(timeout: .seconds(30)) {
                (try? await stack.call(.get, "/v1/me/inbox/unread-count", token: token).decode(UnreadCount.self))?.unread == index + 1
            }
            try #require(arrived, "the \(topic) item arrives in the inbox;\n\(stack.logTails())")
        }

        let first = try await stack.call(.get, "/v1/me/inbox?limit=2", token: token)
        #expect(first.status == 200, "\(first.bodyString)")
        let page1 = try first.decode(InboxPage.self)
        #expect(page1.items.count == 2)
        let cursor = try #require(page1.next, "a second page exists")
        let second = try await stack.call(.get, "/v1/me/inbox?limit=2&before=\(cursor)", token: token)
        let page2 = try second.decode(InboxPage.self)
        #expect(page2.items.count == 1)
        #expect(page2.next == nil)
        let items = page1.items + page2.items
        #expect(Set(items.map(\.id)).count == 3)
        #expect(items.map(\.title) == ["third", "second", "first"].map { "Reminder: \($0) starts" }, "newest first")
        #expect(items.allSatisfy { $0.readAt == nil })

        let unreadOnly = try await stack.call(.get, "/v1/me/inbox?unread=true", token: token).decode(InboxPage.self)
        #expect(unreadOnly.items.count == 3)

        let markOne = try await stack.call(.post, "/v1/me/inbox/read", token: token, body: #"{"ids": ["\#(items[0].id)"]}"#)
        #expect(try markOne.decode(MarkedRead.self).marked == 1)
        #expect(try await stack.call(.get, "/v1/me/inbox/unread-count", token: token).decode(UnreadCount.self).unread == 2)

        // Another account of the same organization: sees nothing, marks nothing of the first's.
        let other = try await stack.token(account: Self.unique("acct"))
        #expect(try await stack.call(.get, "/v1/me/inbox", token: other).decode(InboxPage.self).items.isEmpty)
        #expect(try await stack.call(.get, "/v1/me/inbox/unread-count", token: other).decode(UnreadCount.self).unread == 0)
        let theirs = try await stack.call(.post, "/v1/me/inbox/read", token: other, body: #"{"ids": ["\#(items[1].id)"]}"#)
        #expect(try theirs.decode(MarkedRead.self).marked == 0)
        let everything = try await stack.call(.post, "/v1/me/inbox/read", token: other, body: "{}")
        #expect(try everything.decode(MarkedRead.self).marked == 0)
        #expect(try await stack.call(.get, "/v1/me/inbox/unread-count", token: token).decode(UnreadCount.self).unread == 2)

        // The account is the token's: a body naming another one is refused, not obeyed.
        let named = try await stack.call(.post, "/v1/me/inbox/read", token: other, body: #"{"accountId": "\#(account)"}"#)
        #expect(named.status == 422)
        #expect(named.problem?.code == "gateway.unknown_field")

        let all = try await stack.call(.post, "/v1/me/inbox/read", token: token, body: "{}")
        #expect(try all.decode(MarkedRead.self).marked == 2)
        #expect(try await stack.call(.get, "/v1/me/inbox/unread-count", token: token).decode(UnreadCount.self).unread == 0)
    }

    @Test("bad queries and bodies are refused with 400, 413 or 422 problems before reaching a service")
    func badRequests() async throws {
        let stack = try stack
        let token = try await stack.token(account: Self.unique("acct"))
        let tooMany = try await stack.call(.get, "/v1/me/inbox?limit=101", token: token)
        #expect(tooMany.status == 422)
        #expect(tooMany.problem?.code == "gateway.invalid_query")
        #expect(try await stack.call(.get, "/v1/me/inbox?limit=abc", token: token).status == 422)
        #expect(try await stack.call(.get, "/v1/me/inbox?unread=maybe", token: token).status == 422)

        let cursor = try await stack.call(.get, "/v1/me/inbox?before=garbage", token: token)
        #expect(cursor.status == 422)
        #expect(cursor.problem?.code == "notification.invalid_cursor")

        let malformed = try await stack.call(.post, "/v1/me/inbox/read", token: token, body: #"{"ids": ["#)
        #expect(malformed.status == 400)
        #expect(malformed.problem?.code == "gateway.malformed_json")
        let wrongType = try await stack.call(.post, "/v1/me/inbox/read", token: token, body: #"{"ids": "all"}"#)
        #expect(wrongType.status == 422)
        #expect(wrongType.problem?.code == "gateway.invalid_body")
        #expect(wrongType.problem?.detail.contains("ids") == true, "the detail names the field: \(wrongType.bodyString)")
        let notObject = try await stack.call(.post, "/v1/me/inbox/read", token: token, body: "[]")
        #expect(notObject.status == 422)

        let huge = #"{"ids": ["# + Array(repeating: #""x""#, count: 20_000).joined(separator: ",") + "]}"
        let large = try await stack.call(.post, "/v1/me/inbox/read", token: token, body: huge)
        #expect(large.status == 413)
        #expect(large.problem?.code == "gateway.body_too_large")
    }

    @Test("preferences are kept for the token's account id and email address")
    func preferences() async throws {
        let stack = try stack
        let account = Self.unique("acct")
        let email = "\(account)@example.com"
        let token = try await stack.token(account: account, email: email)
        let empty = try await stack.call(.get, "/v1/me/notification-preferences", token: token)
        #expect(try empty.decode(ItemList<Preference>.self).items.isEmpty)

        let set = try await stack.call(.put, "/v1/me/notification-preferences/meeting.reminder", token: token,
                                       body: #"{"optedOut": true}"#)
        #expect(set.status == 200, "\(set.bodyString)")
        #expect(try set.decode(PreferenceRoutes.CategoryPreference.self) == .init(category: "meeting.reminder", optedOut: true))
        let listed = try await stack.call(.get, "/v1/me/notification-preferences", token: token).decode(ItemList<Preference>.self)
        #expect(Set(listed.items.map(\.recipient)) == [account, email])
        #expect(listed.items.allSatisfy { $0.category == "meeting.reminder" && $0.optedOut })

        let unknown = try await stack.call(.put, "/v1/me/notification-preferences/meeting.reminder", token: token,
                                           body: #"{"optedOut": true, "recipient": "someone-else"}"#)
        #expect(unknown.status == 422)
    }

    @Test("an organization admin creates, lists, changes and deletes a webhook; others get 403 or 404")
    func webhooks() async throws {
        let stack = try stack
        let org = stack.organizationId
        let admin = try await stack.token(account: Self.unique("admin"), roles: [.orgAdmin], email: "ops@example.com")
        let path = "/v1/organizations/\(org)/webhooks"
        let created = try await stack.call(.post, path, token: admin, body: """
            {"url": "https://hooks.example.com/convene", "eventTypes": ["registration.*"], "description": "e2e"}
            """)
        #expect(created.status == 201, "\(created.bodyString)")
        let webhook = try created.decode(WebhookSummary.self)
        #expect(webhook.secret?.hasPrefix("whsec_") == true, "the secret is shown once, at creation")
        #expect(created.header(named: "Location") == "\(path)/\(webhook.id)")
        #expect(created.header(named: "Cache-Control") == "no-store")

        let list = try await stack.call(.get, path, token: admin)
        #expect(list.status == 200)
        let listed = try list.decode(ItemList<WebhookSummary>.self).items
        #expect(listed.map(\.id) == [webhook.id])
        #expect(listed.allSatisfy { $0.secret == nil })
        #expect(!list.bodyString.contains("whsec_"), "no secret in the list")

        let member = try await stack.token(account: Self.unique("member"), roles: [.user, .meetingAdmin])
        let forbidden = try await stack.call(.get, path, token: member)
        #expect(forbidden.status == 403)
        #expect(forbidden.problem?.code == "gateway.forbidden")
        let otherAdmin = try await stack.token(account: Self.unique("admin"), organization: Self.unique("org"), roles: [.orgAdmin])
        let hidden = try await stack.call(.get, path, token: otherAdmin)
        #expect(hidden.status == 404, "another organization's admin learns nothing")
        #expect(try await stack.call(.post, path, token: otherAdmin, body: #"{"url": "https://x.example.com", "eventTypes": ["payment.*"]}"#)
            .status == 404)
        let operatorToken = try await stack.token(account: Self.unique("ops"), organization: Self.unique("org"), roles: [.systemAdmin])
        #expect(try await stack.call(.get, path, token: operatorToken).status == 200, "a system admin may look")

        let unknownField = try await stack.call(.post, path, token: admin, body: """
            {"url": "https://hooks.example.com/x", "eventTypes": ["payment.*"], "secret": "mine"}
            """)
        #expect(unknownField.status == 422)
        #expect(unknownField.problem?.code == "gateway.unknown_field")
        let loopback = try await stack.call(.post, path, token: admin, body: """
            {"url": "http://127.0.0.1:8080/hook", "eventTypes": ["payment.*"]}
            """)
        #expect(loopback.status == 422)
        #expect(loopback.problem?.code == "notification.invalid_webhook")

        let disabled = try await stack.call(.patch, "\(path)/\(webhook.id)", token: admin, body: #"{"enabled": false}"#)
        #expect(disabled.status == 200, "\(disabled.bodyString)")
        #expect(try disabled.decode(WebhookSummary.self).enabled == false)
        #expect(try await stack.call(.patch, "\(path)/not-a-uuid", token: admin, body: "{}").status == 404)

        #expect(try await stack.call(.delete, "\(path)/\(webhook.id)", token: member).status == 403)
        let deleted = try await stack.call(.delete, "\(path)/\(webhook.id)", token: admin)
        #expect(deleted.status == 204)
        let again = try await stack.call(.delete, "\(path)/\(webhook.id)", token: admin)
        #expect(again.status == 404)
        #expect(again.problem?.code == "notification.not_found")
    }

    @Test("an organization admin registers, lists and removes a robot, whose token never comes back")
    func robots() async throws {
        let stack = try stack
        let admin = try await stack.token(account: Self.unique("admin"), roles: [.orgAdmin])
        let path = "/v1/organizations/\(stack.organizationId)/robots"
        let created = try await stack.call(.post, path, token: admin, body: """
            {"kind": "dingtalk", "name": "Ops room", "webhookUrl": "https://oapi.dingtalk.com/robot/send?access_token=e2etoken123", "secret": "SECe2e"}
            """)
        #expect(created.status == 201, "\(created.bodyString)")
        let robot = try created.decode(RobotSummary.self)
        #expect(robot.signed)
        #expect(!created.bodyString.contains("e2etoken123") && !created.bodyString.contains("SECe2e"))
        let listed = try await stack.call(.get, path, token: admin)
        #expect(try listed.decode(ItemList<RobotSummary>.self).items.map(\.id) == [robot.id])
        #expect(!listed.bodyString.contains("e2etoken123"))
        let invalid = try await stack.call(.post, path, token: admin, body: #"{"kind": "fax", "name": "x", "webhookUrl": "x"}"#)
        #expect(invalid.status == 422)
        #expect(invalid.problem?.code == "notification.invalid_robot")
        #expect(try await stack.call(.delete, "\(path)/\(robot.id)", token: admin).status == 204)
        #expect(try await stack.call(.get, path, token: admin).decode(ItemList<RobotSummary>.self).items.isEmpty)
    }

    @Test("an organization admin switches a notification rule off and changes its channels")
    func rules() async throws {
        let stack = try stack
        let admin = try await stack.token(account: Self.unique("admin"), roles: [.orgAdmin])
        let path = "/v1/organizations/\(stack.organizationId)/notification-rules"
        let rules = try await stack.call(.get, path, token: admin).decode(ItemList<RuleSummary>.self).items
        let rule = try #require(rules.first { $0.id == "meeting-reminder-attendees" })
        #expect(rule.enabled)
        let changed = try await stack.call(.patch, "\(path)/\(rule.id)", token: admin, body: #"{"enabled": false, "channels": ["inbox"]}"#)
        #expect(changed.status == 200, "\(changed.bodyString)")
        let summary = try changed.decode(RuleSummary.self)
        #expect(!summary.enabled)
        #expect(summary.channels == ["inbox"])
        #expect(summary.defaultChannels == rule.defaultChannels)
        let badChannel = try await stack.call(.patch, "\(path)/\(rule.id)", token: admin, body: #"{"channels": ["fax"]}"#)
        #expect(badChannel.status == 422)
        #expect(badChannel.problem?.code == "notification.unknown_channel")
        #expect(try await stack.call(.patch, "\(path)/no-such-rule", token: admin, body: "{}").status == 404)
    }
}
}
