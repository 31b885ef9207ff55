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
}
