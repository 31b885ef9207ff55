import Foundation
import Testing
import HTTPClient

/// The RabbitMQ management API of the test stack (`make test` exports its URL).
private func managementURL() throws -> String {
    let url = try #require(TestEnvironment.value("RABBITMQ_MANAGEMENT_URL"),
                           "RABBITMQ_MANAGEMENT_URL is not set: run through make test")
    return url.hasSuffix("/") ? String(url.dropLast()) : url
}

private func overviewRequest(password: String = "guest") throws -> HTTPRequest {
    var request = HTTPRequest(url: try managementURL() + "/api/overview")
    request.setBasicAuthorization(username: "guest", password: password)
    request.addHeader("Accept", "application/json")
    return request
}

@Suite("CurlHTTPClient against the RabbitMQ management API")
struct CurlHTTPClientManagementTests {
    @Test("GET /api/overview with the right basic auth returns 200 JSON from 127.0.0.1")
    func overviewWithBasicAuth() async throws {
        let client = CurlHTTPClient()
        let response = try await client.execute(try overviewRequest())
        #expect(response.status == 200)
        #expect(response.header(named: "content-type")?.hasPrefix("application/json") == true)
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(json?["rabbitmq_version"] is String)
        #expect(response.remoteIP == "127.0.0.1")
        #expect(response.remotePort != nil)
    }

    @Test("the wrong password gets 401, returned as a response, not thrown")
    func wrongPasswordIs401() async throws {
        let client = CurlHTTPClient()
        let response = try await client.execute(try overviewRequest(password: "not-the-password"))
        #expect(response.status == 401)
        #expect(throws: HTTPClientError.httpStatus(401)) { try response.ensureSuccess() }
    }

    @Test("a second request on a single worker reuses the kept-alive connection")
    func keepAlive() async throws {
        let client = CurlHTTPClient(configuration: .init(maxConnections: 1))
        let first = try await client.execute(try overviewRequest())
        let second = try await client.execute(try overviewRequest())
        #expect(first.status == 200 && second.status == 200)
        #expect(!first.reusedConnection)
        #expect(second.reusedConnection)
    }

    @Test("a response larger than maxBodySize is refused with responseTooLarge")
    func bodyLimitWithRealServer() async throws {
        let client = CurlHTTPClient(configuration: .init(maxBodySize: 64))
        let request = try overviewRequest()
        await #expect(throws: HTTPClientError.responseTooLarge(limit: 64)) {
            try await client.execute(request)
        }
    }
}

@Suite("CurlHTTPClient failures and limits")
struct CurlHTTPClientFailureTests {
    @Test("a closed port fails quickly with a transient connect error")
    func closedPortFailsFast() async throws {
        let port = try TestSockets.closedPort()
        let client = CurlHTTPClient()
        let start = ContinuousClock.now
        do {
            _ = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
            Issue.record("a request to a closed port succeeded")
        } catch let error as HTTPClientError {
            guard case .connectFailed = error else {
                Issue.record("expected connectFailed, got \(error)")
                return
            }
            #expect(error.isTransient)
            #expect(error.requestWasNotSent)
        }
        // Refused at once, not left to the 30 s timeout (with room for a busy machine).
        #expect(secondsSince(start) < 10)
    }

    @Test("a server that never answers hits the total timeout with .timedOut")
    func totalTimeout() async throws {
        let listener = try SilentListener()
        let client = CurlHTTPClient(configuration: .init(timeout: .milliseconds(300)))
        let start = ContinuousClock.now
        await #expect(throws: HTTPClientError.timedOut) {
            try await client.execute(HTTPRequest(url: listener.url))
        }
        // The server never answers: without the timeout this would not return at all. The upper
        // bound only has to tell the two apart on a busy machine (stalls of 4 s were seen).
        let elapsed = secondsSince(start)
        #expect(elapsed >= 0.25 && elapsed < 30, "took \(elapsed) s")
    }

    @Test("a per-request timeout replaces the configured total timeout")
    func perRequestTimeout() async throws {
        let listener = try SilentListener()
        let client = CurlHTTPClient(configuration: .init(timeout: .seconds(600)))
        let start = ContinuousClock.now
        await #expect(throws: HTTPClientError.timedOut) {
            try await client.execute(HTTPRequest(url: listener.url), timeout: .milliseconds(200))
        }
        #expect(secondsSince(start) < 60, "the 200 ms, not the configured 600 s")
    }

    @Test("cancelling the task aborts the blocking transfer well before its timeout")
    func cancellationAbortsTransfer() async throws {
        let listener = try SilentListener()
        let client = CurlHTTPClient(configuration: .init(timeout: .seconds(60)))
        let start = ContinuousClock.now
        let task = Task { try await client.execute(HTTPRequest(url: listener.url)) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(secondsSince(start) < 5)
    }

    @Test("workers run requests side by side on their own threads")
    func workersRunConcurrently() async throws {
        let listener = try SilentListener()
        let client = CurlHTTPClient(configuration: .init(timeout: .seconds(1), maxConnections: 8))
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    await #expect(throws: HTTPClientError.timedOut) {
                        try await client.execute(HTTPRequest(url: listener.url))
                    }
                }
            }
            try await group.waitForAll()
        }
        // One after the other would take at least 8 s; side by side about 1 (room for a busy machine).
        #expect(secondsSince(start) < 6)
    }

    @Test("file:// and other schemes outside http and https are refused")
    func disallowedSchemes() async throws {
        let client = CurlHTTPClient()
        for url in ["file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1/", "dict://127.0.0.1/"] {
            do {
                _ = try await client.execute(HTTPRequest(url: url))
                Issue.record("\(url) was fetched")
            } catch let error as HTTPClientError {
                guard case .protocolNotAllowed = error else {
                    Issue.record("\(url): expected protocolNotAllowed, got \(error)")
                    continue
                }
            }
        }
    }
}

@Suite("CurlHTTPClient with a canned local server")
struct CurlHTTPClientCannedServerTests {
    @Test("headers keep their order, and a PUT body arrives as given")
    func requestIsSentAsGiven() async throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.response(status: "201 Created", body: "ok")])
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: .init(userAgent: "convene-test/1"))
        let body = Array("{\"name\":\"Grüße\"}".utf8)
        let request = HTTPRequest(method: .put, url: server.url("/things/1"), headers: [
            (name: "X-First", value: "1"), (name: "Content-Type", value: "application/json"), (name: "X-Second", value: "2"),
        ], body: body)
        let response = try await client.execute(request)
        #expect(response.status == 201)
        #expect(response.bodyString == "ok")
        let raw = try #require(server.requests.first)
        #expect(raw.hasPrefix("PUT /things/1 HTTP/1.1\r\n"))
        #expect(raw.contains("User-Agent: convene-test/1\r\n"))
        #expect(!raw.contains("Expect:"))
        let first = try #require(raw.range(of: "X-First: 1"))
        let second = try #require(raw.range(of: "X-Second: 2"))
        #expect(first.lowerBound < second.lowerBound)
        #expect(raw.hasSuffix("\r\n\r\n{\"name\":\"Grüße\"}"))
    }

    @Test("a POST body without Content-Type goes out without libcurl's form default")
    func noImplicitContentType() async throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.response(status: "204 No Content")])
        defer { server.stop() }
        let response = try await CurlHTTPClient().execute(HTTPRequest(method: .post, url: server.url("/raw"), body: [0x00, 0xFF, 0x41]))
        #expect(response.status == 204)
        let raw = try #require(server.requests.first)
        #expect(raw.hasPrefix("POST /raw HTTP/1.1\r\n"))
        #expect(!raw.lowercased().contains("content-type"))
        #expect(raw.contains("Content-Length: 3\r\n"))
    }

    @Test("a chunked response growing past maxBodySize is refused while it streams")
    func chunkedBodyLimit() async throws {
        let chunk = String(repeating: "x", count: 4000)
        let hex = String(chunk.utf8.count, radix: 16)
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + "\(hex)\r\n\(chunk)\r\n\(hex)\r\n\(chunk)\r\n0\r\n\r\n"
        let server = try CannedHTTPServer(responses: [chunked])
        defer { server.stop() }
        let small = CurlHTTPClient(configuration: .init(maxBodySize: 5000))
        await #expect(throws: HTTPClientError.responseTooLarge(limit: 5000)) {
            try await small.execute(HTTPRequest(url: server.url()))
        }
        let large = CurlHTTPClient(configuration: .init(maxBodySize: 8000))
        #expect(try await large.execute(HTTPRequest(url: server.url())).body.count == 8000)
    }

    @Test("redirects are returned, not followed, by default")
    func redirectsNotFollowedByDefault() async throws {
        let server = try CannedHTTPServer(responses: [
            CannedHTTPServer.response(status: "302 Found", headers: ["Location: /elsewhere"]),
            CannedHTTPServer.response(status: "200 OK", body: "followed"),
        ])
        defer { server.stop() }
        let response = try await CurlHTTPClient().execute(HTTPRequest(url: server.url("/start")))
        #expect(response.status == 302)
        #expect(response.header(named: "location") == "/elsewhere")
        #expect(server.requests.count == 1)
    }

    @Test("with followRedirects the final response and URL are returned")
    func redirectsFollowedWhenAsked() async throws {
        let server = try CannedHTTPServer(responses: [
            CannedHTTPServer.response(status: "302 Found", headers: ["Location: /elsewhere", "X-Hop: 1"]),
            CannedHTTPServer.response(status: "200 OK", body: "followed"),
        ])
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: .init(followRedirects: true))
        let response = try await client.execute(HTTPRequest(url: server.url("/start")))
        #expect(response.status == 200)
        #expect(response.bodyString == "followed")
        #expect(response.header(named: "X-Hop") == nil)
        #expect(response.effectiveURL == server.url("/elsewhere"))
    }

    @Test("a followed redirect to file:// is refused")
    func redirectToFileIsRefused() async throws {
        let server = try CannedHTTPServer(responses: [
            CannedHTTPServer.response(status: "302 Found", headers: ["Location: file:///etc/passwd"]),
        ])
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: .init(followRedirects: true))
        do {
            let response = try await client.execute(HTTPRequest(url: server.url()))
            Issue.record("redirect to file:// gave status \(response.status): \(response.bodyString.prefix(40))")
        } catch let error as HTTPClientError {
            guard case .protocolNotAllowed = error else {
                Issue.record("expected protocolNotAllowed, got \(error)")
                return
            }
        }
    }

    @Test("the address filter refuses a connection before any byte is sent")
    func addressFilterRefuses() async throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.response(status: "200 OK")])
        defer { server.stop() }
        let guarded = CurlHTTPClient(configuration: .init(addressFilter: { $0 != "127.0.0.1" }))
        await #expect(throws: HTTPClientError.addressRefused("127.0.0.1")) {
            try await guarded.execute(HTTPRequest(url: server.url()))
        }
        #expect(!HTTPClientError.addressRefused("127.0.0.1").isTransient)
        let allowed = CurlHTTPClient(configuration: .init(addressFilter: { $0 == "127.0.0.1" }))
        #expect(try await allowed.execute(HTTPRequest(url: server.url())).status == 200)
        #expect(server.requests.count == 1)
    }

    @Test("resolve pins a host name to an address")
    func resolvePinsHostName() async throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.response(status: "200 OK", body: "pinned")])
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: .init(resolve: ["api.convene.invalid:\(server.port):127.0.0.1"]))
        let response = try await client.execute(HTTPRequest(url: "http://api.convene.invalid:\(server.port)/"))
        #expect(response.bodyString == "pinned")
        #expect(response.remoteIP == "127.0.0.1")
        #expect(server.requests.first?.contains("Host: api.convene.invalid:\(server.port)") == true)
    }
}
