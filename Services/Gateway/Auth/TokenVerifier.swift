import Contracts
import JWTKit

/// Checks an access token and says who it speaks for. The algorithm is fixed (HS256 with the
/// gateway's key): a token's own `alg` is only compared with it, never obeyed, so a token "signed"
/// with `none`, with another algorithm or with another key is refused. `exp` is required and
/// checked, `iss` must be the configured issuer and `aud` must name the configured audience.
struct TokenVerifier: Sendable {
    /// Why a token was refused: for logs and tests, never for the caller.
    enum Rejection: Error, Equatable, CustomStringConvertible {
        case malformed
        case algorithm(String)
        case signature
        case expired
        case notYetValid
        case issuer
        case audience
        case claims(String)

        var description: String {
            switch self {
            case .malformed: "malformed token"
            case .algorithm(let alg): "algorithm \(alg) is not accepted"
            case .signature: "signature does not verify"
            case .expired: "token expired"
            case .notYetValid: "token not yet valid"
            case .issuer: "unexpected issuer"
            case .audience: "not intended for this audience"
            case .claims(let problem): problem
            }
        }
    }

    /// Longer tokens are refused before any parsing.
    static let maximumLength = 8192

    let keys: TokenKeys

    init(keys: TokenKeys) { self.keys = keys }
    init(settings: TokenSettings) { keys = TokenKeys(settings) }

    func verify(_ token: String) async throws(Rejection) -> Principal {
        guard !token.isEmpty, token.utf8.count <= Self.maximumLength else { throw .malformed }
        let header = try Self.header(of: token)
        guard header.alg == TokenKeys.algorithm else { throw .algorithm(header.alg ?? "(none given)") }
        // No critical header extension is understood here (RFC 7515 §4.1.11).
        guard header.crit == nil else { throw .malformed }

        let claims: AccessClaims
        do {
            claims = try await keys.keys.verify(token, as: AccessClaims.self)
        } catch let error as JWTError {
            throw Self.rejection(for: error)
        } catch {
            throw .malformed
        }
        guard claims.iss.value == keys.settings.issuer else { throw .issuer }
        guard claims.aud.value.contains(keys.settings.audience) else { throw .audience }
        guard (1...200).contains(claims.sub.value.count) else { throw .claims("sub must be 1 to 200 characters") }
        if let org = claims.org, !(1...200).contains(org.count) { throw .claims("org must be 1 to 200 characters") }
        return Principal(accountId: claims.sub.value, organizationId: claims.org,
                         roles: Set(claims.roles.compactMap(Principal.Role.init(rawValue:))),
                         email: claims.email.flatMap { $0.isEmpty ? nil : $0 },
                         locale: claims.locale.flatMap { $0.isEmpty ? nil : $0 })
    }

    private struct Header: Decodable {
        var alg: String?
        var crit: [String]?
    }

    /// The JOSE header, read only to compare its `alg` with the one algorithm accepted.
    private static func header(of token: String) throws(Rejection) -> Header {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let bytes = Base64URL.decode(segments[0]) else { throw .malformed }
        do {
            return try ConveneJSON.decode(Header.self, from: bytes)
        } catch {
            throw .malformed
        }
    }

    private static func rejection(for error: JWTError) -> Rejection {
        switch error.errorType {
        case .signatureVerificationFailed: return .signature
        case .claimVerificationFailure:
            if error.failedClaim is ExpirationClaim { return .expired }
            if error.failedClaim is NotBeforeClaim { return .notYetValid }
            return .claims(error.reason ?? "claim refused")
        default: return .malformed
        }
    }
}

/// Base64url without padding (RFC 4648 §5), as JWTs use it.
enum Base64URL {
    static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        switch base64.utf8.count % 4 {
        case 2: base64 += "=="
        case 3: base64 += "="
        case 1: return nil
        default: break
        }
        return Data(base64Encoded: base64).map(Array.init)
    }

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
