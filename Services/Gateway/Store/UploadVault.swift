import Foundation
import NIOPosix
import Persistence
import Secrets

/// Uploaded bytes in the blob store. Identity documents are sealed (AES-256-GCM, `SecretBox`)
/// before they touch the disk, bound to their upload's id, so their blob key is the hash of the
/// ciphertext and reveals nothing of the document. File I/O and sealing run on NIO's thread
/// pool, not on Swift's cooperative threads.
struct UploadVault: Sendable {
    let blobs: BlobStore
    let secrets: SecretBox?

    enum Failure: Error, Equatable {
        /// An identity document without `UPLOAD_ENCRYPTION_KEY`.
        case noEncryptionKey
    }

    var canSeal: Bool { secrets != nil }

    /// Stores the bytes (sealed when `sensitive`) and answers their blob key.
    func store(_ bytes: [UInt8], sensitive: Bool, uploadId: UUID) async throws -> String {
        guard !sensitive || secrets != nil else { throw Failure.noEncryptionKey }
        let (blobs, secrets) = (blobs, secrets)
        return try await NIOThreadPool.singleton.runIfActive {
            let stored = sensitive ? try secrets!.seal(bytes: bytes, context: Self.context(uploadId)) : bytes
            return try blobs.put(stored)
        }
    }

    /// The upload's bytes as uploaded (opened when sealed), checked against the blob key.
    func read(_ upload: UploadRecord) async throws -> [UInt8] {
        guard !upload.sensitive || secrets != nil else { throw Failure.noEncryptionKey }
        let (blobs, secrets) = (blobs, secrets)
        return try await NIOThreadPool.singleton.runIfActive {
            let stored = try blobs.get(upload.blobKey)
            return upload.sensitive ? try secrets!.open(bytes: stored, context: Self.context(upload.id)) : stored
        }
    }

    /// The name as stored: sealed for an identity document.
    func storedName(_ name: String, sensitive: Bool, uploadId: UUID) throws -> String {
        guard sensitive else { return name }
        guard let secrets else { throw Failure.noEncryptionKey }
        return try secrets.seal(name, context: Self.nameContext(uploadId))
    }

    /// The sanitized name the client gave.
    func fileName(of upload: UploadRecord) throws -> String {
        guard upload.sensitive else { return upload.storedFileName }
        guard let secrets else { throw Failure.noEncryptionKey }
        return try secrets.open(upload.storedFileName, context: Self.nameContext(upload.id))
    }

    static func context(_ id: UUID) -> String { "gateway.upload:" + id.uuidString.lowercased() }
    static func nameContext(_ id: UUID) -> String { "gateway.upload-name:" + id.uuidString.lowercased() }
}
