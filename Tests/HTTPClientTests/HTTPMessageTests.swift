import Testing
@testable import HTTPClient

@Suite("HTTP request and response values")
struct HTTPMessageTests {
    @Test("header(named:) finds a response header whatever its case, keeping order")
    func headerLookupIsCaseInsensitive() {
        let response = HTTPResponse(status: 200, headers: [
            (name: "Content-Type", value: "application/json"),
            (name: "Set-Cookie", value: "a=1"),
            (name: "set-cookie", value: "b=2"),
        ])
        #expect(response.header(named: "content-type") == "application/json")
        #expect(response.header(named: "CONTENT-TYPE") == "application/json")
        #expect(response.headers(named: "Set-Cookie") == ["a=1", "b=2"])
        #expect(response.header(named: "X-Missing") == nil)
    }

    @Test("bodyString decodes the body as UTF-8")
    func bodyStringDecodesUTF8() {
        let response = HTTPResponse(status: 200, body: Array("Grüße, 東京 ✓".utf8))
        #expect(response.bodyString == "Grüße, 東京 ✓")
    }

    @Test("basic authorization is Base64 of user:password and replaces an earlier one")
    func basicAuthorization() {
        var request = HTTPRequest(url: "http://127.0.0.1/", headers: [(name: "authorization", value: "old")])
        request.setBasicAuthorization(username: "guest", password: "guest")
        #expect(request.header(named: "Authorization") == "Basic Z3Vlc3Q6Z3Vlc3Q=")
        #expect(request.headers.count == 1)
        #expect(Base64.encode(Array("f".utf8)) == "Zg==")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encode(Array("foo".utf8)) == "Zm9v")
        #expect(Base64.encode(Array("Aladdin:open sesame".utf8)) == "QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    }

    @Test("a header value with CR or LF is refused before anything is sent")
    func headerInjectionIsRefused() async throws {
        let client = CurlHTTPClient()
        let request = HTTPRequest(url: "http://127.0.0.1:9/", headers: [(name: "X-Name", value: "a\r\nInjected: yes")])
        await #expect(throws: HTTPClientError.invalidRequest("header \"X-Name\" contains CR, LF or NUL")) {
            try await client.execute(request)
        }
        let badName = HTTPRequest(url: "http://127.0.0.1:9/", headers: [(name: "X Name", value: "v")])
        await #expect(throws: HTTPClientError.self) { try await client.execute(badName) }
    }

    @Test("a URL that is empty or has spaces or control characters is invalid")
    func invalidURLs() async throws {
        let client = CurlHTTPClient()
        for url in ["", "http://127.0.0.1/a b", "http://127.0.0.1/\n", "http://"] {
            await #expect(throws: HTTPClientError.invalidURL, "\(url.debugDescription)") {
                try await client.execute(HTTPRequest(url: url))
            }
        }
    }

    @Test("ensureSuccess throws the status for non-2xx, and only 5xx, 408 and 429 are transient")
    func ensureSuccessAndTransience() throws {
        #expect(throws: HTTPClientError.httpStatus(503)) { try HTTPResponse(status: 503).ensureSuccess() }
        try HTTPResponse(status: 204).ensureSuccess()
        #expect(HTTPClientError.httpStatus(503).isTransient)
        #expect(HTTPClientError.httpStatus(429).isTransient)
        #expect(HTTPClientError.httpStatus(408).isTransient)
        #expect(!HTTPClientError.httpStatus(404).isTransient)
        #expect(!HTTPClientError.httpStatus(401).isTransient)
        #expect(HTTPClientError.connectFailed("refused").isTransient)
        #expect(HTTPClientError.timedOut.isTransient)
        #expect(HTTPClientError.transport(code: 56, message: "reset").isTransient)
        #expect(!HTTPClientError.responseTooLarge(limit: 1).isTransient)
        #expect(!HTTPClientError.protocolNotAllowed("file").isTransient)
    }

    @Test("logged URLs lose their credentials, query and fragment")
    func logRedaction() {
        #expect(LogRedaction.url("https://user:secret@api.example.test:8443/v1/x?token=abc#f") == "https://api.example.test:8443/v1/x")
        #expect(LogRedaction.url("smtp://mailer:pw@127.0.0.1:25") == "smtp://127.0.0.1:25")
        #expect(LogRedaction.url("http://host/path/a@b") == "http://host/path/a@b")
    }

    @Test("timeouts handed to libcurl are whole milliseconds, rounded up, never 0")
    func timeoutMilliseconds() {
        #expect(Duration.seconds(2).curlTimeoutMilliseconds == 2000)
        #expect(Duration.microseconds(1500).curlTimeoutMilliseconds == 2)
        #expect(Duration.nanoseconds(1).curlTimeoutMilliseconds == 1)
        #expect(Duration.zero.curlTimeoutMilliseconds == 1)
        #expect(Duration.seconds(-3).curlTimeoutMilliseconds == 1)
    }

    @Test("idempotent methods are those RFC 9110 names")
    func idempotentMethods() {
        #expect(HTTPMethod.get.isIdempotent && HTTPMethod.put.isIdempotent && HTTPMethod.delete.isIdempotent)
        #expect(!HTTPMethod.post.isIdempotent && !HTTPMethod.patch.isIdempotent)
    }
}
