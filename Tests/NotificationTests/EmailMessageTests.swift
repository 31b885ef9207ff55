import Foundation
import HTTPClient
@testable import Notification
import Testing
import TestSupport

@Suite("MIME email")
struct EmailMessageTests {
    func message(calendar: Bool = true) -> EmailMessage {
        EmailMessage(
            from: Mailbox(name: "Convene 会议助手", address: "noreply@convene.example"),
            to: [Mailbox(name: "李总监", address: "li@example.com"), Mailbox(name: nil, address: "wang@example.com")],
            replyTo: Mailbox(name: "Organizer", address: "host@example.com"),
            subject: "会议邀请：2024年Q3产品规划会-市场部（12月1日 14:00，北京时间）",
            text: "您好，\n请参加会议。\n.\n以点开头的一行",
            html: "<p>您好，请参加<b>会议</b>。</p>",
            calendar: calendar ? (ics: "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n", method: "REQUEST") : nil,
            attachments: [.init(filename: "议程.pdf", contentType: "application/pdf", data: [0x25, 0x50, 0x44, 0x46, 0, 1, 2])],
            messageID: "\(UUID().uuidString.lowercased())@convene.example",
            date: Date(timeIntervalSince1970: 1_795_339_800))
    }

    @Test("headers are ASCII, encoded words stay within 75 characters, lines within 998 octets")
    func headers() {
        let text = String(decoding: message().render(), as: UTF8.self)
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        #expect(head.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(head.contains("Date: Sun, 22 Nov 2026 09:30:00 +0000"))
        #expect(head.contains("MIME-Version: 1.0"))
        for word in head.split(whereSeparator: { $0 == " " || $0 == "\r" || $0 == "\n" }) where word.hasPrefix("=?UTF-8?B?") {
            #expect(word.count <= 75)
        }
        for line in text.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 998) }
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "CRLF only")
    }

    @Test("addresses with spaces, brackets or line breaks are refused")
    func addressValidation() {
        #expect(Mailbox.isValid("li@example.com"))
        #expect(!Mailbox.isValid("li@example"))
        #expect(!Mailbox.isValid("li example@example.com"))
        #expect(!Mailbox.isValid("li@example.com\r\nBcc: x@y.z"))
        #expect(!Mailbox.isValid("<li@example.com>"))
        #expect(!Mailbox.isValid("@example.com"))
    }

    @Test("a Chinese-subject email with text, HTML and an .ics arrives over SMTP and parses")
    func arrivesAndParses() async throws {
        let smtp = try TestStack.environment("SMTP_URL")
        let maildir = try TestStack.environment("CONVENE_MAILDIR")
        let email = message()
        try await SMTPClient(url: smtp).send(from: email.from.address, recipients: email.to.map(\.address), message: email.render())

        // Find it by Message-ID, then let Python's email package (an independent parser) read it.
        var file: String?
        for _ in 0..<100 where file == nil {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: maildir + "/new")) ?? []
            file = names.map { maildir + "/new/" + $0 }.first {
                ((try? String(contentsOfFile: $0, encoding: .utf8)) ?? "").contains(email.messageID)
            }
            if file == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let path = try #require(file, "the message did not arrive in \(maildir)")
        let script = """
            import email, email.policy, json, sys
            m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
            parts = [(p.get_content_type(), p.get_filename(), p.get_param('method')) for p in m.walk()]
            body = {p.get_content_type(): p.get_content() for p in m.walk() if p.get_content_maintype() == 'text'}
            print(json.dumps({"subject": str(m['subject']), "from": str(m['from']), "to": str(m['to']),
                              "parts": parts, "text": body.get('text/plain'), "html": body.get('text/html'),
                              "calendar": body.get('text/calendar'),
                              "defects": [str(d) for p in m.walk() for d in p.defects]}, ensure_ascii=False))
            """
        let output = "/tmp/convene-mime-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = await Command.run(["/usr/bin/python3", "-c", script, path], output: output)
        let json = try #require(FileManager.default.contents(atPath: output))
        #expect(status == 0, "\(String(decoding: json, as: UTF8.self))")
        struct Parsed: Decodable {
            var subject: String, from: String, to: String, text: String?, html: String?, calendar: String?
            var parts: [[String?]], defects: [String]
        }
        let parsed = try JSONDecoder().decode(Parsed.self, from: json)
        #expect(parsed.subject == email.subject)
        #expect(parsed.from == "Convene 会议助手 <noreply@convene.example>")
        #expect(parsed.to.contains("李总监 <li@example.com>"))
        #expect(parsed.text == "您好，\r\n请参加会议。\r\n.\r\n以点开头的一行", "line ends become CRLF; the dot line survives")
        #expect(parsed.html == "<p>您好，请参加<b>会议</b>。</p>")
        #expect(parsed.calendar?.contains("METHOD:REQUEST") == true)
        #expect(parsed.defects.isEmpty, "\(parsed.defects)")
        let types = parsed.parts.map { $0[0] ?? "" }
        #expect(types == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar",
                          "application/ics", "application/pdf"])
        #expect(parsed.parts.contains { $0[0] == "text/calendar" && $0[2] == "REQUEST" })
        #expect(parsed.parts.contains { $0[1] == "invite.ics" })
        #expect(parsed.parts.contains { $0[1] == "议程.pdf" })
    }
}
