import Contracts
import Foundation

/// The credential of an invitation mail's answer link: 32 random bytes, base64url. Compared in
/// constant time.
enum RSVPToken {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func matches(_ given: String, _ stored: String) -> Bool {
        let a = Array(given.utf8), b = Array(stored.utf8)
        guard a.count == b.count, !b.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// What attendees of an enterprise meeting are sent, as `notification.send` requests: the
/// invitation (with a calendar entry, METHOD:REQUEST, its SEQUENCE the meeting's), the updated
/// invitation after a change, the cancellation (METHOD:CANCEL), the reminders before the start
/// and the request to answer sent to required attendees who have not.
///
/// Each mail names one attendee: their role in the calendar entry, their own answer link. The
/// calendar UID is the meeting's for its whole life (`<meetingId>@meetings.convene`), so a
/// calendar updates the entry it has. Every request carries an idempotency key naming the
/// meeting, the attendee (or the reminder's timer and chunk) and the version, so a redelivered
/// event never mails twice.
struct MeetingNotices: Sendable {
    /// The gateway's public base URL: answer links are `<it>/v1/meeting-invitations/{attendeeId}?token=…`.
    var publicURL: String

    static let invitationTemplate = "meeting.invitation"
    static let updateTemplate = "meeting.invitation_updated"
    static let cancellationTemplate = "meeting.invitation_cancelled"
    static let reminderTemplate = "meeting.reminder"
    static let rsvpRequestTemplate = "meeting.rsvp_request"
    static let invitationCategory = "meeting.invitation"
    static let reminderCategory = "meeting.reminder"
    static let chunkSize = 500

    enum Kind: Equatable {
        /// The first invitation.
        case invitation
        /// After a change of the meeting (a new sequence) or its join links (`links`).
        case update(links: Bool)
        /// The attendee's role changed (their calendar entry's ROLE with it).
        case roleChanged
        /// The meeting was cancelled, or the attendee removed from it.
        case cancellation(removed: Bool)
    }

    static func uid(_ meeting: MeetingRecord) -> String { "\(meeting.id.lowercased)@meetings.convene" }

    func rsvpLink(_ attendee: AttendeeRecord) -> String {
        "\(publicURL)/v1/meeting-invitations/\(attendee.id.lowercased)?token=\(attendee.rsvpToken)"
    }

    /// The join links, the recommended platform first, then in the plan's order of platforms.
    static func joinLinks(_ meeting: MeetingRecord, _ links: [JoinLinkRecord]) -> [MeetingJoinLink] {
        let order = meeting.plan.platforms
        let recommended = meeting.plan.recommendedPlatform
        return links.sorted { a, b in
            if (a.platform == recommended) != (b.platform == recommended) { return a.platform == recommended }
            let ia = order.firstIndex(of: a.platform) ?? order.count, ib = order.firstIndex(of: b.platform) ?? order.count
            return ia != ib ? ia < ib : a.platform < b.platform
        }.map {
            MeetingJoinLink(platform: $0.platform, joinUrl: $0.url, meetingNumber: $0.meetingNumber, password: $0.password,
                            recommended: $0.platform == recommended)
        }
    }

    /// The calendar entry's link: the recommended platform's, or without a recommendation the
    /// plan's first platform's; none until that one is provisioned. Platforms answer in any
    /// order, and taking whichever came first would send attendees an updated invitation for
    /// every link that overtakes the one before.
    static func primaryJoinURL(_ meeting: MeetingRecord, _ links: [JoinLinkRecord]) -> String? {
        guard let designated = meeting.plan.recommendedPlatform ?? meeting.plan.platforms.first else { return nil }
        return links.first { $0.platform == designated }?.url
    }

    static let platformNames = ["zoom": "Zoom", "tencent": "腾讯会议 Tencent Meeting", "dingtalk": "钉钉 DingTalk"]

    static func roleLabel(_ role: String, locale: String) -> String {
        let chinese = locale.lowercased().hasPrefix("zh")
        switch role {
        case AttendeeRole.required: return chinese ? "必选参会" : "required"
        case AttendeeRole.optional: return chinese ? "可选参会" : "optional"
        default: return chinese ? "列席（仅查看议程，无发言权）" : "observer (sees the agenda, no speaking rights)"
        }
    }

    /// `2026-12-01 09:00` on the wall clock of `zone`.
    static func local(_ date: Date, _ zone: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: zone) ?? .gmt
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    /// The agenda and the materials' names as scheduling read them when the reminder fell due
    /// (registration keeps no copy of either): `agenda` items with `time` (`14:00–14:30` on the
    /// meeting's wall clock), `topic` and `owner`; `materials` with `name`.
    static func agendaData(_ reminder: ReminderDue, zone: String) -> [String: JSONValue] {
        var data: [String: JSONValue] = [:]
        if let agenda = reminder.agenda, !agenda.isEmpty {
            data["agenda"] = .array(agenda.map { item in
                var entry: [String: JSONValue] = ["time": .string(clock(item.startsAt, zone) + "–" + clock(item.endsAt, zone)),
                                                  "topic": .string(item.topic)]
                if let owner = item.owner { entry["owner"] = .string(owner) }
                return .object(entry)
            })
        }
        if let materials = reminder.materials, !materials.isEmpty {
            data["materials"] = .array(materials.map { .object(["name": .string($0)]) })
        }
        return data
    }

    /// `14:00`: the time of day on the wall clock of `zone`.
    static func clock(_ date: Date, _ zone: String) -> String {
        String(local(date, zone).suffix(5))
    }

    static func locale(_ attendee: AttendeeRecord, _ meeting: MeetingRecord) -> String {
        attendee.locale ?? meeting.plan.host.locale ?? "zh-CN"
    }

    /// What every mail about the meeting says of it.
    static func meetingData(_ meeting: MeetingRecord, _ links: [JoinLinkRecord]) -> [String: JSONValue] {
        let plan = meeting.plan
        var data: [String: JSONValue] = [
            "meetingId": .string(meeting.id.lowercased), "type": .string(plan.type), "topic": .string(plan.topic),
            "startLocal": .string(local(plan.startsAt, plan.timeZone)), "endLocal": .string(local(plan.endsAt, plan.timeZone)),
            "timeZone": .string(plan.timeZone), "startsAt": .string(ISO8601.format(plan.startsAt)),
            "organizerName": .string(plan.host.name), "sequence": .number(Double(meeting.sequence)),
            "joinLinks": .array(joinLinks(meeting, links).map { link in
                var item: [String: JSONValue] = ["platform": .string(platformNames[link.platform] ?? link.platform), "url": .string(link.joinUrl),
                                                 "recommended": .bool(link.recommended)]
                if let number = link.meetingNumber { item["meetingNumber"] = .string(number) }
                if let password = link.password { item["password"] = .string(password) }
                return .object(item)
            }),
        ]
        if let description = plan.description { data["description"] = .string(description) }
        if let location = plan.location { data["location"] = .string(location) }
        if let reason = meeting.cancelReason { data["reason"] = .string(reason) }
        return data
    }

    static func recipient(_ attendee: AttendeeRecord) -> SendNotification.Recipient {
        .init(email: attendee.email, name: attendee.name, locale: attendee.locale)
    }

    /// The calendar entry of one attendee's mail.
    static func calendar(_ meeting: MeetingRecord, _ attendee: AttendeeRecord, links: [JoinLinkRecord], cancel: Bool) -> CalendarEvent {
        let plan = meeting.plan
        var description = plan.description ?? ""
        for link in joinLinks(meeting, links) {
            description += (description.isEmpty ? "" : "\n") + "\(platformNames[link.platform] ?? link.platform): \(link.joinUrl)"
                + (link.meetingNumber.map { " (\($0))" } ?? "")
        }
        return CalendarEvent(method: cancel ? "cancel" : "request", uid: uid(meeting), sequence: meeting.sequence, summary: plan.topic,
                             description: description.isEmpty ? nil : description, location: plan.location,
                             joinUrl: primaryJoinURL(meeting, links), start: plan.startsAt, end: plan.endsAt, timeZone: plan.timeZone,
                             organizer: .init(name: plan.host.name, email: plan.host.email),
                             attendees: [.init(name: attendee.name, email: attendee.email, role: attendee.role)])
    }

    /// One attendee's invitation, updated invitation or cancellation.
    func notice(_ kind: Kind, meeting: MeetingRecord, attendee: AttendeeRecord, links: [JoinLinkRecord]) -> SendNotification {
        let locale = Self.locale(attendee, meeting)
        var data = Self.meetingData(meeting, links)
        data["role"] = .string(Self.roleLabel(attendee.role, locale: locale))
        data["roleCode"] = .string(attendee.role)
        let template: String
        let key: String
        var cancel = false
        let base = "\(meeting.id.lowercased):\(attendee.id.lowercased):\(meeting.sequence)"
        switch kind {
        case .invitation:
            template = Self.invitationTemplate
            key = "meeting.invitation:\(base)"
        case .update(let linksChanged):
            template = Self.updateTemplate
            key = "meeting.invitation_updated:\(base)"
                + (linksChanged ? ":links:" + Self.fingerprint(Self.primaryJoinURL(meeting, links) ?? "") : "")
        case .roleChanged:
            template = Self.updateTemplate
            let micros = Int64((attendee.updatedAt.timeIntervalSince1970 * 1_000_000).rounded())
            key = "meeting.invitation_updated:\(base):role:\(attendee.role):\(micros)"
        case .cancellation(let removed):
            template = Self.cancellationTemplate
            key = "meeting.invitation_cancelled:\(base)" + (removed ? ":removed" : "")
            cancel = true
            data["removed"] = .bool(removed)
        }
        if !cancel {
            data["rsvpLink"] = .string(rsvpLink(attendee))
            data["response"] = .string(attendee.response)
            // Required attendees are asked to answer; the others may.
            data["answerRequested"] = .bool(attendee.role == AttendeeRole.required && attendee.response == AttendeeResponse.pending)
        }
        return SendNotification(idempotencyKey: key, category: Self.invitationCategory, transactional: true, templateKey: template,
                                data: data, recipients: [Self.recipient(attendee)], channels: ["email"], locale: locale,
                                attachments: [.calendar(Self.calendar(meeting, attendee, links: links, cancel: cancel))])
    }

    /// FNV-1a (64 bits) in hex: a short, stable name for a join link in an idempotency key.
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// The reminder before the start (`reminder_24h`, `reminder_1h`) to every attendee who has
    /// not declined, in requests of at most `chunkSize` recipients whose keys name the timer
    /// and the chunk.
    func reminders(_ reminder: ReminderDue, meeting: MeetingRecord, attendees: [AttendeeRecord], links: [JoinLinkRecord],
                   chunkSize: Int = chunkSize) -> [SendNotification] {
        let people = attendees.filter { $0.response != AttendeeResponse.declined }
        guard chunkSize > 0, !people.isEmpty else { return [] }
        var data = Self.meetingData(meeting, links)
        data["kind"] = .string(reminder.kind)
        data.merge(Self.agendaData(reminder, zone: meeting.plan.timeZone)) { _, fromTimer in fromTimer }
        let locale = meeting.plan.host.locale ?? "zh-CN"
        return stride(from: 0, to: people.count, by: chunkSize).map { start in
            let chunk = people[start..<min(start + chunkSize, people.count)]
            return SendNotification(idempotencyKey: "meeting.reminder:\(reminder.timerId):\(start / chunkSize)",
                                    category: Self.reminderCategory, transactional: false, templateKey: Self.reminderTemplate,
                                    data: data, recipients: chunk.map(Self.recipient), channels: ["email"], locale: locale)
        }
    }

    /// The request to answer, with the attendee's own link, to each required attendee who has
    /// not answered yet (sent with every reminder before the start, the 24-hour one at the latest).
    func rsvpRequests(_ reminder: ReminderDue, meeting: MeetingRecord, attendees: [AttendeeRecord],
                      links: [JoinLinkRecord]) -> [SendNotification] {
        attendees.filter { $0.role == AttendeeRole.required && $0.response == AttendeeResponse.pending }.map { attendee in
            var data = Self.meetingData(meeting, links)
            data["kind"] = .string(reminder.kind)
            data["rsvpLink"] = .string(rsvpLink(attendee))
            data["role"] = .string(Self.roleLabel(attendee.role, locale: Self.locale(attendee, meeting)))
            return SendNotification(idempotencyKey: "meeting.rsvp_request:\(reminder.timerId):\(attendee.id.lowercased)",
                                    category: Self.reminderCategory, transactional: false, templateKey: Self.rsvpRequestTemplate,
                                    data: data, recipients: [Self.recipient(attendee)], channels: ["email"],
                                    locale: Self.locale(attendee, meeting))
        }
    }

    /// Whether a reminder is still worth sending at `now`: not for a cancelled meeting, nor one
    /// that has started (caught up on too late), nor a timer that is no reminder.
    static func shouldRemind(_ reminder: ReminderDue, meeting: MeetingRecord, now: Date) -> Bool {
        reminder.kind.hasPrefix("reminder_") && !meeting.cancelled && now < meeting.plan.startsAt
    }

    /// The enterprise meeting kinds registration keeps attendees for.
    static let kinds: Set<String> = ["internal", "client", "large_event"]
}
