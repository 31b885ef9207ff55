import Foundation
import Secrets
import Testing

@Suite("SecretBox")
struct SecretBoxTests {
    let key = SecretBox.generateKey()

    @Test("a sealed secret opens with its key and context and does not show the plaintext")
    func roundTrip() throws {
        let box = try SecretBox(current: key)
        let sealed = try box.seal("SEC-robot-secret", context: "notification.robot:1")
        #expect(!sealed.contains("SEC-robot-secret"))
        #expect(try box.open(sealed, context: "notification.robot:1") == "SEC-robot-secret")
    }

    @Test("a sealed secret moved to another context does not open")
    func contextBound() throws {
        let box = try SecretBox(current: key)
        let sealed = try box.seal("token", context: "notification.robot:1")
        #expect(throws: SecretBox.Failure.self) { try box.open(sealed, context: "notification.robot:2") }
    }

    @Test("after rotation old values open with the previous key and are marked for resealing")
    func rotation() throws {
        let old = try SecretBox(current: key)
        let sealed = try old.seal("token", context: "c")
        let rotated = try SecretBox(current: SecretBox.generateKey(), previous: [key])
        #expect(try rotated.open(sealed, context: "c") == "token")
        #expect(rotated.needsResealing(sealed))
        #expect(!rotated.needsResealing(try rotated.seal("token", context: "c")))
        #expect(throws: SecretBox.Failure.self) { try SecretBox(current: SecretBox.generateKey()).open(sealed, context: "c") }
    }

    @Test("a tampered value and a key of the wrong size are refused")
    func tampering() throws {
        let box = try SecretBox(current: key)
        var sealed = Array(try box.seal("token", context: "c"))
        sealed[sealed.count - 3] = sealed[sealed.count - 3] == "A" ? "B" : "A"
        #expect(throws: SecretBox.Failure.self) { try box.open(String(sealed), context: "c") }
        #expect(throws: SecretBox.Failure.self) { try SecretBox(current: Data(repeating: 1, count: 16).base64EncodedString()) }
    }

    @Test("sealed bytes open with their key and context, contain no run of the plaintext, and differ each time")
    func bytesRoundTrip() throws {
        let box = try SecretBox(current: key)
        let plaintext = Array("PASSPORT No. E12345678 张三 ".utf8) + (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sealed = try box.seal(bytes: plaintext, context: "gateway.upload:1")
        #expect(try box.open(bytes: sealed, context: "gateway.upload:1") == plaintext)
        #expect(sealed.count == plaintext.count + box.sealedPrefix.utf8.count + 12 + 16, "key id, nonce and tag beside the ciphertext")
        let head = Array(plaintext.prefix(16))
        #expect(!(0...(sealed.count - head.count)).contains { Array(sealed[$0..<($0 + head.count)]) == head })
        #expect(try box.seal(bytes: plaintext, context: "gateway.upload:1") != sealed, "a new nonce every time")
        #expect(throws: SecretBox.Failure.self) { try box.open(bytes: sealed, context: "gateway.upload:2") }
    }

    @Test("sealed bytes open after rotation, are marked for resealing, and refuse tampering and foreign keys")
    func bytesRotationAndTampering() throws {
        let sealed = try SecretBox(current: key).seal(bytes: [1, 2, 3], context: "c")
        let rotated = try SecretBox(current: SecretBox.generateKey(), previous: [key])
        #expect(try rotated.open(bytes: sealed, context: "c") == [1, 2, 3])
        #expect(rotated.needsResealing(bytes: sealed))
        #expect(!rotated.needsResealing(bytes: try rotated.seal(bytes: [1], context: "c")))
        var tampered = sealed
        tampered[tampered.count - 1] ^= 0x01
        #expect(throws: SecretBox.Failure.self) { try rotated.open(bytes: tampered, context: "c") }
        #expect(throws: SecretBox.Failure.self) { try SecretBox(current: SecretBox.generateKey()).open(bytes: sealed, context: "c") }
        #expect(throws: SecretBox.Failure.self) { try rotated.open(bytes: [], context: "c") }
        #expect(throws: SecretBox.Failure.self) { try rotated.open(bytes: Array(sealed.prefix(20)), context: "c") }
    }
}
