import Crypto
import Foundation

/// Tencent Meeting's request signature (external-apis.md): Base64 of the lowercase hex of
/// HMAC-SHA256(SecretKey, METHOD \n X-TC-Key=…&X-TC-Nonce=…&X-TC-Timestamp=… \n URI \n body).
enum TencentSigning {
    static func stringToSign(method: String, secretId: String, nonce: String, timestamp: String, uri: String,
                             body: String) -> String {
        "\(method)\nX-TC-Key=\(secretId)&X-TC-Nonce=\(nonce)&X-TC-Timestamp=\(timestamp)\n\(uri)\n\(body)"
    }

    static func signature(secretKey: String, method: String, secretId: String, nonce: String, timestamp: String,
                          uri: String, body: String) -> String {
        let text = stringToSign(method: method, secretId: secretId, nonce: nonce, timestamp: timestamp, uri: uri, body: body)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(secretKey.utf8)))
        return Data(Hex.encode(Array(mac)).utf8).base64EncodedString()
    }

    /// Every header a call carries, in the order the documentation lists them.
    static func headers(secretId: String, secretKey: String, appId: String, sdkId: String?, method: String, uri: String,
                        body: String, now: Date, nonce: UInt32) -> [(name: String, value: String)] {
        let timestamp = String(Int(now.timeIntervalSince1970))
        let nonceText = String(max(nonce, 1))
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("X-TC-Key", secretId), ("X-TC-Timestamp", timestamp), ("X-TC-Nonce", nonceText),
            ("X-TC-Signature", signature(secretKey: secretKey, method: method, secretId: secretId, nonce: nonceText,
                                         timestamp: timestamp, uri: uri, body: body)),
            ("AppId", appId), ("X-TC-Registered", "1"),
        ]
        if let sdkId, !sdkId.isEmpty { headers.append(("SdkId", sdkId)) }
        return headers
    }
}

enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hmacSHA256(key: String, _ text: String) -> String {
        encode(Array(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(key.utf8)))))
    }

    /// Equal strings, compared in time independent of where they differ.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
