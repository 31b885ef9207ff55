import Crypto
import Foundation

/// Files (materials, abstracts, attachments) in a content-addressed folder: a blob's key is
/// `sha256-<hex digest>` of its bytes, so the same file is stored once and a key can be checked
/// against what it names. Messages carry keys, never the files.
public struct BlobStore: Sendable {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public static func isValidKey(_ key: String) -> Bool {
        key.hasPrefix("sha256-") && key.utf8.count == 71 && key.utf8.dropFirst(7).allSatisfy {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }
    }

    public static func key(for bytes: [UInt8]) -> String {
        "sha256-" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Stores the bytes (atomically: a reader never sees half a file) and returns their key.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> String {
        let key = Self.key(for: bytes)
        let path = self.path(key)
        if FileManager.default.fileExists(atPath: path) { return key }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let temporary = path + ".tmp-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw Failure(description: "cannot write into \(directory)")
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw Failure(description: "cannot store blob \(key)")
        }
        return key
    }

    /// The blob's bytes, checked against its key.
    public func get(_ key: String) throws -> [UInt8] {
        guard Self.isValidKey(key) else { throw Failure(description: "\(key) is not a blob key") }
        guard let data = FileManager.default.contents(atPath: path(key)) else { throw Failure(description: "no blob \(key)") }
        let bytes = Array(data)
        guard Self.key(for: bytes) == key else { throw Failure(description: "blob \(key) is damaged") }
        return bytes
    }

    private func path(_ key: String) -> String {
        let hex = key.dropFirst(7)
        return "\(directory)/\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))/\(hex)"
    }
}
