import Contracts
import Foundation
import Persistence

/// File answers of a registration as a participant sends them: `{"uploadId": "…"}`, one of the
/// participant's own uploads. The gateway replaces each with the file reference registration
/// checks and keeps (`blobKey`, the sniffed `contentType`, `size`, `fileName`), taken from its own
/// uploads table. A reference written by the client (a `blobKey` of its choosing), another
/// account's upload or an unknown id is refused as `invalid_file_reference`, in the shape of
/// registration's own answer errors, and nothing is sent to the service.
struct FileAnswers: Sendable {
    let pool: PGPool
    let uploads = UploadStore()

    /// Only file answers are JSON objects; every other answer passes unchanged.
    func resolve(_ answers: [String: JSONValue], owner: String) async throws -> [String: JSONValue] {
        var resolved = answers
        var errors: [String: String] = [:]
        for (field, answer) in answers {
            guard case .object(let object) = answer else { continue }
            guard object.count == 1, case .string(let text)? = object["uploadId"], let id = UUID(uuidString: text),
                  let upload = try await pool.withoutTransaction({ tx in try await uploads.find(id: id, owner: owner, in: tx) })
            else {
                errors[field] = "invalid_file_reference: a file answer is {\"uploadId\": …} naming one of your uploads"
                continue
            }
            let fileName = upload.sensitive ? UploadFileName.neutral(for: upload.contentType) : upload.storedFileName
            resolved[field] = .object(["blobKey": .string(upload.blobKey), "contentType": .string(upload.contentType.mediaType),
                                       "size": .number(Double(upload.size)), "fileName": .string(fileName)])
        }
        guard errors.isEmpty else {
            throw Problem(ConveneError(code: "registration.invalid_answers",
                                       message: errors.count == 1 ? "1 answer was not accepted" : "\(errors.count) answers were not accepted",
                                       details: errors))
        }
        return resolved
    }
}
