import HummingbirdBcrypt
import NIOPosix

/// bcrypt hashing off the cooperative pool: one hash at cost 12 is a quarter of a second of CPU,
/// which would stall every other request if it ran on one of Swift's few cooperative threads.
struct PasswordHasher: Sendable {
    /// log2 of the work factor (`PASSWORD_HASH_COST`, at least 12).
    var cost: UInt8

    /// A valid bcrypt hash of a random password, verified against when an email is unknown so
    /// that a sign-in takes as long whether or not the account exists.
    let decoy: String

    init(cost: UInt8) {
        self.cost = cost
        decoy = Bcrypt.hash(OpaqueToken.generate(prefix: ""), cost: cost)
    }

    func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, against hash: String?) async throws -> Bool {
        let stored = hash ?? decoy
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: stored) }
        return matches && hash != nil
    }
}
