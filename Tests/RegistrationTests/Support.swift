import Contracts
import Foundation
@testable import Registration

func date(_ text: String) -> Date {
    guard let date = ISO8601.parse(text) else { fatalError("not an ISO-8601 date-time: \(text)") }
    return date
}

func cny(_ minor: Int64) -> Money { try! Money(amountMinor: minor, currency: "CNY") }

/// The code of the `ConveneError` the body throws, nil when it does not throw, the description
/// of any other error.
func errorCode(_ body: () throws -> some Any) -> String? {
    do {
        _ = try body()
        return nil
    } catch let error as ConveneError {
        return error.code
    } catch {
        return "\(error)"
    }
}

/// SplitMix64: a small seeded generator, so a failing random sequence can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
