import Crypto
import Foundation
import _CryptoExtras

/// Signs WeChat Pay v3 requests with the merchant's API key:
/// `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"`,
/// the signature being base64 SHA256-with-RSA (PKCS#1 v1.5) over
/// `METHOD\nPATH?QUERY\ntimestamp\nnonce\nbody\n`.
struct WeChatPaySigner: Sendable {
    static let scheme = "WECHATPAY2-SHA256-RSA2048"

    let mchid: String
    let serialNo: String
    let key: _RSA.Signing.PrivateKey

    static func message(method: String, pathAndQuery: String, timestamp: Int64, nonce: String, body: [UInt8]) -> [UInt8] {
        var message = Array("\(method)\n\(pathAndQuery)\n\(timestamp)\n\(nonce)\n".utf8)
        message += body
        message.append(UInt8(ascii: "\n"))
        return message
    }

    func authorization(method: String, pathAndQuery: String, body: [UInt8], timestamp: Int64,
                       nonce: String) throws(PaymentProviderError) -> String {
        let signature = try RSAKeys.sign(
            Self.message(method: method, pathAndQuery: pathAndQuery, timestamp: timestamp, nonce: nonce, body: body), with: key)
        return "\(Self.scheme) mchid=\"\(mchid)\",nonce_str=\"\(nonce)\",timestamp=\"\(timestamp)\","
            + "serial_no=\"\(serialNo)\",signature=\"\(signature)\""
    }
}

/// Checks what WeChat Pay signs with its platform key (answers and notifications): headers
/// `Wechatpay-Timestamp`, `Wechatpay-Nonce`, `Wechatpay-Signature`, `Wechatpay-Serial`, the
/// signature being over `timestamp\nnonce\nbody\n`, by the platform key whose serial is named.
struct WeChatPayVerifier: Sendable {
    /// Platform public keys by serial (more than one while WeChat Pay rotates them).
    let keys: [String: _RSA.Signing.PublicKey]
    /// A timestamp this many seconds or more from now is refused.
    let tolerance: TimeInterval

    static func message(timestamp: String, nonce: String, body: [UInt8]) -> [UInt8] {
        var message = Array("\(timestamp)\n\(nonce)\n".utf8)
        message += body
        message.append(UInt8(ascii: "\n"))
        return message
    }

    /// Throws `signatureInvalid` (missing or malformed headers, unknown serial, a signature that
    /// does not verify) or `callbackStale`.
    func verify(body: [UInt8], headers: ProviderHeaders, now: Date) throws(PaymentProviderError) {
        guard let timestamp = headers["Wechatpay-Timestamp"], let nonce = headers["Wechatpay-Nonce"],
              let signature = headers["Wechatpay-Signature"], let serial = headers["Wechatpay-Serial"] else {
            throw .signatureInvalid("Wechatpay-Timestamp, -Nonce, -Signature and -Serial headers are required")
        }
        if let type = headers["Wechatpay-Signature-Type"], type != WeChatPaySigner.scheme {
            throw .signatureInvalid("unsupported signature type")
        }
        guard let key = keys[serial] else { throw .signatureInvalid("signed with an unknown platform key serial") }
        guard RSAKeys.isValid(signature: signature, for: Self.message(timestamp: timestamp, nonce: nonce, body: body), with: key)
        else { throw .signatureInvalid("the signature does not verify") }
        guard let seconds = Int64(timestamp) else { throw .signatureInvalid("the timestamp is not a number") }
        guard abs(now.timeIntervalSince1970 - TimeInterval(seconds)) < tolerance else { throw .callbackStale }
    }
}

/// The `resource` of a WeChat Pay notification: AES-256-GCM with the APIv3 key, the nonce's
/// UTF-8 bytes as IV, `associated_data` as AAD, and base64 ciphertext ending with the 16-byte tag.
struct WeChatPayResource: Codable, Sendable, Equatable {
    var algorithm: String
    var ciphertext: String
    var nonce: String
    var associatedData: String?
    var originalType: String?

    enum CodingKeys: String, CodingKey {
        case algorithm, ciphertext, nonce
        case associatedData = "associated_data"
        case originalType = "original_type"
    }

    static let algorithmName = "AEAD_AES_256_GCM"

    /// The plaintext. Throws `callbackMalformed` without saying anything about the content.
    func decrypt(apiV3Key: [UInt8]) throws(PaymentProviderError) -> [UInt8] {
        guard algorithm == Self.algorithmName else { throw .callbackMalformed("unsupported resource algorithm") }
        guard let combined = Data(base64Encoded: ciphertext), combined.count > 16 else {
            throw .callbackMalformed("the resource ciphertext is not base64 with a tag")
        }
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: Array(nonce.utf8)),
                                            ciphertext: combined.prefix(combined.count - 16),
                                            tag: combined.suffix(16))
            let plain = try AES.GCM.open(box, using: SymmetricKey(data: apiV3Key),
                                         authenticating: Array((associatedData ?? "").utf8))
            return Array(plain)
        } catch {
            throw .callbackMalformed("the resource does not decrypt with the APIv3 key")
        }
    }

    /// Encrypts `plaintext` the way WeChat Pay does (for tests and contract servers).
    static func encrypt(_ plaintext: [UInt8], apiV3Key: [UInt8], nonce: String, associatedData: String,
                        originalType: String) throws -> WeChatPayResource {
        let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: apiV3Key), nonce: AES.GCM.Nonce(data: Array(nonce.utf8)),
                                   authenticating: Array(associatedData.utf8))
        return WeChatPayResource(algorithm: algorithmName, ciphertext: (box.ciphertext + box.tag).base64EncodedString(),
                                 nonce: nonce, associatedData: associatedData, originalType: originalType)
    }
}
