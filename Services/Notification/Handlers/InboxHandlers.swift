import Contracts
import Foundation
import Persistence

/// `notification.list_inbox`
struct ListInboxHandler: MessageHandler {
    let inbox = InboxStore()
    let service: String
    var messageType: String { Self.scoped(ListInbox.messageType, to: service) }

    func handle(_ message: Envelope<ListInbox>, context: HandlerContext) async throws -> InboxPage {
        try await inbox.page(message.data, in: context.transaction)
    }
}

/// `notification.count_unread`
struct CountUnreadHandler: MessageHandler {
    let inbox = InboxStore()
    let service: String
    var messageType: String { Self.scoped(CountUnread.messageType, to: service) }

    func handle(_ message: Envelope<CountUnread>, context: HandlerContext) async throws -> UnreadCount {
        UnreadCount(unread: try await inbox.unread(accountId: message.data.accountId, in: context.transaction))
    }
}

/// `notification.mark_read`
struct MarkReadHandler: MessageHandler {
    let inbox = InboxStore()
    let service: String
    var messageType: String { Self.scoped(MarkRead.messageType, to: service) }

    func handle(_ message: Envelope<MarkRead>, context: HandlerContext) async throws -> MarkedRead {
        if let ids = message.data.ids, ids.count > 500 {
            throw ConveneError(code: "notification.too_many", message: "at most 500 ids at once")
        }
        return MarkedRead(marked: try await inbox.markRead(accountId: message.data.accountId, ids: message.data.ids,
                                                           in: context.transaction))
    }
}

/// `notification.set_preference`
struct SetPreferenceHandler: MessageHandler {
    let settingsStore = SettingsStore()
    let service: String
    var messageType: String { Self.scoped(SetPreference.messageType, to: service) }

    func handle(_ message: Envelope<SetPreference>, context: HandlerContext) async throws -> Preference {
        let request = message.data
        guard !request.recipient.isEmpty, (1...100).contains(request.category.count) else {
            throw ConveneError(code: "notification.invalid_preference", message: "a recipient and a category are required")
        }
        try await settingsStore.setPreference(request, in: context.transaction)
        return Preference(recipient: request.recipient, category: request.category, optedOut: request.optedOut)
    }
}

/// `notification.list_preferences`
struct ListPreferencesHandler: MessageHandler {
    let settingsStore = SettingsStore()
    let service: String
    var messageType: String { Self.scoped(ListPreferences.messageType, to: service) }

    func handle(_ message: Envelope<ListPreferences>, context: HandlerContext) async throws -> [Preference] {
        try await settingsStore.preferences(of: Array(message.data.recipients.prefix(20)), in: context.transaction)
    }
}

/// `notification.list_rules`
struct ListRulesHandler: MessageHandler {
    let rules: RuleBook
    let settingsStore = SettingsStore()
    let service: String
    var messageType: String { Self.scoped(ListRules.messageType, to: service) }

    func handle(_ message: Envelope<ListRules>, context: HandlerContext) async throws -> [RuleSummary] {
        let overrides = try await settingsStore.ruleSettings(organizationId: try message.requireOrganization(),
                                                             in: context.transaction)
        return rules.rules.map { rule in
            RuleSummary(id: rule.id, event: rule.event, templateKey: rule.template, category: rule.category,
                        transactional: rule.transactional, enabled: overrides[rule.id]?.enabled ?? true,
                        channels: overrides[rule.id]?.channels ?? rule.channels, defaultChannels: rule.channels)
        }
    }
}

/// `notification.set_rule`
struct SetRuleHandler: MessageHandler {
    let rules: RuleBook
    let settingsStore = SettingsStore()
    let service: String
    var messageType: String { Self.scoped(SetRule.messageType, to: service) }

    func handle(_ message: Envelope<SetRule>, context: HandlerContext) async throws -> RuleSummary {
        let organizationId = try message.requireOrganization()
        let request = message.data
        guard let rule = rules.rule(id: request.ruleId) else {
            throw ConveneError(code: "notification.not_found", message: "no rule \(request.ruleId)")
        }
        if let channels = request.channels {
            guard !channels.isEmpty, Set(channels).isSubset(of: Channel.all) else {
                throw ConveneError(code: "notification.unknown_channel", message: "channels must be among \(Channel.all.sorted())")
            }
        }
        try await settingsStore.setRule(organizationId: organizationId, ruleId: rule.id, enabled: request.enabled,
                                        channels: request.channels, in: context.transaction)
        let current = try await settingsStore.ruleSettings(organizationId: organizationId, in: context.transaction)[rule.id]
        return RuleSummary(id: rule.id, event: rule.event, templateKey: rule.template, category: rule.category,
                           transactional: rule.transactional, enabled: current?.enabled ?? true,
                           channels: current?.channels ?? rule.channels, defaultChannels: rule.channels)
    }
}
