import Foundation
@testable import Notification
import Testing

@Suite("Message templates")
struct TemplateTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Services/Notification/Templates").standardized.path

    let data: [String: Any] = [
        "recipientName": "李总监", "organizerName": "张经理", "topic": "Q3 规划 <script>&",
        "startLocal": "2026-12-01 14:00", "endLocal": "2026-12-01 15:10", "timeZone": "Asia/Shanghai",
        "location": "北京 3F 会议室", "role": "必参会",
        "joinLinks": [["platform": "腾讯会议", "url": "https://meeting.example/j/1?a=1&b=2", "recommended": true],
                      ["platform": "Zoom", "url": "https://zoom.example/j/2", "recommended": false]],
        "agenda": [["time": "14:00-14:10", "topic": "开场致辞", "owner": "*总监"]],
    ]

    @Test("every template has a subject and a text part in zh-CN and in en")
    func everyTemplateIsBilingual() throws {
        let library = try TemplateLibrary(directory: Self.directory)
        #expect(!library.locales.isEmpty)
        for (key, locales) in library.locales {
            for required in TemplateLibrary.requiredLocales {
                #expect(locales.contains(required), "\(key) lacks \(required)")
            }
        }
    }

    @Test("the invitation renders in Chinese with links, the recommended platform first-class, and agenda")
    func chineseInvitation() throws {
        let message = try TemplateLibrary(directory: Self.directory).render("meeting.invitation", locale: "zh-CN", data: data)
        #expect(message.locale == "zh-CN")
        #expect(message.subject == "会议邀请：Q3 规划 <script>&（2026-12-01 14:00）", "subjects are plain text, not HTML-escaped")
        #expect(message.text.contains("- 腾讯会议（推荐）：https://meeting.example/j/1?a=1&b=2"))
        #expect(message.text.contains("- Zoom：https://zoom.example/j/2"))
        #expect(!message.text.contains("Zoom（推荐）"))
        #expect(message.text.contains("议程：\n- 14:00-14:10 开场致辞（*总监）"))
        let html = try #require(message.html)
        #expect(html.contains("Q3 规划 &lt;script&gt;&amp;"), "HTML bodies escape values")
        #expect(!html.contains("<script>"))
    }

    @Test("the host's rehearsal reminder renders in both languages with each join link's number and password, and the agenda")
    func rehearsal() throws {
        var rehearsal = data
        rehearsal["joinLinks"] = [["platform": "tencent", "url": "https://meeting.example/j/1", "meetingNumber": "888 123",
                                   "password": "2026", "recommended": true]]
        rehearsal["materials"] = [["name": "预算.xlsx"]]
        let library = try TemplateLibrary(directory: Self.directory)
        let chinese = try library.render("meeting.rehearsal", locale: "zh-CN", data: rehearsal)
        #expect(chinese.subject == "彩排提醒：您主持的「Q3 规划 <script>&」将于 2026-12-01 14:00 开始")
        #expect(chinese.text.contains("- tencent（推荐）：https://meeting.example/j/1（会议号 888 123），密码 2026"))
        #expect(chinese.text.contains("议程：\n- 14:00-14:10 开场致辞（*总监）") && chinese.text.contains("- 预算.xlsx"))
        let english = try library.render("meeting.rehearsal", locale: "en", data: rehearsal)
        #expect(english.text.contains("You host \"Q3 规划 <script>&\", which starts in an hour: 2026-12-01 14:00 (Asia/Shanghai), 北京 3F 会议室."))
        #expect(try #require(english.html).contains("Q3 规划 &lt;script&gt;&amp;"))
    }

    @Test("headings for empty lists are left out")
    func emptyLists() throws {
        var sparse = data
        sparse["joinLinks"] = [Any]()
        sparse["agenda"] = [Any]()
        let message = try TemplateLibrary(directory: Self.directory).render("meeting.invitation", locale: "en", data: sparse)
        #expect(!message.text.contains("Join:"))
        #expect(!message.text.contains("Agenda:"))
        #expect(message.text.contains("When: 2026-12-01 14:00 – 2026-12-01 15:10 (Asia/Shanghai)"))
    }

    @Test("a locale falls back to its language, then to English")
    func localeFallback() throws {
        let library = try TemplateLibrary(directory: Self.directory)
        #expect(library.resolveLocale("zh-CN", for: "meeting.invitation") == "zh-CN")
        #expect(library.resolveLocale("zh", for: "meeting.invitation") == "zh-CN")
        #expect(library.resolveLocale("zh-TW", for: "meeting.invitation") == "zh-CN")
        #expect(library.resolveLocale("en-GB", for: "meeting.invitation") == "en")
        #expect(library.resolveLocale("fr", for: "meeting.invitation") == "en")
        #expect(library.resolveLocale(nil, for: "meeting.invitation") == "en")
        #expect(throws: TemplateLibrary.Missing(key: "no.such")) { try library.render("no.such", locale: "en", data: [:]) }
    }
}
