import Foundation

/// Access tokens per organization and credentials, reused until shortly before they expire.
/// Callers asking at the same time for a token not yet cached share one request.
actor TokenCache {
    private struct Entry {
        var token: String
        var expiresAt: ContinuousClock.Instant
    }

    private var entries: [String: Entry] = [:]
    private var inFlight: [String: Task<(String, Duration), any Error>] = [:]
    private let renewBefore: Duration

    init(renewBefore: Duration) {
        self.renewBefore = renewBefore
    }

    /// The cached token for `key`, or a new one from `fetch` (the token and how long it lives).
    func token(for key: String,
               fetch: @escaping @Sendable () async throws(PlatformFailure) -> (String, Duration)) async throws(PlatformFailure) -> String {
        if let entry = entries[key], ContinuousClock.now < entry.expiresAt { return entry.token }
        let task: Task<(String, Duration), any Error>
        if let running = inFlight[key] {
            task = running
        } else {
            task = Task { try await fetch() }
            inFlight[key] = task
        }
        do {
            let (token, lifetime) = try await task.value
            if inFlight[key] == task {
                inFlight[key] = nil
                // Renewed `renewBefore` ahead of expiry, or half-way for short-lived tokens.
                let keep = lifetime > renewBefore * 2 ? lifetime - renewBefore : lifetime / 2
                entries[key] = Entry(token: token, expiresAt: ContinuousClock.now + keep)
            }
            return token
        } catch {
            if inFlight[key] == task { inFlight[key] = nil }
            if let failure = error as? PlatformFailure { throw failure }
            throw .transient("token request failed: \(error)")
        }
    }

    /// Forgets a token the platform no longer accepts.
    func invalidate(_ key: String, token: String) {
        if entries[key]?.token == token { entries[key] = nil }
    }
}
