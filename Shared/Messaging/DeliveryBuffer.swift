import Synchronization

/// Deliveries handed from a consumer's connection thread to the task that dispatches them.
/// Unlike an `AsyncStream`, a reader takes everything that piled up (up to a limit) at once: while
/// all handlers are busy, deliveries accumulate, and the next free handler gets them as one batch.
final class DeliveryBuffer: Sendable {
    private struct State {
        var items: [Delivery] = []
        var head = 0
        var finished = false
        var waiter: (max: Int, continuation: CheckedContinuation<[Delivery], Never>)?

        mutating func take(_ max: Int) -> [Delivery] {
            let end = min(items.count, head + max)
            let taken = Array(items[head..<end])
            head = end
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            }
            return taken
        }
    }

    private let state = Mutex(State())

    /// Called by the connection thread.
    func push(_ deliveries: [Delivery]) {
        guard !deliveries.isEmpty else { return }
        let resume: (CheckedContinuation<[Delivery], Never>, [Delivery])? = state.withLock { state in
            state.items.append(contentsOf: deliveries)
            guard let waiter = state.waiter else { return nil }
            state.waiter = nil
            return (waiter.continuation, state.take(waiter.max))
        }
        if let (continuation, taken) = resume { continuation.resume(returning: taken) }
    }

    /// No more deliveries: a waiting or later `take` returns what is left, then `[]`.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[Delivery], Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume(returning: [])
    }

    /// Up to `max` deliveries, waiting for the first if there are none; `[]` once finished and
    /// drained, or when the waiting task is cancelled. One reader at a time.
    func take(max: Int) async -> [Delivery] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: [Delivery]? = state.withLock { state in
                    if state.head < state.items.count { return state.take(max) }
                    // Checked under the lock that onCancel takes, so a cancellation is never missed.
                    if state.finished || Task.isCancelled { return [] }
                    state.waiter = (max, continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<[Delivery], Never>? in
                defer { state.waiter = nil }
                return state.waiter?.continuation
            }
            waiter?.resume(returning: [])
        }
    }
}
