import Hummingbird
import MultipartKit

/// A `multipart/form-data` upload as read from the request: one file part and a few short text
/// fields. The body is read as it arrives and refused (413) as soon as it is larger than the
/// file limit allows, so an oversized upload is never held in full.
struct MultipartUpload {
    var file: [UInt8]
    /// The name the client gave the file part (`filename`, `filename*`), unchecked.
    var fileName: String?
    var fields: [String: String]

    /// Room for the parts' headers, boundaries and text fields beside the file.
    static let overheadBytes = 64 * 1024
    static let maximumFieldBytes = 1024

    /// Reads the upload: `filePart` is the name of the file part, `fieldNames` the text parts
    /// allowed beside it. Problems: not multipart 415, too large 413, malformed 400, an unknown
    /// part, a field too long or no file 422.
    static func read(_ request: Request, filePart: String, fieldNames: Set<String>, maxFileBytes: Int) async throws -> MultipartUpload {
        guard let contentType = request.headers[.contentType], let boundary = MultipartHeaders.boundary(contentType: contentType) else {
            throw Problem(.unsupportedMediaType, code: "gateway.unsupported_media_type",
                          detail: "an upload must be multipart/form-data with a boundary")
        }
        let maxBodyBytes = maxFileBytes + overheadBytes
        let tooLarge = Problem(.contentTooLarge, code: "gateway.upload_too_large",
                               detail: "the file is larger than \(maxFileBytes) bytes")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes { throw tooLarge }

        let collector = Collector(filePart: filePart, fieldNames: fieldNames, maxFileBytes: maxFileBytes, tooLarge: tooLarge)
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in collector.header(name, value) }
        parser.onBody = { buffer in collector.body(buffer) }
        parser.onPartComplete = { collector.complete() }
        var total = 0
        for try await chunk in request.body {
            total += chunk.readableBytes
            guard total <= maxBodyBytes else { throw tooLarge }
            do { try parser.execute(chunk) } catch { throw malformed }
            if let problem = collector.problem { throw problem }
        }
        guard collector.completedParts > 0, !collector.inPart else { throw malformed }
        guard let file = collector.file else {
            throw Problem(.unprocessableContent, code: "gateway.upload_file_required",
                          detail: "the upload needs a part named \"\(filePart)\" with the file")
        }
        return MultipartUpload(file: file, fileName: collector.fileName, fields: collector.fields)
    }

    static let malformed = Problem(.badRequest, code: "gateway.malformed_multipart",
                                   detail: "the request body is not well-formed multipart/form-data")

    /// What the parser's callbacks found, part by part. Used by one request only.
    private final class Collector {
        let filePart: String
        let fieldNames: Set<String>
        let maxFileBytes: Int
        let tooLarge: Problem

        var problem: Problem?
        var file: [UInt8]?
        var fileName: String?
        var fields: [String: String] = [:]
        var completedParts = 0
        var inPart = false

        private var headers: [(String, String)] = []
        private var current: Target?
        private var bytes: [UInt8] = []

        enum Target { case file, field(String) }

        init(filePart: String, fieldNames: Set<String>, maxFileBytes: Int, tooLarge: Problem) {
            self.filePart = filePart
            self.fieldNames = fieldNames
            self.maxFileBytes = maxFileBytes
            self.tooLarge = tooLarge
        }

        func header(_ name: String, _ value: String) {
            inPart = true
            headers.append((name, value))
        }

        func body(_ buffer: ByteBuffer) {
            inPart = true
            guard problem == nil, let target = target() else { return }
            let limit: Int
            switch target {
            case .file: limit = maxFileBytes
            case .field: limit = maximumFieldBytes
            }
            guard bytes.count + buffer.readableBytes <= limit else {
                if case .field(let name) = target {
                    fail(Problem(.unprocessableContent, code: "gateway.invalid_body", detail: "the part \"\(name)\" is too long"))
                } else {
                    fail(tooLarge)
                }
                return
            }
            bytes.append(contentsOf: buffer.readableBytesView)
        }

        func complete() {
            defer {
                headers = []
                current = nil
                bytes = []
                inPart = false
            }
            completedParts += 1
            guard problem == nil, let target = target() else { return }
            switch target {
            case .file:
                file = bytes
            case .field(let name):
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    return fail(Problem(.unprocessableContent, code: "gateway.invalid_body", detail: "the part \"\(name)\" is not UTF-8 text"))
                }
                fields[name] = text
            }
        }

        /// What the current part is, decided from its headers when its body starts.
        private func target() -> Target? {
            if let current { return current }
            let disposition = headers.last { $0.0.lowercased() == "content-disposition" }.map { MultipartHeaders.disposition($0.1) }
            guard let disposition, disposition.type == "form-data", let name = disposition.name else {
                fail(MultipartUpload.malformed)
                return nil
            }
            if name == filePart {
                guard file == nil else {
                    fail(Problem(.unprocessableContent, code: "gateway.invalid_body", detail: "an upload carries one file"))
                    return nil
                }
                fileName = disposition.fileName
                current = .file
            } else if fieldNames.contains(name) {
                guard fields[name] == nil else {
                    fail(Problem(.unprocessableContent, code: "gateway.invalid_body", detail: "the part \"\(name)\" is repeated"))
                    return nil
                }
                current = .field(name)
            } else {
                fail(Problem(.unprocessableContent, code: "gateway.unknown_field", detail: "unknown part: \(String(name.prefix(64)))"))
                return nil
            }
            return current
        }

        private func fail(_ problem: Problem) {
            if self.problem == nil { self.problem = problem }
        }
    }
}
