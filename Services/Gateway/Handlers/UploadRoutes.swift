import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence

/// File uploads: `POST /v1/uploads` keeps a file in the blob store (identity documents sealed) and
/// answers its id, which registration answers then name (`{"uploadId": …}`). The owner reads an
/// upload back; a registration's files are read by its registrant and by the organizers who
/// review it, through the registration (which the registration service authorizes).
/// Identity documents' bytes and names appear in no log, message or error answer.
struct UploadRoutes {
    let service: ServiceClient
    let pool: PGPool
    /// nil without `BLOB_DIR`: uploads are refused with 503.
    let vault: UploadVault?
    let maxFileBytes: Int
    let logger: Logger
    let uploads = UploadStore()

    /// `POST /v1/uploads`'s path, whose body may be as large as an upload (IdempotencyMiddleware).
    static let path = "/v1/uploads"

    struct UploadView: Codable, Sendable, Equatable {
        var id: String
        var contentType: String
        var size: Int64
        var fileName: String
        var purpose: String
        var sensitive: Bool
        var createdAt: Date
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        routes.post("uploads") { request, context -> Response in
            let principal = try context.requirePrincipal()
            let vault = try requireVault()
            let form = try await MultipartUpload.read(request, filePart: "file", fieldNames: ["purpose"], maxFileBytes: maxFileBytes)
            let purpose = try Self.purpose(form.fields["purpose"])
            guard !form.file.isEmpty else {
                throw Problem(.unprocessableContent, code: "gateway.empty_upload", detail: "the file is empty")
            }
            guard let type = ContentSniffer.sniff(form.file) else {
                throw Problem(.unsupportedMediaType, code: "gateway.upload_type_not_allowed",
                              detail: "the file's content is not one of the accepted kinds: "
                                  + SniffedType.allCases.map(\.mediaType).joined(separator: ", "))
            }
            let sensitive = purpose == .identityDocument
            if sensitive && !vault.canSeal {
                throw Problem(.serviceUnavailable, code: "gateway.uploads_unavailable",
                              detail: "identity documents cannot be accepted: no encryption key is configured")
            }
            let id = UUID()
            let fileName = UploadFileName.sanitize(form.fileName, type: type)
            let blobKey = try await vault.store(form.file, sensitive: sensitive, uploadId: id)
            var record = UploadRecord(id: id, ownerAccountId: principal.accountId, blobKey: blobKey, contentType: type,
                                      size: Int64(form.file.count), storedFileName: try vault.storedName(fileName, sensitive: sensitive, uploadId: id),
                                      purpose: purpose, sensitive: sensitive, createdAt: Date())
            record.createdAt = try await pool.withoutTransaction { tx in try await uploads.insert(record, in: tx) }
            // The id, kind and size only: never the name or the bytes.
            logger.info("upload stored", metadata: ["upload": "\(id)", "type": "\(type.mediaType)", "bytes": "\(record.size)",
                                                    "sensitive": "\(sensitive)", "request": "\(context.requestId)"])
            return try JSONResponse.make(Self.view(record, fileName: fileName), status: .created,
                                         headers: [.location: "\(Self.path)/\(id.uuidString.lowercased())"])
        }
        routes.get("uploads/:id") { _, context -> Response in
            let (record, vault) = try await ownUpload(context)
            return try JSONResponse.make(Self.view(record, fileName: try vault.fileName(of: record)))
        }
        routes.get("uploads/:id/content") { _, context -> Response in
            let (record, vault) = try await ownUpload(context)
            return try await download(record, fileName: try vault.fileName(of: record), vault: vault)
        }
        // A registration's file, for its registrant …
        routes.get("me/registrations/:id/files/:field") { _, context -> Response in
            let principal = try context.requirePrincipal()
            let id = try context.resourceId("id", kind: "registration")
            let view = try await service.call(GetRegistration(registrationId: id, accountId: principal.accountId),
                                              as: RegistrationView.self, organizationId: nil, context: context)
            return try await registrationFile(view, context: context)
        }
        // … and for the organizers who review it (the registration service checks the organization).
        routes.get("organizations/:org/registrations/:id/files/:field") { _, context -> Response in
            let organizationId = try context.organizerOrganization(.registrationsReview)
            let id = try context.resourceId("id", kind: "registration")
            let view = try await service.call(GetRegistration(registrationId: id, accountId: nil), as: RegistrationView.self,
                                              organizationId: organizationId, context: context)
            return try await registrationFile(view, context: context)
        }
    }

    private func requireVault() throws -> UploadVault {
        guard let vault else {
            throw Problem(.serviceUnavailable, code: "gateway.uploads_unavailable", detail: "uploads are not configured here (BLOB_DIR)")
        }
        return vault
    }

    /// The caller's own upload named in the path; 404 for anyone else's.
    private func ownUpload(_ context: GatewayRequestContext) async throws -> (UploadRecord, UploadVault) {
        let principal = try context.requirePrincipal()
        let vault = try requireVault()
        let id = try context.resourceId("id", kind: "upload")
        guard let uuid = UUID(uuidString: id),
              let record = try await pool.withoutTransaction({ tx in try await uploads.find(id: uuid, owner: principal.accountId, in: tx) })
        else { throw Problem.notFound("no such upload") }
        return (record, vault)
    }

    /// The file answered to `{field}` of the registration.
    private func registrationFile(_ view: RegistrationView, context: GatewayRequestContext) async throws -> Response {
        let vault = try requireVault()
        guard let field = context.parameters.get("field"), (1...100).contains(field.count),
              case .object(let answer)? = view.answers[field], case .string(let blobKey)? = answer["blobKey"],
              BlobStore.isValidKey(blobKey)
        else { throw Problem.notFound("the registration has no file for this field") }
        guard let record = try await pool.withoutTransaction({ tx in try await uploads.find(blobKey: blobKey, in: tx) }) else {
            throw Problem.notFound("the registration's file is not stored here")
        }
        // An ordinary file's blob may be shared by several uploads: the answer's name is this one's.
        let name: String
        if record.sensitive {
            name = try vault.fileName(of: record)
        } else if case .string(let answered)? = answer["fileName"] {
            name = UploadFileName.sanitize(answered, type: record.contentType)
        } else {
            name = record.storedFileName
        }
        return try await download(record, fileName: name, vault: vault)
    }

    private func download(_ record: UploadRecord, fileName: String, vault: UploadVault) async throws -> Response {
        let bytes = try await vault.read(record)
        return Response(status: .ok, headers: [
            .contentType: record.contentType.contentTypeHeader,
            .contentDisposition: DownloadDisposition.attachment(fileName: fileName),
            .xContentTypeOptions: "nosniff",
            .cacheControl: "private, no-store",
        ], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func purpose(_ text: String?) throws -> UploadRecord.Purpose {
        guard let text else { return .document }
        guard let purpose = UploadRecord.Purpose(rawValue: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Problem(.unprocessableContent, code: "gateway.invalid_purpose",
                          detail: "purpose is one of: " + UploadRecord.Purpose.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return purpose
    }

    static func view(_ record: UploadRecord, fileName: String) -> UploadView {
        UploadView(id: record.id.uuidString.lowercased(), contentType: record.contentType.mediaType, size: record.size,
                   fileName: fileName, purpose: record.purpose.rawValue, sensitive: record.sensitive, createdAt: record.createdAt)
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
}
