import Foundation
import Persistence

/// Stored first answers of POST requests that carried an `Idempotency-Key`.
struct IdempotencyStore: Sendable {
    /// How long an answer is replayed.
    var retention: TimeInterval = 24 * 3600
    /// A claim older than this whose answer never came (the gateway stopped mid-request) is
    /// taken over by the next attempt.
    var abandonAfter: TimeInterval = 5 * 60

    struct StoredResponse: Sendable, Equatable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    enum Claim: Sendable, Equatable {
        /// The caller goes ahead and must `complete` or `release` the key.
        case claimed
        /// The first request with this key is still running.
        case inFlight
        /// The key was used for a different request.
        case mismatch
        case replay(StoredResponse)
    }

    func claim(scope: String, key: String, fingerprint: [UInt8], in tx: Transaction) async throws -> Claim {
        // A row past its retention, or claimed and abandoned, is replaced.
        let inserted = try await tx.query("""
            INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3)
            ON CONFLICT (scope, key) DO UPDATE SET fingerprint = $3, created_at = now(), completed_at = NULL,
                status = NULL, headers = NULL, body = NULL
            WHERE idempotency_keys.created_at < now() - make_interval(secs => $4)
               OR (idempotency_keys.completed_at IS NULL AND idempotency_keys.created_at < now() - make_interval(secs => $5))
            """, [scope, key, fingerprint, Int(retention), Int(abandonAfter)]).affectedRows
        if inserted == 1 { return .claimed }
        guard let row = try await tx.query("SELECT * FROM idempotency_keys WHERE scope = $1 AND key = $2", [scope, key]).first else {
            return .inFlight
        }
        guard try row.bytes("fingerprint") == fingerprint else { return .mismatch }
        guard !row.isNull("completed_at") else { return .inFlight }
        let headers = try row["headers"].map { try ConveneJSONHeaders.decode($0) } ?? [:]
        return .replay(StoredResponse(status: try row.int("status"), headers: headers, body: try row.bytes("body")))
    }

    func complete(scope: String, key: String, response: StoredResponse, in tx: Transaction) async throws {
        try await tx.query("""
            UPDATE idempotency_keys SET completed_at = now(), status = $3, headers = $4::jsonb, body = $5
            WHERE scope = $1 AND key = $2
            """, [scope, key, response.status, try ConveneJSONHeaders.encode(response.headers), response.body])
    }

    /// Forgets the claim, so a retry runs the request again (after a failure on our side).
    func release(scope: String, key: String, in tx: Transaction) async throws {
        try await tx.query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND completed_at IS NULL", [scope, key])
    }

    func prune(in tx: Transaction) async throws -> Int {
        try await tx.query("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
                           [Int(retention)]).affectedRows
    }
}

/// The stored headers as a JSON object.
enum ConveneJSONHeaders {
    static func encode(_ headers: [String: String]) throws -> String {
        String(decoding: try JSONEncoder().encode(headers), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }
}
