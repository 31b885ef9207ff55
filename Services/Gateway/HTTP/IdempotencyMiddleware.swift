import Crypto
import HTTPTypes
import Hummingbird
import Logging
import Persistence

/// `Idempotency-Key` on POST: the first answer (success or a 4xx) is stored and replayed, with
/// `Idempotent-Replayed: true`, to any retry with the same key by the same caller for 24 hours.
/// While the first request runs, a retry gets 409; the same key with a different request 422.
/// An answer of 5xx is not stored, so the retry runs again.
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let pool: PGPool
    let store: IdempotencyStore
    /// The largest body fingerprinted; a larger one is refused with 413.
    var maximumBodyBytes: Int
    /// Paths whose bodies may be larger, and how large (`POST /v1/uploads`: the upload limit).
    /// Their bodies are held in memory while the request runs, as every fingerprinted body is.
    var largeBodies: [String: Int] = [:]

    /// Headers worth replaying.
    static let replayedHeaders: [HTTPField.Name] = [.contentType, .location, .cacheControl, .retryAfter]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let key = request.headers[.idempotencyKey] else {
            return try await next(request, context)
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw Problem(.badRequest, code: "gateway.invalid_idempotency_key",
                          detail: "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)")
        }
        var request = request
        let limit = largeBodies[request.uri.path] ?? maximumBodyBytes
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw Problem(.contentTooLarge, code: "gateway.body_too_large", detail: "the request body is larger than \(limit) bytes")
        }
        let scope = context.principal?.callerKey ?? "anonymous"
        let fingerprint = Self.fingerprint(request, body: body)

        let claim = try await pool.withTransaction { tx in
            try await store.claim(scope: scope, key: key, fingerprint: fingerprint, in: tx)
        }
        switch claim {
        case .inFlight:
            throw Problem(.conflict, code: "gateway.idempotency_in_flight",
                          detail: "a request with this Idempotency-Key is still being processed; retry shortly",
                          headers: [.retryAfter: "1"])
        case .mismatch:
            throw Problem(.unprocessableContent, code: "gateway.idempotency_key_reused",
                          detail: "this Idempotency-Key was used for a different request")
        case .replay(let stored):
            return Self.response(stored)
        case .claimed:
            break
        }

        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            // A refusal, the gateway's own or a service's (`ConveneError`), is the request's answer
            // and is kept like a success; anything else may pass, so the key is freed for a retry.
            let problem = Problem.from(error)
            guard problem.status.code < 500 else {
                try? await pool.withTransaction { tx in try await store.release(scope: scope, key: key, in: tx) }
                throw error
            }
            response = problem.response()
        }
        guard response.status.code < 500 else {
            try? await pool.withTransaction { tx in try await store.release(scope: scope, key: key, in: tx) }
            return response
        }
        let stored = try await Self.capture(response)
        try await pool.withTransaction { tx in try await store.complete(scope: scope, key: key, response: stored, in: tx) }
        return Self.response(stored, replayed: false)
    }

    static func fingerprint(_ request: Request, body: ByteBuffer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array("\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")\n".utf8))
        hasher.update(data: Array((request.headers[.contentType] ?? "").utf8) + [0x0A])
        hasher.update(data: Array(body.readableBytesView))
        return Array(hasher.finalize())
    }

    static func capture(_ response: Response) async throws -> IdempotencyStore.StoredResponse {
        let writer = CollectingWriter()
        try await response.body.write(writer.erased)
        var headers: [String: String] = [:]
        for name in replayedHeaders {
            if let value = response.headers[name] { headers[name.canonicalName] = value }
        }
        return .init(status: Int(response.status.code), headers: headers, body: await writer.box.bytes)
    }

    static func response(_ stored: IdempotencyStore.StoredResponse, replayed: Bool = true) -> Response {
        var headers = HTTPFields()
        for (name, value) in stored.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        if replayed { headers[.idempotentReplayed] = "true" }
        return Response(status: HTTPResponse.Status(code: stored.status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
    }
}

/// Gathers a response body in memory (the gateway's answers are small JSON documents).
private struct CollectingWriter {
    actor Box {
        var bytes: [UInt8] = []
        func append(_ buffer: ByteBuffer) { bytes.append(contentsOf: buffer.readableBytesView) }
    }

    struct Writer: ResponseBodyWriter {
        let box: Box
        mutating func write(_ buffer: ByteBuffer) async throws { await box.append(buffer) }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    let box = Box()
    var erased: any ResponseBodyWriter { Writer(box: box) }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
