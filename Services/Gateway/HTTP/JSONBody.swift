import Contracts
import Hummingbird
import Messaging

/// A request body the gateway accepts: decoded into an explicit struct whose coding keys are the
/// only documented fields. Any other key is refused (no mass assignment).
protocol JSONRequestBody: Decodable, Sendable {
    associatedtype Fields: CodingKey & CaseIterable
}

extension JSONRequestBody {
    static var fieldNames: Set<String> { Set(Fields.allCases.map(\.stringValue)) }
}

/// Reads and checks JSON request bodies: at most 64 KiB (413), well-formed JSON (400), an object
/// with documented fields only (422), fields of the right types (422).
enum JSONBody {
    static let maximumBytes = 64 * 1024

    static func decode<Body: JSONRequestBody>(_ type: Body.Type, from request: Request) async throws -> Body {
        let bytes = try await read(request)
        let value: JSONValue
        do {
            value = try ConveneJSON.decode(JSONValue.self, from: bytes)
        } catch {
            throw Problem(.badRequest, code: "gateway.malformed_json", detail: "the request body is not valid JSON")
        }
        guard case .object(let object) = value else {
            throw Problem(.unprocessableContent, code: "gateway.invalid_body", detail: "the request body must be a JSON object")
        }
        let unknown = Set(object.keys).subtracting(Body.fieldNames)
        guard unknown.isEmpty else {
            throw Problem(.unprocessableContent, code: "gateway.unknown_field",
                          detail: "unknown field\(unknown.count == 1 ? "" : "s"): \(unknown.sorted().joined(separator: ", "))")
        }
        do {
            return try ConveneJSON.decode(Body.self, from: bytes)
        } catch {
            throw Problem(.unprocessableContent, code: "gateway.invalid_body", detail: MessageConsumer.describe(error))
        }
    }

    /// The body's bytes; refused as soon as it is known to be larger than `maximumBytes`.
    static func read(_ request: Request) async throws -> [UInt8] {
        if let type = request.headers[.contentType], !isJSON(type) {
            throw Problem(.unsupportedMediaType, code: "gateway.unsupported_media_type",
                          detail: "the request body must be application/json")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBytes {
            throw tooLarge
        }
        var bytes: [UInt8] = []
        for try await chunk in request.body {
            guard bytes.count + chunk.readableBytes <= maximumBytes else { throw tooLarge }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        guard !bytes.isEmpty else {
            throw Problem(.badRequest, code: "gateway.malformed_json", detail: "a JSON request body is required")
        }
        return bytes
    }

    static let tooLarge = Problem(.contentTooLarge, code: "gateway.body_too_large",
                                  detail: "the request body is larger than \(maximumBytes / 1024) KiB")

    /// `application/json` or any `+json` type, parameters (charset) ignored.
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }
}
