import Contracts
import Foundation
import Persistence

/// Which events tell whom what: shipped as versioned data (`Rules/rules.json`); an organization
/// may switch a rule off or change its channels.
struct RuleBook: Sendable {
    struct Rule: Codable, Sendable, Equatable {
        var id: String
        /// The event type, e.g. `registration.confirmed`.
        var event: String
        var template: String
        var category: String
        var transactional: Bool
        var channels: [String]
        /// JSON pointer into the event's data to a recipient object or a list of them
        /// (`accountId`, `email`, `name`, `locale`). Robot channels go to the organization's robots.
        var audience: String
        /// JSON pointer to a link the in-app inbox shows with the message.
        var link: String?
        /// Only events whose data has, at each JSON pointer, one of the listed strings, e.g.
        /// `{"/status": ["pending_review"]}`: "registration received" is worth a message of its
        /// own only while staff review it; otherwise the outcome's message follows at once.
        var when: [String: [String]]?

        func applies(to data: JSONValue) -> Bool {
            guard let when else { return true }
            return when.allSatisfy { pointer, accepted in
                if case .string(let value)? = data.resolve(pointer: pointer) { accepted.contains(value) } else { false }
            }
        }
    }

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    var version: Int
    var rules: [Rule]

    init(version: Int, rules: [Rule]) {
        self.version = version
        self.rules = rules
    }

    init(file: String, templates: TemplateLibrary) throws {
        struct Document: Codable {
            var version: Int
            var rules: [Rule]
        }
        let document = try JSONDecoder().decode(Document.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        self.init(version: document.version, rules: document.rules)
        try validate(templates: templates)
    }

    func validate(templates: TemplateLibrary) throws {
        var seen = Set<String>()
        for rule in rules {
            guard seen.insert(rule.id).inserted else { throw Invalid(description: "rule \(rule.id) appears twice") }
            guard templates.locales[rule.template] != nil else {
                throw Invalid(description: "rule \(rule.id): no template \(rule.template)")
            }
            guard !rule.channels.isEmpty, Set(rule.channels).isSubset(of: Channel.all) else {
                throw Invalid(description: "rule \(rule.id): channels must be among \(Channel.all.sorted())")
            }
            guard rule.audience.hasPrefix("/") || rule.audience.isEmpty else {
                throw Invalid(description: "rule \(rule.id): audience is a JSON pointer like /registrant")
            }
            for (pointer, accepted) in rule.when ?? [:] where !pointer.hasPrefix("/") || accepted.isEmpty {
                throw Invalid(description: "rule \(rule.id): when maps JSON pointers like /status to the values accepted")
            }
        }
    }

    func rules(for event: String) -> [Rule] { rules.filter { $0.event == event } }

    /// The rules of `event` whose condition its data meets.
    func rules(for event: String, data: JSONValue) -> [Rule] { rules(for: event).filter { $0.applies(to: data) } }

    func rule(id: String) -> Rule? { rules.first { $0.id == id } }

    /// The people a rule addresses in an event's data.
    static func recipients(in data: JSONValue, at pointer: String) -> [SendNotification.Recipient] {
        guard let found = data.resolve(pointer: pointer) else { return [] }
        let objects: [[String: JSONValue]] = switch found {
        case .object(let object): [object]
        case .array(let list): list.compactMap { if case .object(let object) = $0 { object } else { nil } }
        default: []
        }
        return objects.map { object in
            func text(_ key: String) -> String? {
                if case .string(let value)? = object[key], !value.isEmpty { value } else { nil }
            }
            return SendNotification.Recipient(accountId: text("accountId"), email: text("email"), name: text("name"),
                                              locale: text("locale"))
        }.filter { $0.accountId != nil || $0.email != nil }
    }
}

/// The channels a notification can take.
enum Channel {
    static let email = "email"
    static let inbox = "inbox"
    static let webhook = "webhook"
    static let all: Set<String> = ["email", "inbox", "dingtalk", "wecom"]
}

extension JSONValue {
    /// RFC 6901 JSON pointer (`/a/0/b`, with `~1` for `/` and `~0` for `~`).
    func resolve(pointer: String) -> JSONValue? {
        guard !pointer.isEmpty else { return self }
        var current = self
        for raw in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let list):
                guard let index = Int(token), list.indices.contains(index) else { return nil }
                current = list[index]
            default:
                return nil
            }
        }
        return current
    }
}

/// The event types an outgoing webhook may subscribe to: another service's events, exactly or
/// by AMQP-style pattern. The notification service's own events are not offered (a webhook about
/// a webhook's delivery would never end).
enum WebhookEvents {
    static let producers = ["registration", "payment", "scheduling", "platform", "archive"]

    static func validate(_ types: [String]) -> String? {
        guard (1...50).contains(types.count) else { return "between 1 and 50 event types" }
        for type in types {
            let words = type.split(separator: ".", omittingEmptySubsequences: false)
            guard words.count >= 2, let producer = words.first, producers.contains(String(producer)) || producer == "*" || producer == "#",
                  words.allSatisfy({ $0 == "*" || $0 == "#" || (!$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }) })
            else {
                return "\(type) is not an event type of \(producers.joined(separator: ", ")) (patterns may use * and #)"
            }
        }
        return nil
    }

    static func matches(_ types: [String], event: String) -> Bool {
        guard producers.contains(where: { event.hasPrefix($0 + ".") }) else { return false }
        return types.contains { type in type == event || TopicPattern(type)?.matches(event) == true }
    }
}
