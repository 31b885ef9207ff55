import Foundation

// Requests the gateway sends to `notification` on behalf of a signed-in user or an organization
// admin. The organization is the envelope's `organizationId`; the gateway has already checked
// that the caller may act for it.

// MARK: Robots

/// `notification.register_robot`: a DingTalk custom robot or WeCom group robot of the organization.
public struct RegisterRobot: MessagePayload, Equatable {
    public static let messageType = "notification.register_robot"
    /// `dingtalk` or `wecom`.
    public var kind: String
    public var name: String
    /// The robot's webhook address as the IM client shows it (its token or key is the secret).
    public var webhookUrl: String
    /// DingTalk's signing secret (`SEC…`), when the robot has one.
    public var secret: String?
    public init(kind: String, name: String, webhookUrl: String, secret: String? = nil) {
        self.kind = kind
        self.name = name
        self.webhookUrl = webhookUrl
        self.secret = secret
    }
}

/// A robot as shown back: never its token, key or secret.
public struct RobotSummary: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String
    public var name: String
    public var signed: Bool
    public var createdAt: Date
    public init(id: String, kind: String, name: String, signed: Bool, createdAt: Date) {
        self.id = id
        self.kind = kind
        self.name = name
        self.signed = signed
        self.createdAt = createdAt
    }
}

/// `notification.list_robots`
public struct ListRobots: MessagePayload, Equatable {
    public static let messageType = "notification.list_robots"
    public init() {}
}

/// `notification.remove_robot`
public struct RemoveRobot: MessagePayload, Equatable {
    public static let messageType = "notification.remove_robot"
    public var id: String
    public init(id: String) { self.id = id }
}

// MARK: Outgoing webhooks

/// `notification.create_webhook`: another system subscribes to events of the organization.
public struct CreateWebhook: MessagePayload, Equatable {
    public static let messageType = "notification.create_webhook"
    public var url: String
    /// Event types or patterns (`registration.*`, `payment.succeeded`); `notification.*` is not offered.
    public var eventTypes: [String]
    public var description: String?
    /// Who is told when the endpoint is disabled.
    public var contactEmail: String?
    public var createdBy: String?
    public init(url: String, eventTypes: [String], description: String? = nil, contactEmail: String? = nil,
                createdBy: String? = nil) {
        self.url = url
        self.eventTypes = eventTypes
        self.description = description
        self.contactEmail = contactEmail
        self.createdBy = createdBy
    }
}

public struct WebhookSummary: Codable, Sendable, Equatable {
    public var id: String
    public var url: String
    public var eventTypes: [String]
    public var description: String?
    public var enabled: Bool
    public var disabledReason: String?
    public var consecutiveFailures: Int
    public var createdAt: Date
    /// Only in the answer to `create_webhook`: shown once, stored encrypted.
    public var secret: String?
    public init(id: String, url: String, eventTypes: [String], description: String?, enabled: Bool,
                disabledReason: String?, consecutiveFailures: Int, createdAt: Date, secret: String? = nil) {
        self.id = id
        self.url = url
        self.eventTypes = eventTypes
        self.description = description
        self.enabled = enabled
        self.disabledReason = disabledReason
        self.consecutiveFailures = consecutiveFailures
        self.createdAt = createdAt
        self.secret = secret
    }
}

/// `notification.list_webhooks`
public struct ListWebhooks: MessagePayload, Equatable {
    public static let messageType = "notification.list_webhooks"
    public init() {}
}

/// `notification.update_webhook`: re-enabling clears the failure record.
public struct UpdateWebhook: MessagePayload, Equatable {
    public static let messageType = "notification.update_webhook"
    public var id: String
    public var enabled: Bool?
    public var eventTypes: [String]?
    public init(id: String, enabled: Bool? = nil, eventTypes: [String]? = nil) {
        self.id = id
        self.enabled = enabled
        self.eventTypes = eventTypes
    }
}

/// `notification.delete_webhook`
public struct DeleteWebhook: MessagePayload, Equatable {
    public static let messageType = "notification.delete_webhook"
    public var id: String
    public init(id: String) { self.id = id }
}

/// Emitted when an endpoint kept failing and was switched off.
public struct WebhookDisabled: MessagePayload, Equatable {
    public static let messageType = "notification.webhook_disabled"
    public var webhookId: String
    public var url: String
    public var reason: String
    public init(webhookId: String, url: String, reason: String) {
        self.webhookId = webhookId
        self.url = url
        self.reason = reason
    }
}

// MARK: Event rules

/// `notification.list_rules`: the shipped rules with the organization's settings applied.
public struct ListRules: MessagePayload, Equatable {
    public static let messageType = "notification.list_rules"
    public init() {}
}

public struct RuleSummary: Codable, Sendable, Equatable {
    public var id: String
    public var event: String
    public var templateKey: String
    public var category: String
    public var transactional: Bool
    public var enabled: Bool
    public var channels: [String]
    /// The channels the rule ships with.
    public var defaultChannels: [String]
    public init(id: String, event: String, templateKey: String, category: String, transactional: Bool, enabled: Bool,
                channels: [String], defaultChannels: [String]) {
        self.id = id
        self.event = event
        self.templateKey = templateKey
        self.category = category
        self.transactional = transactional
        self.enabled = enabled
        self.channels = channels
        self.defaultChannels = defaultChannels
    }
}

/// `notification.set_rule`: switch a rule off or on, or change its channels, for the organization.
public struct SetRule: MessagePayload, Equatable {
    public static let messageType = "notification.set_rule"
    public var ruleId: String
    public var enabled: Bool?
    public var channels: [String]?
    public init(ruleId: String, enabled: Bool? = nil, channels: [String]? = nil) {
        self.ruleId = ruleId
        self.enabled = enabled
        self.channels = channels
    }
}

// MARK: In-app inbox and preferences

/// `notification.list_inbox`: newest first; `before` is the cursor from the previous page.
public struct ListInbox: MessagePayload, Equatable {
    public static let messageType = "notification.list_inbox"
    public var accountId: String
    public var limit: Int
    public var before: String?
    public var unreadOnly: Bool?
    public init(accountId: String, limit: Int = 20, before: String? = nil, unreadOnly: Bool? = nil) {
        self.accountId = accountId
        self.limit = limit
        self.before = before
        self.unreadOnly = unreadOnly
    }
}

public struct InboxItem: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var body: String
    public var category: String
    public var link: String?
    public var createdAt: Date
    public var readAt: Date?
    public init(id: String, title: String, body: String, category: String, link: String?, createdAt: Date, readAt: Date?) {
        self.id = id
        self.title = title
        self.body = body
        self.category = category
        self.link = link
        self.createdAt = createdAt
        self.readAt = readAt
    }
}

public struct InboxPage: Codable, Sendable, Equatable {
    public var items: [InboxItem]
    /// Pass as `before` for the next page; nil on the last one.
    public var next: String?
    public init(items: [InboxItem], next: String?) {
        self.items = items
        self.next = next
    }
}

/// `notification.count_unread`
public struct CountUnread: MessagePayload, Equatable {
    public static let messageType = "notification.count_unread"
    public var accountId: String
    public init(accountId: String) { self.accountId = accountId }
}

public struct UnreadCount: Codable, Sendable, Equatable {
    public var unread: Int
    public init(unread: Int) { self.unread = unread }
}

/// `notification.mark_read`: the given items, or all of the account's when `ids` is nil.
public struct MarkRead: MessagePayload, Equatable {
    public static let messageType = "notification.mark_read"
    public var accountId: String
    public var ids: [String]?
    public init(accountId: String, ids: [String]? = nil) {
        self.accountId = accountId
        self.ids = ids
    }
}

public struct MarkedRead: Codable, Sendable, Equatable {
    public var marked: Int
    public init(marked: Int) { self.marked = marked }
}

/// `notification.set_preference`: opt a recipient (account id or email address) in or out of a
/// category. Transactional messages ignore it.
public struct SetPreference: MessagePayload, Equatable {
    public static let messageType = "notification.set_preference"
    public var recipient: String
    public var category: String
    public var optedOut: Bool
    public init(recipient: String, category: String, optedOut: Bool) {
        self.recipient = recipient
        self.category = category
        self.optedOut = optedOut
    }
}

/// `notification.list_preferences`
public struct ListPreferences: MessagePayload, Equatable {
    public static let messageType = "notification.list_preferences"
    public var recipients: [String]
    public init(recipients: [String]) { self.recipients = recipients }
}

public struct Preference: Codable, Sendable, Equatable {
    public var recipient: String
    public var category: String
    public var optedOut: Bool
    public init(recipient: String, category: String, optedOut: Bool) {
        self.recipient = recipient
        self.category = category
        self.optedOut = optedOut
    }
}
