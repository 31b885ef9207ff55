import Contracts
import Foundation

/// An iCalendar (RFC 5545) invitation or cancellation for one meeting.
///
/// The `uid` stays the same for the life of a meeting and `sequence` grows with every change, so
/// calendar clients update the event they already have instead of adding another.
struct CalendarInvite: Sendable, Equatable {
    enum Method: String, Sendable { case request = "REQUEST", cancel = "CANCEL" }

    /// Required, optional and observer attendees (design: ROLE=REQ-/OPT-/NON-PARTICIPANT).
    enum Role: String, Sendable {
        case required = "REQ-PARTICIPANT"
        case optional = "OPT-PARTICIPANT"
        case observer = "NON-PARTICIPANT"
    }

    struct Person: Sendable, Equatable {
        var name: String?
        var email: String
    }

    struct Attendee: Sendable, Equatable {
        var person: Person
        var role: Role
    }

    var method: Method
    var uid: String
    var sequence: Int
    var summary: String
    var description: String?
    var location: String?
    var joinURL: String?
    var start: Date
    var end: Date
    /// The IANA zone the meeting was entered in; nil writes the times in UTC.
    var timeZone: TimeZone?
    var organizer: Person
    var attendees: [Attendee]
    /// Minutes before the start at which clients remind; nil for no alarm.
    var alarmMinutesBefore: Int?
    /// When this version of the invitation was made (DTSTAMP).
    var stamp: Date

    /// The calendar as text with CRLF line ends and lines folded at 75 octets.
    func render() -> String {
        var lines = ["BEGIN:VCALENDAR", "PRODID:-//Convene//Convene//EN", "VERSION:2.0", "CALSCALE:GREGORIAN",
                     "METHOD:\(method.rawValue)"]
        if let timeZone, timeZone.identifier != "GMT", timeZone.identifier != "UTC" {
            lines += Self.vtimezone(timeZone, covering: start, end)
        }
        lines += ["BEGIN:VEVENT",
                  "UID:\(Self.text(uid))",
                  "SEQUENCE:\(sequence)",
                  "DTSTAMP:\(Self.utc(stamp))",
                  dateProperty("DTSTART", start),
                  dateProperty("DTEND", end),
                  "SUMMARY:\(Self.text(summary))"]
        if let description { lines.append("DESCRIPTION:\(Self.text(description))") }
        if let location { lines.append("LOCATION:\(Self.text(location))") }
        if let joinURL { lines.append("URL:\(joinURL)") }
        lines.append("ORGANIZER\(Self.commonName(organizer.name)):mailto:\(organizer.email)")
        for attendee in attendees {
            let rsvp = attendee.role == .observer ? "FALSE" : "TRUE"
            lines.append("ATTENDEE\(Self.commonName(attendee.person.name));CUTYPE=INDIVIDUAL;ROLE=\(attendee.role.rawValue);"
                         + "PARTSTAT=NEEDS-ACTION;RSVP=\(rsvp):mailto:\(attendee.person.email)")
        }
        lines.append("STATUS:\(method == .cancel ? "CANCELLED" : "CONFIRMED")")
        if let alarmMinutesBefore, method == .request {
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:\(Self.text(summary))",
                      "TRIGGER:-PT\(alarmMinutesBefore)M", "END:VALARM"]
        }
        lines += ["END:VEVENT", "END:VCALENDAR"]
        return lines.map(Self.fold).joined(separator: "\r\n") + "\r\n"
    }

    private func dateProperty(_ name: String, _ date: Date) -> String {
        guard let timeZone, timeZone.identifier != "GMT", timeZone.identifier != "UTC" else {
            return "\(name):\(Self.utc(date))"
        }
        return "\(name);TZID=\(timeZone.identifier):\(Self.local(date, in: timeZone))"
    }

    // MARK: - Values

    /// TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines.
    static func text(_ value: String) -> String {
        var out = ""
        for char in value.replacingOccurrences(of: "\r\n", with: "\n") {
            switch char {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\n", "\r": out += "\\n"
            default: out.append(char)
            }
        }
        return out
    }

    /// `;CN="…"`: quoted because names may hold `,` `;` `:`; DQUOTE and controls cannot appear.
    static func commonName(_ name: String?) -> String {
        guard let name, !name.isEmpty else { return "" }
        let cleaned = String(name.unicodeScalars.filter { $0 != "\"" && $0.value >= 0x20 && $0.value != 0x7f }.map(Character.init))
        return ";CN=\"\(cleaned)\""
    }

    static func utc(_ date: Date) -> String {
        local(date, in: TimeZone(identifier: "UTC")!) + "Z"
    }

    static func local(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(c.year, 4))\(pad(c.month, 2))\(pad(c.day, 2))T\(pad(c.hour, 2))\(pad(c.minute, 2))\(pad(c.second, 2))"
    }

    static func offset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let minutes = abs(seconds) / 60
        let hh = String(minutes / 60), mm = String(minutes % 60)
        return sign + String(repeating: "0", count: 2 - hh.count) + hh + String(repeating: "0", count: 2 - mm.count) + mm
    }

    /// Content lines longer than 75 octets continue on lines starting with a space (§3.1),
    /// never splitting a UTF-8 sequence.
    static func fold(_ line: String) -> String {
        var pieces: [String] = []
        var current = ""
        var octets = 0
        for scalar in line.unicodeScalars {
            let size = String(scalar).utf8.count
            let limit = pieces.isEmpty ? 75 : 74
            if octets + size > limit {
                pieces.append(current)
                current = ""
                octets = 0
            }
            current.unicodeScalars.append(scalar)
            octets += size
        }
        pieces.append(current)
        return pieces.joined(separator: "\r\n ")
    }

    // MARK: - VTIMEZONE

    /// The zone's observances around the meeting: every UTC-offset change from a year before the
    /// start to a year after the end, so a client without the zone's rules still shows the right
    /// local time. A zone without changes gets one STANDARD observance.
    static func vtimezone(_ zone: TimeZone, covering start: Date, _ end: Date) -> [String] {
        var lines = ["BEGIN:VTIMEZONE", "TZID:\(zone.identifier)"]
        let from = start.addingTimeInterval(-366 * 86_400)
        let until = end.addingTimeInterval(366 * 86_400)
        var transitions: [Date] = []
        var cursor = from
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next < until, transitions.count < 16 {
            transitions.append(next)
            cursor = next
        }
        if transitions.isEmpty {
            let offset = zone.secondsFromGMT(for: start)
            lines += ["BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:\(Self.offset(offset))",
                      "TZOFFSETTO:\(Self.offset(offset))"]
            if let name = zone.abbreviation(for: start) { lines.append("TZNAME:\(Self.text(name))") }
            lines.append("END:STANDARD")
        } else {
            for transition in transitions {
                let before = zone.secondsFromGMT(for: transition.addingTimeInterval(-1))
                let after = zone.secondsFromGMT(for: transition)
                let kind = zone.isDaylightSavingTime(for: transition) ? "DAYLIGHT" : "STANDARD"
                // DTSTART of an observance is the local time, in the offset before the change.
                let onset = local(transition, in: TimeZone(secondsFromGMT: before)!)
                lines += ["BEGIN:\(kind)", "DTSTART:\(onset)", "TZOFFSETFROM:\(Self.offset(before))",
                          "TZOFFSETTO:\(Self.offset(after))"]
                if let name = zone.abbreviation(for: transition) { lines.append("TZNAME:\(Self.text(name))") }
                lines.append("END:\(kind)")
            }
        }
        lines.append("END:VTIMEZONE")
        return lines
    }
}

extension CalendarInvite {
    /// What is wrong with a requested calendar attachment, if anything.
    static func problem(in event: CalendarEvent) -> String? {
        guard ["request", "cancel"].contains(event.method) else { return "calendar method is request or cancel" }
        guard !event.uid.isEmpty, event.sequence >= 0 else { return "calendar uid is required and sequence is not negative" }
        guard event.end > event.start else { return "calendar end must be after start" }
        if let zone = event.timeZone, TimeZone(identifier: zone) == nil { return "unknown time zone \(zone)" }
        guard Mailbox.isValid(event.organizer.email) else { return "calendar organizer needs an email address" }
        for attendee in event.attendees {
            guard Role(contract: attendee.role) != nil else { return "attendee role is required, optional or observer" }
            guard Mailbox.isValid(attendee.email) else { return "attendee \(attendee.email) is not an email address" }
        }
        return nil
    }

    /// The invitation for a requested calendar attachment (already checked by `problem(in:)`).
    init(_ event: CalendarEvent, stamp: Date) {
        self.init(method: event.method == "cancel" ? .cancel : .request, uid: event.uid, sequence: event.sequence,
                  summary: event.summary, description: event.description, location: event.location,
                  joinURL: event.joinUrl, start: event.start, end: event.end,
                  timeZone: event.timeZone.flatMap(TimeZone.init(identifier:)),
                  organizer: Person(name: event.organizer.name, email: event.organizer.email),
                  attendees: event.attendees.map {
                      Attendee(person: Person(name: $0.name, email: $0.email), role: Role(contract: $0.role) ?? .optional)
                  },
                  alarmMinutesBefore: event.alarmMinutesBefore, stamp: stamp)
    }
}

extension CalendarInvite.Role {
    init?(contract: String) {
        switch contract {
        case "required": self = .required
        case "optional": self = .optional
        case "observer": self = .observer
        default: return nil
        }
    }
}
