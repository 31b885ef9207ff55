import Foundation
import HTTPClient
@testable import Notification
import Testing
import TestSupport

@Suite("SSRF guard for outgoing webhooks")
struct AddressPolicyTests {
    @Test("loopback, private, shared, link-local, metadata, multicast and mapped forms are internal; public ones are not")
    func classification() {
        for address in ["127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.5.4", "172.31.255.255", "192.168.1.1", "100.64.0.1",
                        "169.254.169.254", "0.0.0.0", "224.0.0.1", "255.255.255.255",
                        "::1", "::", "fe80::1", "fd00::1", "fc12::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                        "64:ff9b::a9fe:a9fe"] {
            #expect(IPAddress(address)?.isInternal == true, "\(address)")
        }
        for address in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            #expect(IPAddress(address)?.isInternal == false, "\(address)")
        }
        #expect(IPAddress("10.0.0.256") == nil)
        #expect(!AddressPolicy().allows("not-an-address"))
    }

    @Test("only https URLs without credentials pass, and literal internal addresses are refused at once")
    func urls() throws {
        let policy = AddressPolicy()
        try policy.checkURL("https://hooks.example.com/convene")
        #expect(throws: AddressPolicy.Refusal.schemeNotAllowed("http")) { try policy.checkURL("http://hooks.example.com/") }
        #expect(throws: AddressPolicy.Refusal.schemeNotAllowed("ftp")) { try policy.checkURL("ftp://hooks.example.com/x") }
        #expect(throws: AddressPolicy.Refusal.invalidURL) { try policy.checkURL("file:///etc/passwd") }
        #expect(throws: AddressPolicy.Refusal.credentialsInURL) { try policy.checkURL("https://user:pw@hooks.example.com/") }
        #expect(throws: AddressPolicy.Refusal.forbiddenAddress("127.0.0.1")) { try policy.checkURL("https://127.0.0.1/x") }
        #expect(throws: AddressPolicy.Refusal.forbiddenAddress("10.0.0.7")) { try policy.checkURL("https://10.0.0.7/x") }
        #expect(throws: AddressPolicy.Refusal.forbiddenAddress("169.254.169.254")) {
            try policy.checkURL("https://169.254.169.254/latest/meta-data/")
        }
        try AddressPolicy(allowHTTP: true).checkURL("http://hooks.example.com/")
    }

    @Test("a name that resolves to loopback is refused at connect time, unless the operator allow-lists it")
    func refusedOnConnect() async throws {
        let management = try TestStack.environment("RABBITMQ_MANAGEMENT_URL")
        let port = try #require(URL(string: management)?.port)
        let url = "http://localhost:\(port)/api/overview"
        let guarded = CurlHTTPClient(configuration: .init(timeout: .seconds(5), addressFilter: { AddressPolicy(allowHTTP: true).allows($0) }))
        do {
            _ = try await guarded.execute(HTTPRequest(url: url))
            Issue.record("localhost must be refused")
        } catch let error as HTTPClientError {
            guard case .addressRefused(let address) = error else { Issue.record("unexpected \(error)"); return }
            #expect(address == "127.0.0.1" || address == "::1")
        }
        let allowed = AddressPolicy(allowHTTP: true, allowList: [IPBlock("127.0.0.0/8")!, IPBlock("::1/128")!])
        let permitted = CurlHTTPClient(configuration: .init(timeout: .seconds(5), addressFilter: { allowed.allows($0) }))
        let response = try await permitted.execute(HTTPRequest(url: url))
        #expect(response.status == 401, "reached the server (which wants credentials)")
    }
}
