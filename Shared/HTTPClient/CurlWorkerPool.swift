/// A fixed set of `CurlWorker`s, each with its own thread and easy handle.
///
/// A transfer goes to the worker with the fewest transfers in flight (ties broken round-robin),
/// so one slow request does not queue the next behind it while another worker is idle. When
/// every worker is busy, the transfer queues on the least-loaded worker's actor.
final class CurlWorkerPool: Sendable {
    private struct Load: Sendable {
        var inFlight: [Int]
        var next = 0
    }

    let workers: [CurlWorker]
    private let load: Locked<Load>

    init(size: Int, name: String) {
        let count = max(1, size)
        workers = (0..<count).map { CurlWorker(name: "\(name)-\($0)") }
        load = Locked(Load(inFlight: Array(repeating: 0, count: count)))
    }

    func withWorker<Result>(_ body: (CurlWorker) async throws -> Result) async rethrows -> Result {
        let index = acquire()
        defer { release(index) }
        return try await body(workers[index])
    }

    private func acquire() -> Int {
        load.withLock { load in
            let count = load.inFlight.count
            var best = load.next % count
            for step in 1..<max(count, 1) {
                let candidate = (load.next + step) % count
                if load.inFlight[candidate] < load.inFlight[best] { best = candidate }
            }
            load.inFlight[best] += 1
            load.next = (best + 1) % count
            return best
        }
    }

    private func release(_ index: Int) {
        load.withLock { $0.inFlight[index] -= 1 }
    }
}
