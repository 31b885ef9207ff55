import Crypto
import Foundation

/// Encrypts secrets for storage (robot tokens, webhook secrets, provider credentials, identity
/// documents) with AES-256-GCM. Each sealed value names the key that sealed it, so the operator
/// can rotate keys: new values use the current key, older ones still open with a previous key.
/// A context string (e.g. `notification.webhook:<id>`) is authenticated with the value, so a
/// ciphertext copied to another row or purpose does not open.
public struct SecretBox: Sendable {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(description: String) { self.description = description }
    }

    // Raw bytes: SymmetricKey is not Sendable; a key is made for each use.
    private let current: (id: String, key: [UInt8])
    private let keys: [String: [UInt8]]

    /// `current` and `previous` are base64-encoded 32-byte keys.
    public init(current: String, previous: [String] = []) throws {
        let main = try Self.key(current)
        self.current = main
        var keys = [main.id: main.key]
        for text in previous {
            let old = try Self.key(text)
            keys[old.id] = old.key
        }
        self.keys = keys
    }

    /// `<key id>:<base64 of nonce, ciphertext and tag>`.
    public func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: SymmetricKey(data: current.key), authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw Failure(description: "sealing failed") }
        return current.id + ":" + combined.base64EncodedString()
    }

    public func open(_ sealed: String, context: String) throws -> String {
        guard let colon = sealed.firstIndex(of: ":"), let key = keys[String(sealed[..<colon])] else {
            throw Failure(description: "sealed with an unknown key")
        }
        guard let data = Data(base64Encoded: String(sealed[sealed.index(after: colon)...])) else {
            throw Failure(description: "not a sealed value")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            let plain = try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: Data(context.utf8))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw Failure(description: "the value does not open with its key and context")
        }
    }

    /// Bytes sealed for storage as a file (identity documents): the ASCII key id and `:`, then
    /// the nonce, ciphertext and tag, in binary. The same keys, rotation and context as `seal`.
    public func seal(bytes plaintext: [UInt8], context: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: current.key), authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw Failure(description: "sealing failed") }
        return Array((current.id + ":").utf8) + Array(combined)
    }

    public func open(bytes sealed: [UInt8], context: String) throws -> [UInt8] {
        guard let colon = sealed.prefix(Self.keyIdLength + 1).firstIndex(of: UInt8(ascii: ":")),
              let key = keys[String(decoding: sealed[..<colon], as: UTF8.self)] else {
            throw Failure(description: "sealed with an unknown key")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed[(colon + 1)...])
            return Array(try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: Data(context.utf8)))
        } catch {
            throw Failure(description: "the value does not open with its key and context")
        }
    }

    /// Whether sealed bytes were sealed with an older key.
    public func needsResealing(bytes sealed: [UInt8]) -> Bool { !sealed.starts(with: Array(sealedPrefix.utf8)) }

    /// Whether a value was sealed with an older key and should be sealed again.
    public func needsResealing(_ sealed: String) -> Bool { !sealed.hasPrefix(sealedPrefix) }

    /// What every value sealed with the current key starts with (for finding the others in SQL).
    public var sealedPrefix: String { current.id + ":" }

    /// A new random key, base64-encoded, for operators (`openssl rand -base64 32` works too).
    public static func generateKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Hex digits of a key id.
    static let keyIdLength = 8

    private static func key(_ text: String) throws -> (id: String, key: [UInt8]) {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespaces)), data.count == 32 else {
            throw Failure(description: "a secret key must be 32 bytes, base64-encoded")
        }
        // The id identifies the key without revealing it.
        let digest = SHA256.hash(data: Data("convene-secret-key-id".utf8) + data)
        let id = digest.prefix(4).map { String(format: "%02x", $0) }.joined()
        return (id, Array(data))
    }
}
