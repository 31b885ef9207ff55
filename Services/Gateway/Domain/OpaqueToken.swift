import Crypto
import Foundation

/// Random bearer secrets (refresh tokens, API keys): 32 random bytes, base64url without padding,
/// behind a readable prefix. Only their SHA-256 is stored, so a database leak reveals none.
enum OpaqueToken {
    static func generate(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }
}
