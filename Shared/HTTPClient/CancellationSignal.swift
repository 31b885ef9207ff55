import CCurl

/// Set from a task-cancellation handler (any thread), read by libcurl's progress callback on the
/// worker thread: a cancelled `execute` / `send` aborts its blocking transfer at the next
/// progress tick instead of holding the worker until the timeout.
final class CancellationSignal: Sendable {
    private let state = Locked(false)

    var isCancelled: Bool { state.withLock { $0 } }

    func cancel() { state.withLock { $0 = true } }
}

/// Runs `operation` so that cancelling the current task raises `signal`.
func withCancellationSignal<Result>(
    _ operation: (CancellationSignal) async throws -> Result
) async throws -> Result {
    try Task.checkCancellation()
    let signal = CancellationSignal()
    return try await withTaskCancellationHandler {
        try await operation(signal)
    } onCancel: {
        signal.cancel()
    }
}

extension CancellationSignal {
    /// Unretained: the transfer keeps the signal alive while libcurl may call back.
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }
}

/// `CURLOPT_XFERINFOFUNCTION` with a `CancellationSignal` as `CURLOPT_XFERINFODATA`. libcurl calls
/// it about once a second, and more often while data flows; a non-zero return aborts the
/// transfer with `CURLE_ABORTED_BY_CALLBACK`.
func cancellationProgressCallback(
    _ userdata: UnsafeMutableRawPointer?, _ downloadTotal: curl_off_t, _ downloaded: curl_off_t,
    _ uploadTotal: curl_off_t, _ uploaded: curl_off_t
) -> Int32 {
    guard let userdata else { return 0 }
    return Unmanaged<CancellationSignal>.fromOpaque(userdata).takeUnretainedValue().isCancelled ? 1 : 0
}
