import Contracts
import Hummingbird

/// JSON answers in Convene's dialect (sorted keys, ISO-8601 dates), never cached: they are one
/// caller's data and may carry a secret shown once.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try ConveneJSON.encode(value))))
    }

    static func noContent() -> Response {
        Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }
}

/// A list answered as `{"items": […]}`, so that paging or totals can be added later.
struct ItemList<Item: Codable & Sendable>: Codable, Sendable {
    var items: [Item]
}
