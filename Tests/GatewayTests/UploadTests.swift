import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Testing
import TestSupport

extension EndToEnd {
/// Uploads through the gateway into its blob store, referenced from registration answers and read
/// back by the registrant and the reviewing organizers, over the real broker and database.
/// Serialized: the refusals check that nothing new appears in the blob store meanwhile.
@Suite("File uploads, end to end", .serialized)
struct UploadTests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }
    var flow: RegistrationFlowTests { RegistrationFlowTests() }

    static var form: [String: Any] { ["fields": [
        ["key": "affiliation", "type": "text", "label": ["en": "Affiliation"], "required": true],
        ["key": "paper", "type": "file", "label": ["en": "Paper"], "required": true,
         "file": ["maxBytes": 1_000_000, "allowedTypes": ["application/pdf"]]],
        ["key": "idDocument", "type": "file", "label": ["en": "ID document"], "required": true,
         "file": ["maxBytes": 1_000_000, "allowedTypes": ["image/png", "image/jpeg"]]],
    ]] }

    struct Upload: Decodable {
        var id: String
        var contentType: String
        var size: Int
        var fileName: String
        var purpose: String
        var sensitive: Bool
        var createdAt: Date
    }

    /// `POST /v1/uploads` as a browser sends it: the file name raw UTF-8 in the part's header.
    func upload(_ bytes: [UInt8], fileName: String, declaredType: String, purpose: String? = nil, token: String,
                headers: [(name: String, value: String)] = [],
                boundary: String = "----convene-test-" + UUID().uuidString) async throws -> HTTPResponse {
        var body: [UInt8] = []
        if let purpose {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n\(purpose)\r\n".utf8)
        }
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\n".utf8)
        body += Array("Content-Type: \(declaredType)\r\n\r\n".utf8) + bytes + Array("\r\n--\(boundary)--\r\n".utf8)
        var request = HTTPRequest(method: .post, url: try stack.baseURL + "/v1/uploads", headers: headers)
        request.setHeader("Authorization", "Bearer " + token)
        request.setHeader("Content-Type", "multipart/form-data; boundary=\(boundary)")
        request.body = body
        return try await stack.client.execute(request)
    }

    /// Every file in the blob store, by path.
    func storedBlobs() throws -> [String: [UInt8]] {
        let root = try stack.blobs
        var found: [String: [UInt8]] = [:]
        guard let walker = FileManager.default.enumerator(atPath: root) else { return found }
        for case let relative as String in walker {
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
               let data = FileManager.default.contents(atPath: path) {
                found[path] = Array(data)
            }
        }
        return found
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0] == needle[0] && Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    @Test("a PDF and a sealed identity document, named by uploadId in the answers, reach the registrant and the reviewers intact and nobody else")
    func uploadRegisterReview() async throws {
        let stack = try stack
        let organizer = try await stack.token(account: UUID().uuidString.lowercased(), roles: [.user, .meetingAdmin])
        let conference = try await flow.conference(organizer: organizer, settings: [
            "form": Self.form, "categories": [RegistrationFlowTests.free("regular")], "reviewRequired": true,
            "waitlistEnabled": false, "paymentMethods": [],
        ])
        let (a, b) = (try await flow.participant("uploader"), try await flow.participant("other"))
        let marker = "PASSPORT-P<CHNZHANG<<SAN-" + UUID().uuidString
        let passport = SampleFiles.png(payload: Array(marker.utf8))
        let paper = SampleFiles.pdf("paper " + UUID().uuidString)

        let pdfAnswer = try await upload(paper, fileName: "论文 final.pdf", declaredType: "application/pdf", token: a)
        #expect(pdfAnswer.status == 201, "\(pdfAnswer.bodyString)")
        let pdf = try pdfAnswer.decode(Upload.self)
        #expect(pdf.contentType == "application/pdf" && pdf.size == paper.count && pdf.fileName == "论文 final.pdf" && !pdf.sensitive)
        #expect(pdfAnswer.header(named: "Location") == "/v1/uploads/\(pdf.id)")
        // The declared type is ignored: the bytes say PNG.
        let idAnswer = try await upload(passport, fileName: "张三-passport", declaredType: "application/octet-stream",
                                        purpose: "identity_document", token: a)
        #expect(idAnswer.status == 201, "\(idAnswer.bodyString)")
        let id = try idAnswer.decode(Upload.self)
        #expect(id.contentType == "image/png" && id.sensitive && id.purpose == "identity_document" && id.fileName == "张三-passport.png")

        // The owner reads both back.
        let metadata = try await stack.call(.get, "/v1/uploads/\(id.id)", token: a)
        #expect(metadata.status == 200)
        #expect(try metadata.decode(Upload.self).fileName == "张三-passport.png")
        let content = try await stack.call(.get, "/v1/uploads/\(id.id)/content", token: a)
        #expect(content.status == 200 && content.body == passport)
        #expect(content.header(named: "Content-Type") == "image/png")
        #expect(content.header(named: "X-Content-Type-Options") == "nosniff")
        #expect(content.header(named: "Cache-Control") == "private, no-store")
        #expect(content.header(named: "Content-Disposition")?.contains("filename*=UTF-8''%E5%BC%A0%E4%B8%89-passport.png") == true)

        // On disk: the PDF as it is, the identity document only sealed.
        let blobs = try storedBlobs()
        #expect(blobs.values.contains(paper), "the ordinary file is stored as uploaded")
        #expect(!blobs.values.contains { Self.contains($0, Array(marker.utf8)) }, "no blob holds the identity document's content")
        #expect(!blobs.values.contains(passport))

        // Registration with both files by upload id.
        let submitted = try await flow.submit(a, to: conference, answers: [
            "affiliation": "北京大学", "paper": ["uploadId": pdf.id], "idDocument": ["uploadId": id.id],
        ])
        let registration = try flow.view(submitted)
        #expect(registration.status == "pending_review")
        guard case .object(let paperReference)? = registration.answers["paper"],
              case .object(let idReference)? = registration.answers["idDocument"] else {
            Issue.record("the answers hold no file references: \(registration.answers)")
            return
        }
        #expect(paperReference["contentType"] == .string("application/pdf") && paperReference["size"] == .number(Double(paper.count)))
        #expect(paperReference["fileName"] == .string("论文 final.pdf"))
        #expect(idReference["fileName"] == .string("identity-document.png"), "the document's own name stays in the gateway")
        #expect(idReference["contentType"] == .string("image/png"))

        // The registrant and the reviewing organizer read the files back as uploaded.
        let mine = "/v1/me/registrations/\(registration.id)/files"
        let reviewed = "/v1/organizations/\(stack.organizationId)/registrations/\(registration.id)/files"
        for (path, token) in [(mine, a), (reviewed, organizer)] {
            let paperBack = try await stack.call(.get, path + "/paper", token: token)
            #expect(paperBack.status == 200 && paperBack.body == paper, "\(path)/paper: \(paperBack.status)")
            #expect(paperBack.header(named: "Content-Type") == "application/pdf")
            let idBack = try await stack.call(.get, path + "/idDocument", token: token)
            #expect(idBack.status == 200 && idBack.body == passport, "\(path)/idDocument: \(idBack.status)")
            #expect(idBack.header(named: "Content-Disposition")?.contains("%E5%BC%A0%E4%B8%89-passport.png") == true)
            #expect(try await stack.call(.get, path + "/affiliation", token: token).status == 404, "not a file")
            #expect(try await stack.call(.get, path + "/nothing", token: token).status == 404)
        }

        // Nobody else: another participant, an organizer of another organization.
        #expect(try await stack.call(.get, "/v1/uploads/\(id.id)", token: b).status == 404)
        #expect(try await stack.call(.get, "/v1/uploads/\(id.id)/content", token: b).status == 404)
        #expect(try await stack.call(.get, mine + "/idDocument", token: b).status == 404)
        #expect(try await stack.call(.get, reviewed + "/idDocument", token: b).status == 404, "a participant is no organizer")
        let otherOrganization = "org-" + UUID().uuidString.prefix(8).lowercased()
        let outsider = try await stack.token(account: UUID().uuidString.lowercased(), organization: otherOrganization,
                                             roles: [.user, .meetingAdmin])
        #expect(try await stack.call(.get, "/v1/organizations/\(otherOrganization)/registrations/\(registration.id)/files/idDocument",
                                     token: outsider).status == 404)
        #expect(try await stack.call(.get, reviewed + "/idDocument", token: outsider).status == 404)

        // Another participant cannot name A's upload, nor slip in a reference of its own making.
        let stolen = try await flow.submit(b, to: conference, answers: [
            "affiliation": "清华大学", "paper": ["uploadId": pdf.id], "idDocument": ["uploadId": UUID().uuidString],
        ])
        #expect(stolen.status == 422)
        #expect(stolen.problem?.code == "registration.invalid_answers")
        #expect(Set(stolen.problem?.errors?.map(\.field) ?? []) == ["paper", "idDocument"])
        #expect(stolen.problem?.errors?.allSatisfy { $0.message.hasPrefix("invalid_file_reference") } == true)
        let forged = try await flow.submit(b, to: conference, answers: [
            "affiliation": "清华大学", "paper": JSONValue.object(paperReference).anyValue,
            "idDocument": JSONValue.object(idReference).anyValue,
        ])
        #expect(forged.status == 422 && Set(forged.problem?.errors?.map(\.field) ?? []) == ["paper", "idDocument"])
        #expect(try await stack.call(.get, "/v1/me/registrations", token: b).decode(ItemList<RegistrationView>.self).items.isEmpty)

        // Changes requested: A resubmits with a new paper (by upload id) and the reviewers see it.
        let base = "/v1/organizations/\(stack.organizationId)/registrations/\(registration.id)"
        let changes = try await stack.call(.post, base + "/review", token: organizer,
                                           body: AccountTests.json(["decision": "request_changes", "comment": "请上传终稿"]))
        #expect(try flow.view(changes).status == "changes_requested")
        let revised = SampleFiles.pdf("revised " + UUID().uuidString)
        let revisedUpload = try await upload(revised, fileName: "final-v2.pdf", declaredType: "application/pdf", token: a)
            .decode(Upload.self)
        let notMine = try await stack.call(.put, "/v1/me/registrations/\(registration.id)/answers", token: a, body: AccountTests.json([
            "answers": ["affiliation": "北京大学", "paper": ["uploadId": revisedUpload.id],
                        "idDocument": ["uploadId": try await upload(SampleFiles.jpeg, fileName: "b.jpg", declaredType: "image/jpeg",
                                                                    token: b).decode(Upload.self).id]],
        ]))
        #expect(notMine.status == 422 && notMine.problem?.errors?.map(\.field) == ["idDocument"])
        // A text file is an accepted upload but not what the paper field allows: registration says so.
        let text = try await upload(Array("just text\n".utf8), fileName: "paper.pdf", declaredType: "application/pdf", token: a)
            .decode(Upload.self)
        #expect(text.contentType == "text/plain" && text.fileName == "paper.pdf.txt")
        let wrongKind = try await stack.call(.put, "/v1/me/registrations/\(registration.id)/answers", token: a, body: AccountTests.json([
            "answers": ["affiliation": "北京大学", "paper": ["uploadId": text.id], "idDocument": ["uploadId": id.id]],
        ]))
        #expect(wrongKind.status == 422 && wrongKind.problem?.errors?.first?.message.hasPrefix("file_type_not_allowed") == true)
        let resubmitted = try await stack.call(.put, "/v1/me/registrations/\(registration.id)/answers", token: a, body: AccountTests.json([
            "answers": ["affiliation": "北京大学", "paper": ["uploadId": revisedUpload.id], "idDocument": ["uploadId": id.id]],
        ]))
        #expect(try flow.view(resubmitted).status == "pending_review")
        #expect(try await stack.call(.get, reviewed + "/paper", token: organizer).body == revised)

        // Neither the document's name nor its content is in any service's log.
        for log in (try? FileManager.default.contentsOfDirectory(atPath: stack.logs)) ?? [] where log.hasSuffix(".log") {
            let text = (try? String(contentsOfFile: stack.logs + "/" + log, encoding: .utf8)) ?? ""
            #expect(!text.contains("张三") && !text.contains(marker), "\(log) mentions the identity document")
        }
    }

    @Test("an upload too large, of a refused kind or not multipart stores nothing; a large upload with an Idempotency-Key is replayed")
    func refusals() async throws {
        let stack = try stack
        let token = try await flow.participant("refused")
        let before = try storedBlobs().count

        let oversized = SampleFiles.pdf() + [UInt8](repeating: 0x20, count: GatewayStack.uploadMaxBytes)
        let tooLarge = try await upload(oversized, fileName: "big.pdf", declaredType: "application/pdf", token: token)
        #expect(tooLarge.status == 413 && tooLarge.problem?.code == "gateway.upload_too_large", "\(tooLarge.status) \(tooLarge.bodyString)")
        // Just over the file limit, within the request's room for framing: refused while reading the part.
        let justOver = SampleFiles.pdf() + [UInt8](repeating: 0x20, count: GatewayStack.uploadMaxBytes - SampleFiles.pdf().count + 1)
        let over = try await upload(justOver, fileName: "big.pdf", declaredType: "application/pdf", token: token)
        #expect(over.status == 413 && over.problem?.code == "gateway.upload_too_large", "\(over.status) \(over.bodyString)")

        for (bytes, name) in [(SampleFiles.elf, "cv.pdf"), (SampleFiles.exe, "setup.pdf")] {
            let refused = try await upload(bytes, fileName: name, declaredType: "application/pdf", token: token)
            #expect(refused.status == 415 && refused.problem?.code == "gateway.upload_type_not_allowed")
            #expect(refused.header(named: "Content-Type") == "application/problem+json")
            #expect(!refused.bodyString.contains(name), "the answer does not echo the file name")
        }
        let notMultipart = try await stack.call(.post, "/v1/uploads", token: token, body: #"{"file": "JVBERi0="}"#)
        #expect(notMultipart.status == 415 && notMultipart.problem?.code == "gateway.unsupported_media_type")
        let badPurpose = try await upload(SampleFiles.pdf(), fileName: "a.pdf", declaredType: "application/pdf", purpose: "secret", token: token)
        #expect(badPurpose.status == 422 && badPurpose.problem?.code == "gateway.invalid_purpose")
        let empty = try await upload([], fileName: "a.pdf", declaredType: "application/pdf", token: token)
        #expect(empty.status == 422 && empty.problem?.code == "gateway.empty_upload")
        #expect(try await stack.call(.post, "/v1/uploads", body: "{}").status == 401)
        #expect(try storedBlobs().count == before, "nothing refused was stored")

        // Above the 2 MiB that JSON requests with an Idempotency-Key may have, below the upload limit.
        let large = SampleFiles.pdf("large " + UUID().uuidString) + [UInt8](repeating: 0x0A, count: 2_500_000)
        let key = [(name: "Idempotency-Key", value: UUID().uuidString)]
        let boundary = "retry-" + UUID().uuidString
        let first = try await upload(large, fileName: "large.pdf", declaredType: "application/pdf", token: token, headers: key,
                                     boundary: boundary)
        #expect(first.status == 201, "\(first.status) \(first.bodyString)")
        // A retry sends the same bytes (the same boundary too).
        let again = try await upload(large, fileName: "large.pdf", declaredType: "application/pdf", token: token, headers: key,
                                     boundary: boundary)
        #expect(again.status == 201 && again.header(named: "Idempotent-Replayed") == "true", "\(again.status) \(again.bodyString)")
        let otherFile = try await upload(large + [0x0A], fileName: "large.pdf", declaredType: "application/pdf", token: token,
                                         headers: key, boundary: boundary)
        #expect(otherFile.status == 422 && otherFile.problem?.code == "gateway.idempotency_key_reused")
        #expect(try again.decode(Upload.self).id == first.decode(Upload.self).id)
        #expect(try await stack.call(.get, "/v1/uploads/\(first.decode(Upload.self).id)/content", token: token).body == large)
    }
}
}

extension JSONValue {
    /// As the `[String: Any]` that `AccountTests.json` serializes.
    var anyValue: Any {
        switch self {
        case .null: NSNull()
        case .bool(let value): value
        case .number(let value): value
        case .string(let value): value
        case .array(let list): list.map(\.anyValue)
        case .object(let object): object.mapValues(\.anyValue)
        }
    }
}
