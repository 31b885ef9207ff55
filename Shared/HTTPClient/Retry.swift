/// Runs `operation` until it succeeds, fails with an error `isTransient` rejects, has made
/// `policy.maxAttempts` attempts, or the next wait would end past `policy.overallTimeout`;
/// then rethrows the last error. Waits with `Task.sleep`, which does not block a thread, and
/// stops with `CancellationError` when the task is cancelled.
///
/// `operation` should bound its own duration by `attempt.remaining` (as `RetryingHTTPClient`
/// does) so that one attempt cannot overrun the budget.
public func withRetry<Result>(
    policy: RetryPolicy,
    isolation: isolated (any Actor)? = #isolation,
    isTransient: (any Error) -> Bool = { ($0 as? HTTPClientError)?.isTransient ?? false },
    onRetry: (_ failedAttempt: RetryAttempt, _ error: any Error, _ delay: Duration) -> Void = { _, _, _ in },
    operation: (RetryAttempt) async throws -> Result
) async throws -> Result {
    let clock = ContinuousClock()
    let deadline = policy.overallTimeout.map { clock.now.advanced(by: $0) }
    var number = 1
    while true {
        let attempt = RetryAttempt(number: number, deadline: deadline)
        do {
            return try await operation(attempt)
        } catch {
            if error is CancellationError || Task.isCancelled { throw error }
            guard number < policy.maxAttempts, isTransient(error) else { throw error }
            let delay = policy.delay(afterAttempt: number, random: Double.random(in: 0...1))
            if let deadline, clock.now.advanced(by: delay) >= deadline { throw error }
            onRetry(attempt, error, delay)
            try await Task.sleep(for: delay)
            number += 1
        }
    }
}
