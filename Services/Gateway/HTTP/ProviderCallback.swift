import Contracts
import Foundation
import HTTPTypes
import Hummingbird

/// What the gateway does for every provider's callback (payment providers, meeting platforms):
/// it reads nothing itself, hands the raw bytes and headers to the owning service, which checks
/// the signature over exactly those bytes, and answers the provider with what the service says.
enum ProviderCallbackForwarding {
    /// Provider notifications are small; anything larger is not one.
    static let maximumBytes = 64 * 1024

    /// The headers as name/value pairs and the raw body, base64: the body's bytes exactly as
    /// they arrived, since signatures are over them.
    static func raw(_ request: Request) async throws -> (headers: [[String]], body: String) {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maximumBytes)
        } catch {
            throw Problem(.contentTooLarge, code: "gateway.body_too_large", detail: "a callback is at most 64 KiB")
        }
        return (request.headers.map { [$0.name.canonicalName, $0.value] }, Data(body.readableBytesView).base64EncodedString())
    }

    /// The service's answer as the provider expects it: status, content type and body bytes.
    static func response(_ answer: CallbackAnswer) -> Response {
        var fields = HTTPFields()
        if let type = answer.contentType { fields[.contentType] = type }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: fields,
                        body: .init(byteBuffer: ByteBuffer(bytes: Data(base64Encoded: answer.body) ?? Data())))
    }
}
