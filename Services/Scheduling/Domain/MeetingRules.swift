import Contracts
import Foundation

/// What makes an enterprise meeting's plan acceptable: pure, every problem reported by field.
enum MeetingRules {
    static let types: Set<String> = ["internal", "client", "large_event"]
    static let maximumDuration: TimeInterval = 7 * 24 * 3600

    /// Every problem of `plan` (and of the expected head count against the room's capacity), by
    /// field; empty when acceptable.
    static func problems(_ plan: MeetingPlan, expectedAttendees: Int? = nil, roomCapacity: Int? = nil) -> [String: String] {
        var problems: [String: String] = [:]
        if !types.contains(plan.type) { problems["type"] = "one of internal, client, large_event" }
        let topic = plan.topic.trimmingCharacters(in: .whitespacesAndNewlines)
        if topic.isEmpty || topic.count > 300 { problems["topic"] = "1 to 300 characters" }
        if (plan.description?.count ?? 0) > 20_000 { problems["description"] = "at most 20,000 characters" }
        if TimeZone(identifier: plan.timeZone) == nil || !plan.timeZone.contains("/") && plan.timeZone != "UTC" {
            problems["timeZone"] = "an IANA time zone such as Asia/Shanghai"
        }
        if plan.endsAt <= plan.startsAt {
            problems["endsAt"] = "after startsAt"
        } else if plan.endsAt.timeIntervalSince(plan.startsAt) > maximumDuration {
            problems["endsAt"] = "at most 7 days after startsAt"
        }
        if let room = plan.roomId, UUID(uuidString: room) == nil { problems["roomId"] = "a room's id" }
        if let location = plan.location, location.count > 500 { problems["location"] = "at most 500 characters" }
        if plan.roomId == nil && (plan.location ?? "").trimmingCharacters(in: .whitespaces).isEmpty && plan.platforms.isEmpty {
            problems["location"] = "a room, a location or at least one platform is required"
        }
        if plan.host.accountId.isEmpty { problems["host"] = "an account of the organization" }
        else if !ConferenceRules.isEmail(plan.host.email) { problems["host"] = "the host has no usable email address" }
        let known = Set(MeetingPlatformName.all)
        if plan.platforms.contains(where: { !known.contains($0) }) {
            problems["platforms"] = "each one of \(MeetingPlatformName.all.joined(separator: ", "))"
        } else if Set(plan.platforms).count != plan.platforms.count {
            problems["platforms"] = "no platform twice"
        }
        if let recommended = plan.recommendedPlatform, !plan.platforms.contains(recommended) {
            problems["recommendedPlatform"] = "one of the meeting's platforms"
        } else if plan.recommendedPlatform == nil && plan.platforms.count > 1 {
            problems["recommendedPlatform"] = "required when there is more than one platform"
        }
        if let expected = expectedAttendees {
            if expected < 1 || expected > 100_000 {
                problems["expectedAttendees"] = "1 to 100,000"
            } else if let capacity = roomCapacity, expected > capacity {
                problems["expectedAttendees"] = "the room holds \(capacity) people, \(expected) are expected"
            }
        }
        return problems
    }

    /// Where an online meeting without a room or address is held (the guide's default location).
    static let multiPlatform = "多平台接入 / Multi-platform"

    /// The plan as kept: topic trimmed, a single platform recommended, an online meeting without a
    /// room or address located "multi-platform".
    static func normalized(_ plan: MeetingPlan) -> MeetingPlan {
        var plan = plan
        plan.topic = plan.topic.trimmingCharacters(in: .whitespacesAndNewlines)
        if plan.recommendedPlatform == nil, plan.platforms.count == 1 { plan.recommendedPlatform = plan.platforms[0] }
        let location = plan.location?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        plan.location = location.isEmpty ? nil : location
        if plan.roomId == nil, plan.location == nil, !plan.platforms.isEmpty { plan.location = multiPlatform }
        return plan
    }

    /// Join links in the order attendees see them: the recommended platform first, then the
    /// others in the plan's order; platforms without a link are left out.
    static func ordered(_ links: [MeetingJoinLink], plan: MeetingPlan) -> [MeetingJoinLink] {
        let order = Dictionary(uniqueKeysWithValues: plan.platforms.enumerated().map { ($1, $0) })
        return links.filter { order[$0.platform] != nil }.map { link in
            var link = link
            link.recommended = link.platform == plan.recommendedPlatform
            return link
        }.sorted { a, b in
            if a.recommended != b.recommended { return a.recommended }
            return order[a.platform]! < order[b.platform]!
        }
    }
}

/// The agenda of a meeting: items inside the meeting, each with a topic, none overlapping another.
enum AgendaRules {
    static let maximumItems = 100

    /// Every problem of `items` for a meeting from `startsAt` to `endsAt`, by field
    /// (`items[2].startsAt`); empty when acceptable. Items may come in any order.
    static func problems(_ items: [AgendaItem], startsAt: Date, endsAt: Date) -> [String: String] {
        var problems: [String: String] = [:]
        if items.count > maximumItems { problems["items"] = "at most \(maximumItems) items" }
        for (index, item) in items.enumerated() {
            let field = "items[\(index)]"
            let topic = item.topic.trimmingCharacters(in: .whitespacesAndNewlines)
            if topic.isEmpty || topic.count > 300 { problems["\(field).topic"] = "1 to 300 characters" }
            if let owner = item.owner, owner.count > 200 { problems["\(field).owner"] = "at most 200 characters" }
            if item.endsAt <= item.startsAt {
                problems["\(field).endsAt"] = "after its startsAt"
            } else if item.startsAt < startsAt || item.endsAt > endsAt {
                problems["\(field).startsAt"] = "inside the meeting's time"
            }
        }
        let valid = items.enumerated().filter { problems["items[\($0.offset)].endsAt"] == nil }
            .sorted { ($0.element.startsAt, $0.offset) < ($1.element.startsAt, $1.offset) }
        for (previous, next) in zip(valid, valid.dropFirst()) where next.element.startsAt < previous.element.endsAt {
            problems["items[\(next.offset)].startsAt"] = "overlaps items[\(previous.offset)]"
        }
        return problems
    }

    /// The items in time order, topics trimmed.
    static func normalized(_ items: [AgendaItem]) -> [AgendaItem] {
        items.map { item in
            var item = item
            item.topic = item.topic.trimmingCharacters(in: .whitespacesAndNewlines)
            return item
        }.sorted { $0.startsAt < $1.startsAt }
    }
}

/// The lifecycle of an enterprise meeting: scheduled → live → ended, or scheduled → cancelled.
/// Start and end come from timers and from platforms' webhooks, whichever is first; a repeated
/// or late signal changes nothing. Each of `started` and `ended` is announced once.
enum MeetingLifecycle {
    enum Status: String, Sendable, CaseIterable {
        case scheduled, live, ended, cancelled
    }

    enum Signal: Sendable, Equatable {
        case start, end, cancel, change
    }

    /// What a transition announces.
    enum Announcement: Sendable, Equatable {
        case started, ended
    }

    struct Outcome: Sendable, Equatable {
        var status: Status
        var announcements: [Announcement]
    }

    /// The status after `signal` and what to announce; throws `scheduling.invalid_state` for a
    /// cancellation or change of a meeting that is no longer scheduled.
    static func apply(_ signal: Signal, to status: Status) throws -> Outcome {
        switch (signal, status) {
        case (.start, .scheduled): return Outcome(status: .live, announcements: [.started])
        case (.end, .scheduled): return Outcome(status: .ended, announcements: [.started, .ended])
        case (.end, .live): return Outcome(status: .ended, announcements: [.ended])
        case (.start, _), (.end, _): return Outcome(status: status, announcements: [])
        case (.cancel, .scheduled): return Outcome(status: .cancelled, announcements: [])
        case (.change, .scheduled): return Outcome(status: .scheduled, announcements: [])
        case (.cancel, _), (.change, _):
            let verb = signal == .cancel ? "cancelled" : "changed"
            throw ConveneError(code: "scheduling.invalid_state", message: "a \(status.rawValue) meeting cannot be \(verb)")
        }
    }
}
