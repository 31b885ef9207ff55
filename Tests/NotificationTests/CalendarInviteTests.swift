import Foundation
@testable import Notification
import Testing

@Suite("Calendar invitations (RFC 5545)")
struct CalendarInviteTests {
    static let beijing = TimeZone(identifier: "Asia/Shanghai")!

    func invite(_ method: CalendarInvite.Method = .request, zone: TimeZone? = beijing, summary: String = "2024年Q3产品规划会-市场部") -> CalendarInvite {
        // 2026-12-01 14:00 in Beijing = 06:00 UTC.
        let start = Date(timeIntervalSince1970: 1_796_104_800)
        return CalendarInvite(
            method: method, uid: "meeting-42@convene", sequence: method == .cancel ? 3 : 2, summary: summary,
            description: "议程:\n14:00-14:10 开场致辞; 14:10-14:40 Q3产品规划汇报, 全体讨论\\备注",
            location: "北京 3F 会议室, Room A", joinURL: "https://meeting.example/j/123?pwd=abc",
            start: start, end: start.addingTimeInterval(70 * 60), timeZone: zone,
            organizer: .init(name: "张 经理", email: "host@example.com"),
            attendees: [
                .init(person: .init(name: "李, 总监", email: "li@example.com"), role: .required),
                .init(person: .init(name: nil, email: "wang@example.com"), role: .optional),
                .init(person: .init(name: "Observer \"O\"", email: "obs@example.com"), role: .observer),
            ],
            alarmMinutesBefore: 15, stamp: Date(timeIntervalSince1970: 1_795_339_800))
    }

    /// Unfolds content lines (§3.1) so tests can read whole properties.
    func unfolded(_ ics: String) -> [String] {
        ics.replacingOccurrences(of: "\r\n ", with: "").components(separatedBy: "\r\n").filter { !$0.isEmpty }
    }

    @Test("lines end in CRLF and fold at 75 octets without splitting a character")
    func folding() {
        let ics = invite(summary: String(repeating: "会议纪要与行动项", count: 8)).render()
        #expect(ics.hasSuffix("\r\n"))
        #expect(!ics.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "no bare LF")
        for line in ics.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 75, "\(line)")
        }
        let summary = unfolded(ics).first { $0.hasPrefix("SUMMARY:") }
        #expect(summary == "SUMMARY:" + String(repeating: "会议纪要与行动项", count: 8))
    }

    @Test("text is escaped and names with separators are quoted")
    func escaping() {
        let lines = unfolded(invite().render())
        #expect(lines.contains("DESCRIPTION:议程:\\n14:00-14:10 开场致辞\\; 14:10-14:40 Q3产品规划汇报\\, 全体讨论\\\\备注"))
        #expect(lines.contains("LOCATION:北京 3F 会议室\\, Room A"))
        #expect(lines.contains { $0.hasPrefix("ATTENDEE;CN=\"李, 总监\";") })
        #expect(lines.contains { $0.hasPrefix("ATTENDEE;CN=\"Observer O\";") }, "a double quote cannot appear in a parameter")
    }

    @Test("required, optional and observer attendees get their RFC 5545 roles")
    func roles() {
        let lines = unfolded(invite().render())
        #expect(lines.contains("ATTENDEE;CN=\"李, 总监\";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:li@example.com"))
        #expect(lines.contains("ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:wang@example.com"))
        #expect(lines.contains { $0.contains("ROLE=NON-PARTICIPANT") && $0.contains("RSVP=FALSE") && $0.hasSuffix("mailto:obs@example.com") })
        #expect(lines.contains("ORGANIZER;CN=\"张 经理\":mailto:host@example.com"))
    }

    @Test("times carry the meeting's zone with its VTIMEZONE, or UTC")
    func timeZones() {
        let beijing = unfolded(invite().render())
        #expect(beijing.contains("DTSTART;TZID=Asia/Shanghai:20261201T140000"))
        #expect(beijing.contains("DTEND;TZID=Asia/Shanghai:20261201T151000"))
        #expect(beijing.contains("TZID:Asia/Shanghai"))
        #expect(beijing.contains("TZOFFSETTO:+0800"))
        #expect(beijing.contains("DTSTAMP:20261122T093000Z"))

        let newYork = unfolded(invite(zone: TimeZone(identifier: "America/New_York")!).render())
        #expect(newYork.contains("DTSTART;TZID=America/New_York:20261201T010000"))
        #expect(newYork.contains("BEGIN:DAYLIGHT") && newYork.contains("BEGIN:STANDARD"))
        // 2026-11-01 02:00 EDT → 01:00 EST.
        #expect(newYork.joined(separator: "\n").contains("BEGIN:STANDARD\nDTSTART:20261101T020000\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500"))

        let utc = unfolded(invite(zone: nil).render())
        #expect(utc.contains("DTSTART:20261201T060000Z"))
        #expect(!utc.contains("BEGIN:VTIMEZONE"))
    }

    @Test("a request has an alarm and a stable UID; a cancellation says so with a higher SEQUENCE")
    func requestAndCancel() {
        let request = unfolded(invite().render())
        #expect(request.contains("METHOD:REQUEST"))
        #expect(request.contains("UID:meeting-42@convene"))
        #expect(request.contains("STATUS:CONFIRMED"))
        #expect(request.contains("TRIGGER:-PT15M"))
        #expect(request.contains("URL:https://meeting.example/j/123?pwd=abc"))
        let cancel = unfolded(invite(.cancel).render())
        #expect(cancel.contains("METHOD:CANCEL"))
        #expect(cancel.contains("STATUS:CANCELLED"))
        #expect(cancel.contains("UID:meeting-42@convene"))
        #expect(cancel.contains("SEQUENCE:3"))
        #expect(!cancel.contains("BEGIN:VALARM"))
    }
}
