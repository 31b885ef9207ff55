import Foundation

/// Arrivals at a fixed rate that do not wait for answers (an open loop, as real participants
/// arrive): arrival `index` is due at the start + index / rate, and `attempt(index)` answers
/// whether it succeeded. A slow answer does not slow the arrivals down, so a path that cannot
/// keep up shows a growing backlog in its latencies.
struct OpenLoop {
    let rate: Int
    let count: Int

    struct Outcome {
        var succeeded: Int
        var failed: Int
        /// Successes per second, from the first arrival to the last answer.
        var rate: Double
        /// Of the successes, sorted.
        var latencies: [Duration]

        /// Milliseconds, one decimal; "–" without successes.
        func percentile(_ p: Double) -> String {
            guard !latencies.isEmpty else { return "–" }
            let value = latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
            return String(format: "%.1f", Double(value.components.attoseconds) / 1e15 + Double(value.components.seconds) * 1000)
        }

        /// The table's last four cells: successes, per second, p50 and p99.
        var cells: String {
            "\(succeeded) | \(String(format: "%.0f", rate)) | \(percentile(0.5)) | \(percentile(0.99)) |"
        }
    }

    func run(_ attempt: @escaping @Sendable (Int) async -> Bool) async -> Outcome {
        let interval = Duration.seconds(1) / rate
        let started = ContinuousClock.now
        let results = await withTaskGroup(of: (Duration, Bool).self) { group in
            for index in 0..<count {
                let due = started.advanced(by: interval * index)
                if due > ContinuousClock.now { try? await Task.sleep(until: due) }
                group.addTask {
                    let sent = ContinuousClock.now
                    let ok = await attempt(index)
                    return (ContinuousClock.now - sent, ok)
                }
            }
            return await group.reduce(into: [(Duration, Bool)]()) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - started
        let succeeded = results.filter(\.1)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Outcome(succeeded: succeeded.count, failed: results.count - succeeded.count,
                       rate: Double(succeeded.count) / seconds, latencies: succeeded.map(\.0).sorted())
    }
}
