import Contracts
import Foundation
@testable import Notification
import Testing

/// `conference.reminder`, as registration asks for it (`notification.send` with the conference's
/// title, local start, zone and venue or online platform), rendered as a delivery renders it.
@Suite("Conference reminder message")
struct ConferenceReminderTemplateTests {
    let library: TemplateLibrary

    init() throws {
        library = try TemplateLibrary(directory: RegistrationTemplateTests.root + "/Templates")
    }

    static let title = "2026 全国计算语言学学术会议 <b>&"

    /// The request's data (JSON, as it travels) with the recipient's name added.
    func render(locale: String, venue: String? = "北京国际会议中心 <A> 厅", platform: String? = nil,
                link: String? = nil) throws -> RenderedMessage {
        var data: [String: JSONValue] = ["conferenceId": .string("a1b2c3d4-0000-4000-8000-000000000001"),
                                         "conferenceTitle": .string(Self.title), "conferenceStartLocal": .string("2026-12-01 09:00"),
                                         "timeZone": .string("Asia/Shanghai"), "startsAt": .string("2026-12-01T01:00:00Z")]
        if let venue { data["venue"] = .string(venue) }
        if let platform { data["onlinePlatform"] = .string(platform) }
        if let link { data["link"] = .string(link) }
        let travelled = try ConveneJSON.decode([String: JSONValue].self, from: ConveneJSON.encode(data))
        let plain = travelled.mapValues(\.plain).merging(["recipientName": "王小明"]) { given, _ in given }
        let message = try library.render("conference.reminder", locale: locale, data: plain)
        #expect(message.locale == locale)
        for part in [message.subject, message.text, message.html ?? ""] {
            #expect(!part.contains("{{") && !part.contains("\n\n\n"), "\(locale): \(part)")
        }
        #expect(!message.subject.contains("\n"))
        return message
    }

    @Test("in Chinese: the title, the start in the conference's zone and the venue; HTML escapes the title")
    func chinese() throws {
        let message = try render(locale: "zh-CN")
        #expect(message.subject == "会议提醒：\(Self.title)将于2026-12-01 09:00（Asia/Shanghai）开始")
        #expect(message.text.hasPrefix("王小明，您好："))
        #expect(message.text.contains("「\(Self.title)」将于2026-12-01 09:00（Asia/Shanghai）开始"))
        #expect(message.text.contains("会议地点：北京国际会议中心 <A> 厅"))
        #expect(!message.text.contains("线上参会"))
        let html = try #require(message.html)
        #expect(html.contains("2026 全国计算语言学学术会议 &lt;b&gt;&amp;") && !html.contains("<b>&"))
        #expect(html.contains("北京国际会议中心 &lt;A&gt; 厅"))
    }

    @Test("in English: an online conference names its platform; a link is shown when there is one")
    func englishOnline() throws {
        let message = try render(locale: "en", venue: nil, platform: "tencent", link: "https://convene.example/c/1?a=1&b=2")
        #expect(message.subject == "Reminder: \(Self.title) starts 2026-12-01 09:00 (Asia/Shanghai)")
        #expect(message.text.hasPrefix("Hello 王小明,"))
        #expect(message.text.contains("Online on Tencent Meeting"))
        #expect(!message.text.contains("Venue:"))
        #expect(message.text.contains("Details: https://convene.example/c/1?a=1&b=2"))
        let html = try #require(message.html)
        #expect(html.contains("href=\"https://convene.example/c/1?a=1&amp;b=2\""))
        let zoom = try render(locale: "en", venue: "Hall 1", platform: "zoom")
        #expect(zoom.text.contains("Venue: Hall 1") && zoom.text.contains("Online on Zoom") && !zoom.text.contains("Details:"))
    }

    @Test("both languages are shipped, and a registrant's other locale falls back to them")
    func locales() throws {
        #expect(library.locales["conference.reminder"] == Set(TemplateLibrary.requiredLocales))
        #expect(library.resolveLocale("zh-TW", for: "conference.reminder") == "zh-CN")
        #expect(library.resolveLocale("fr", for: "conference.reminder") == "en")
    }
}
