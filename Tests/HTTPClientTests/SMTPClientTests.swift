import Foundation
import Testing
import HTTPClient

@Suite("SMTPClient")
struct SMTPClientTests {
    @Test("a UTF-8 message with a dot-leading line arrives intact in the test Maildir")
    func utf8MessageArrives() async throws {
        let url = try #require(TestEnvironment.value("SMTP_URL"), "SMTP_URL is not set: run through make test")
        let maildir = try #require(TestEnvironment.value("CONVENE_MAILDIR"), "CONVENE_MAILDIR is not set: run through make test")
        let messageID = "<\(UUID().uuidString.lowercased())@httpclient-tests.convene.test>"
        let body = "Grüße aus Zürich — 東京 ✓\r\n.a line that starts with a dot\r\n"
        let message = [
            "From: Convene Tests <tests@convene.test>",
            "To: Ada <ada@example.test>",
            "Subject: HTTPClient SMTP test",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
            body,
        ].joined(separator: "\r\n")

        let client = SMTPClient(url: url, timeout: .seconds(10))
        try await client.send(from: "tests@convene.test", recipients: ["ada@example.test"], message: Array(message.utf8))

        let stored = try #require(try await findMessage(containing: messageID, in: maildir),
                                  "no message with Message-ID \(messageID) in \(maildir)/new")
        #expect(stored.contains("Grüße aus Zürich — 東京 ✓"))
        #expect(stored.contains("\n.a line that starts with a dot"))
        #expect(!stored.contains("\n..a line"))
    }

    @Test("messages in a row travel over one reused SMTP connection")
    func connectionIsReused() async throws {
        let url = try #require(TestEnvironment.value("SMTP_URL"), "SMTP_URL is not set: run through make test")
        let maildir = try #require(TestEnvironment.value("CONVENE_MAILDIR"), "CONVENE_MAILDIR is not set: run through make test")
        let client = SMTPClient(url: url, timeout: .seconds(10))
        var peers: [String] = []
        for index in 0..<3 {
            let messageID = "<burst-\(index)-\(UUID().uuidString.lowercased())@httpclient-tests.convene.test>"
            let message = "Subject: burst \(index)\r\nMessage-ID: \(messageID)\r\n\r\nhello \(index)\r\n"
            // An empty sender is the null reverse-path <> of bounces; two recipients in one transaction.
            try await client.send(from: "", recipients: ["a@example.test", "b@example.test"], message: Array(message.utf8))
            let stored = try #require(try await findMessage(containing: messageID, in: maildir))
            // aiosmtpd's Mailbox handler records the client's address and port as X-Peer.
            let peer = stored.split(whereSeparator: \.isNewline).first { $0.hasPrefix("X-Peer:") }
            peers.append(String(try #require(peer)))
            #expect(stored.contains("X-RcptTo: a@example.test, b@example.test"))
        }
        #expect(Set(peers).count == 1, "messages came from \(peers)")
    }

    @Test("a recipient the server refuses with 5xx is a permanent rejection, and the client goes on working")
    func rejectedRecipientIsPermanent() async throws {
        let url = try #require(TestEnvironment.value("SMTP_URL"), "SMTP_URL is not set: run through make test")
        let client = SMTPClient(url: url, timeout: .seconds(10))
        let message = Array("Subject: rejected\r\n\r\nx\r\n".utf8)
        do {
            // aiosmtpd answers a malformed address with "553 5.1.3 Error: malformed address".
            try await client.send(from: "tests@convene.test", recipients: ["x@@example.test"], message: message)
            Issue.record("the server accepted a malformed recipient")
        } catch let error as SMTPError {
            #expect(error.kind == .rejected)
            #expect(error.responseCode == 553)
            #expect(error.isPermanent)
            #expect(error.message.contains("553"))
        }
        try await client.send(from: "tests@convene.test", recipients: ["ok@example.test"], message: message)
    }

    @Test("a closed port is a transient connect failure")
    func closedPortIsTransient() async throws {
        let port = try TestSockets.closedPort()
        let client = SMTPClient(url: "smtp://127.0.0.1:\(port)", timeout: .seconds(5))
        let start = ContinuousClock.now
        do {
            try await client.send(from: "a@convene.test", recipients: ["b@example.test"], message: Array("Subject: x\r\n\r\nx\r\n".utf8))
            Issue.record("sending to a closed port succeeded")
        } catch let error as SMTPError {
            #expect(error.kind == .connectFailed)
            #expect(error.isTransient && !error.isPermanent)
            #expect(error.responseCode == nil)
        }
        // Refused at once, not left to the timeout (with room for a busy machine).
        #expect(secondsSince(start) < 10)
    }

    @Test("an address carrying CR LF is refused as permanent before connecting")
    func injectedAddressIsRefused() async throws {
        let client = SMTPClient(url: "smtp://127.0.0.1:9")
        for (from, to) in [("a@x.test", ["b@y.test\r\nRCPT TO:<c@z.test>"]), ("a@x.test>\r\nDATA", ["b@y.test"]), ("a@x.test", [])] {
            do {
                try await client.send(from: from, recipients: to, message: [])
                Issue.record("sent with from \(from.debugDescription) to \(to)")
            } catch let error as SMTPError {
                #expect(error.kind == .invalidInput)
                #expect(error.isPermanent)
            }
        }
    }

    @Test("5xx replies are permanent, 4xx replies and connection trouble are not")
    func permanence() {
        #expect(SMTPError(kind: .rejected, responseCode: 550, message: "no such user").isPermanent)
        #expect(!SMTPError(kind: .rejected, responseCode: 451, message: "try later").isPermanent)
        #expect(!SMTPError(kind: .timedOut, message: "").isPermanent)
        #expect(!SMTPError(kind: .authenticationFailed, responseCode: 535, message: "").isPermanent)
    }

    @Test("the password shows neither in the description nor in a dump")
    func passwordIsNeverShown() {
        let client = SMTPClient(url: "smtp://mailer:url-secret@127.0.0.1:25", username: "mailer", password: "hunter2-secret")
        var dumped = ""
        dump(client, to: &dumped)
        for text in [client.description, String(describing: client), String(reflecting: client), dumped] {
            #expect(!text.contains("hunter2-secret"))
            #expect(!text.contains("url-secret"))
        }
        #expect(client.description.contains("mailer"))
    }
}

/// The text of the message in `<maildir>/new` (or `cur`) that contains `needle`; waits up to 5 s.
private func findMessage(containing needle: String, in maildir: String) async throws -> String? {
    let deadline = ContinuousClock.now.advanced(by: .seconds(5))
    repeat {
        for folder in ["new", "cur"] {
            let path = (maildir as NSString).appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for name in names {
                guard let data = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent(name)) else { continue }
                let text = String(decoding: data, as: UTF8.self)
                if text.contains(needle) { return text }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
    } while ContinuousClock.now < deadline
    return nil
}
