import Foundation
import HTTPClient
import TestSupport
@testable import Payment
import _CryptoExtras

/// RSA keys generated once per test run (generation takes a moment).
enum TestKeys {
    static let wechatMerchant = PaymentTestKeys.wechatMerchant
    static let wechatPlatform = generate()
    static let wechatOtherPlatform = generate()
    static let alipayApp = PaymentTestKeys.alipayApp
    static let alipayPlatform = generate()

    private static func generate() -> _RSA.Signing.PrivateKey {
        // A failure here is a broken test environment, not a test result.
        try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    }
}

/// An `HTTPExecuting` double: records every request and answers with `respond`.
final class RecordingHTTPClient: HTTPExecuting, @unchecked Sendable {
    // Guarded by `lock`.
    private var requests: [HTTPRequest] = []
    private let lock = NSLock()
    private let respond: @Sendable (HTTPRequest) throws -> HTTPResponse

    init(_ respond: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        self.respond = respond
    }

    func execute(_ request: HTTPRequest, timeout: Duration?) async throws -> HTTPResponse {
        lock.withLock { requests.append(request) }
        return try respond(request)
    }

    var recorded: [HTTPRequest] { lock.withLock { requests } }
    var last: HTTPRequest? { recorded.last }
}

extension HTTPRequest {
    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The path and query of `url`, as a signature covers them.
    var pathAndQuery: String {
        guard let range = url.range(of: "://") else { return url }
        let rest = url[range.upperBound...]
        return rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "/"
    }
}

func json(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A JSON object's members, for checking request bodies.
func jsonObject(_ bytes: [UInt8]) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
}

/// 2026-11-22T09:30:00Z.
let fixedNow = Date(timeIntervalSince1970: 1_795_339_800)
