import JWTKit

/// The one HS256 key of access tokens, in jwt-kit's key collection. The collection is an actor
/// that is filled asynchronously; the task does it once and every user awaits the same value.
struct TokenKeys: Sendable {
    let settings: TokenSettings
    private let collection: Task<JWTKeyCollection, Never>

    init(_ settings: TokenSettings) {
        self.settings = settings
        let secret = settings.secret
        collection = Task {
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            return keys
        }
    }

    var keys: JWTKeyCollection { get async { await collection.value } }

    /// The only algorithm accepted, whatever a token's header says.
    static let algorithm = "HS256"
}
