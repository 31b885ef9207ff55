import Foundation
import Persistence

/// One upload as the gateway keeps it (`gateway.uploads`).
struct UploadRecord: Sendable, Equatable {
    enum Purpose: String, Sendable, CaseIterable {
        case document
        case identityDocument = "identity_document"
    }

    var id: UUID
    var ownerAccountId: String
    var blobKey: String
    var contentType: SniffedType
    var size: Int64
    /// As stored: sealed when `sensitive`.
    var storedFileName: String
    var purpose: Purpose
    var sensitive: Bool
    var createdAt: Date
}

/// The uploads table.
struct UploadStore: Sendable {
    func insert(_ upload: UploadRecord, in tx: Transaction) async throws -> Date {
        let row = try await tx.query("""
            INSERT INTO uploads (id, owner_account_id, blob_key, content_type, size, file_name, purpose, sensitive)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING created_at
            """, [upload.id, upload.ownerAccountId, upload.blobKey, upload.contentType.mediaType, upload.size,
                  upload.storedFileName, upload.purpose.rawValue, upload.sensitive]).first
        return try row?.date("created_at") ?? Date()
    }

    /// The upload if `owner` made it; nil for anyone else's, as for one that does not exist.
    func find(id: UUID, owner: String, in tx: Transaction) async throws -> UploadRecord? {
        try await tx.query("SELECT * FROM uploads WHERE id = $1 AND owner_account_id = $2", [id, owner]).first.map(Self.record)
    }

    /// An upload stored under `blobKey`. Several uploads of the same ordinary file share a blob;
    /// an identity document's blob (its own ciphertext) belongs to that one upload only.
    func find(blobKey: String, in tx: Transaction) async throws -> UploadRecord? {
        try await tx.query("SELECT * FROM uploads WHERE blob_key = $1 ORDER BY sensitive DESC, created_at LIMIT 1",
                           [blobKey]).first.map(Self.record)
    }

    static func record(_ row: PGRow) throws -> UploadRecord {
        guard let type = SniffedType(rawValue: try row.string("content_type")),
              let purpose = UploadRecord.Purpose(rawValue: try row.string("purpose")) else {
            throw PersistenceFailure("an upload row has an unknown content type or purpose")
        }
        return UploadRecord(id: try row.uuid("id"), ownerAccountId: try row.string("owner_account_id"),
                            blobKey: try row.string("blob_key"), contentType: type, size: try row.int64("size"),
                            storedFileName: try row.string("file_name"), purpose: purpose, sensitive: try row.bool("sensitive"),
                            createdAt: try row.date("created_at"))
    }
}

struct PersistenceFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
