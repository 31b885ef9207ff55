import Foundation

/// A mailbox as it appears in a header: an optional display name and an address.
struct Mailbox: Sendable, Equatable {
    var name: String?
    var address: String

    /// A deliberately plain check (one `@`, a dotted domain, no spaces or controls): enough to
    /// refuse typos and header injection; the receiving server has the last word.
    static func isValid(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
              !parts[1].hasSuffix("."), address.utf8.count <= 254 else { return false }
        return address.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7f && !"<>()[]\\,;:\"".unicodeScalars.contains($0) }
    }

    var header: String {
        guard let name, !name.isEmpty else { return "<\(address)>" }
        return "\(EmailMessage.encodedWords(name)) <\(address)>"
    }
}

/// A MIME email (RFC 5322 / 2045–2049): plain text always, HTML when given, an inline calendar
/// part (`text/calendar; method=…`) for invitations, attachments. Non-ASCII header text is
/// written as RFC 2047 encoded words, bodies as base64, so any server carries it unchanged.
struct EmailMessage: Sendable {
    struct Attachment: Sendable, Equatable {
        var filename: String
        var contentType: String
        var data: [UInt8]
    }

    var from: Mailbox
    var to: [Mailbox]
    var replyTo: Mailbox?
    var subject: String
    var text: String
    var html: String?
    /// The invitation, sent both inline (so clients show accept/decline) and as `invite.ics`.
    var calendar: (ics: String, method: String)?
    var attachments: [Attachment] = []
    var messageID: String
    var date: Date

    /// The message as bytes for SMTP: CRLF line ends, no line longer than 998 octets.
    func render() -> [UInt8] {
        var headers = [
            "From: \(from.header)",
            "To: " + to.map(\.header).joined(separator: ",\r\n "),
        ]
        if let replyTo { headers.append("Reply-To: \(replyTo.header)") }
        headers += [
            "Subject: \(Self.encodedWords(subject))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
        ]
        let body = rootPart()
        return Array((headers.joined(separator: "\r\n") + "\r\n" + body).utf8)
    }

    private func rootPart() -> String {
        var alternatives = [Self.textPart("text/plain; charset=utf-8", text)]
        if let html { alternatives.append(Self.textPart("text/html; charset=utf-8", html)) }
        if let calendar {
            alternatives.append(Self.textPart("text/calendar; charset=utf-8; method=\(calendar.method)", calendar.ics))
        }
        let content = alternatives.count == 1 ? alternatives[0] : Self.multipart("alternative", alternatives)
        var files = attachments
        if let calendar {
            files.insert(Attachment(filename: "invite.ics", contentType: "application/ics", data: Array(calendar.ics.utf8)), at: 0)
        }
        guard !files.isEmpty else { return content }
        return Self.multipart("mixed", [content] + files.map(Self.attachmentPart))
    }

    static func textPart(_ contentType: String, _ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        return "Content-Type: \(contentType)\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(Array(normalized.utf8))
    }

    static func attachmentPart(_ attachment: Attachment) -> String {
        let name = encodedWords(attachment.filename)
        return "Content-Type: \(attachment.contentType); name=\"\(name)\"\r\n"
            + "Content-Disposition: attachment; filename=\"\(name)\"\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\n" + base64(attachment.data)
    }

    static func multipart(_ subtype: String, _ parts: [String]) -> String {
        // Random and long: it cannot occur in base64 bodies or in the other headers.
        let boundary = "=_convene_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        var out = "Content-Type: multipart/\(subtype); boundary=\"\(boundary)\"\r\n\r\n"
        for part in parts { out += "--\(boundary)\r\n\(part)\r\n" }
        return out + "--\(boundary)--\r\n"
    }

    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]) + "\r\n"
    }

    /// RFC 2047 `=?UTF-8?B?…?=` words, each at most 75 characters and never splitting a
    /// character, joined by folding whitespace. Plain ASCII without specials is left as it is.
    static func encodedWords(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f }
            && !text.contains("=?") && !text.contains("\"")
        if plain { return text }
        // 75 − len("=?UTF-8?B?" + "?=") = 63 base64 characters → 45 bytes of text per word.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `Sun, 22 Nov 2026 09:30:00 +0000`, in English whatever the locale.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { let text = String(value ?? 0); return text.count == 1 ? "0" + text : text }
        return "\(days[(c.weekday ?? 1) - 1]), \(two(c.day)) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970) "
            + "\(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }
}
